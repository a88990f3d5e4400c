/**
 * Helpers that turn a connected client world into an attacker: they write hostile messages straight into its
 * connection, the way a modified browser client could. Reusable by the bench's attack family.
 *
 * Drive a ResyncRequest flood: connect a client, then every frame call `floodResyncRequests(world, n)` (each
 * request asks for every bucket: a whole-state rebuild before the budget existed).
 * Drive a command-state flood: create the client's authority layer with the target's command types, then call
 * `floodCommandTargets(authority, type, prefix, count, payload)` once the client is connected (one fresh target
 * per entry, each signed with the client's own key, so the server sequences them like honest entries).
 */
import { getNetContext } from '../../src/context.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { beginMessage, BitWriter } from '../../src/replication/wire-bodies.ts';
import type { ClientAuthority } from '../../src/authority/client-authority.ts';

/** Every hash bucket (64): the largest rebuild one ResyncRequest can ask for. */
export const ALL_BUCKETS: readonly [number, number] = [0xffffffff, 0xffffffff];

/** Sends `count` ResyncRequests for `buckets` on the client world's connection; false when it has none. */
export function floodResyncRequests(
  clientWorld: object,
  count: number,
  buckets: readonly [number, number] = ALL_BUCKETS,
): boolean {
  const ctx = getNetContext(clientWorld);
  const conn = ctx.role === 'client' ? ctx.session.connection : null;
  if (!conn || !conn.isOpen) return false;
  const w = new BitWriter(16);
  for (let i = 0; i < count; i++) {
    beginMessage(w, Tag.ResyncRequest);
    w.writeU32(buckets[0] >>> 0);
    w.writeU32(buckets[1] >>> 0);
    conn.sendReliable(w.toBytes());
  }
  return true;
}

/** Issues `count` commands of `type`, each on a fresh target `${prefix}${i}`; returns the sequence numbers. */
export function floodCommandTargets(
  authority: ClientAuthority,
  type: string,
  prefix: string,
  count: number,
  payload: unknown = 0,
): number[] {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) seqs.push(authority.command(type, `${prefix}${i}`, payload));
  return seqs;
}
