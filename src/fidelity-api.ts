/**
 * Fidelity by distance's public face: the server's figures (see README "Fidelity by distance").
 *
 * @example
 * const s = fidelityStatsOf(serverWorld);
 * if (s !== null) console.log(s.sentByLevel, s.refinements);
 */
import { getNetContext } from './context.ts';
import { usageError } from './errors.ts';
import type { FidelityCounters } from './replication/fidelity.ts';

/** Server figures of the fidelity levels: updates per level, coarse updates, refinements, held-back ticks. */
export type FidelityStats = FidelityCounters;

/** Figures of the server's fidelity levels; null when the server has none. Throws `Usage` on a client world. */
export function fidelityStatsOf(world: object): FidelityStats | null {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server') usageError('fidelityStatsOf is for the server world', 'call it with the server world');
  const f = ctx.replicator.fidelity;
  return f === null ? null : { ...f.counters, sentByLevel: [...f.counters.sentByLevel] };
}
