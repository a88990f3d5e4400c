/**
 * Short strings' public face: fitting user input to a field and the figures of the reliable lane they travel in.
 *
 * @example
 * const Label = { name: [] as string[] };
 * registerComponent(protocol, Label, { name: 'Label', fields: { name: field.shortString(32) } });
 * Label.name[eid] = fitShortString(userInput, 32); // over 32 UTF-8 bytes would be refused, not cut
 * shortStringStatsOf(world); // { reliableDeltas, invalidStrings, deferred }
 */
import { getNetContext } from './context.ts';

export { fitShortString, MAX_SHORT_STRING_BYTES, utf8ByteLength } from './codec/short-string.ts';

/** Figures of one peer's short-string replication. */
export interface ShortStringStats {
  /** Reliable Deltas this peer queued (changes of components with a short-string field). */
  reliableDeltas: number;
  /** Local writes to a short-string field refused (not a string, or over its maxBytes): reported as InvalidString. */
  invalidStrings: number;
  /** Server: client sends on which string changes waited for bandwidth (at most half the per-client cap is theirs). */
  deferred: number;
}

/** Server or client: reliable Deltas of string components sent, local writes refused, sends held back by bandwidth. */
export function shortStringStatsOf(world: object): ShortStringStats {
  const rep = getNetContext(world).replicator;
  return {
    reliableDeltas: rep.counters.reliableDeltas,
    invalidStrings: rep.shadow.invalidStrings,
    deferred: rep.reliableLane?.deferred ?? 0,
  };
}
