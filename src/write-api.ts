/**
 * The write gate's public face (server only): rules that every client write to a component goes through, whatever
 * path carries it (owner Deltas, the VR pose stream, released objects, `writeAs` from action handlers), and its
 * counters. See `src/replication/write-gate.ts` for what a rule sees.
 *
 * @example
 * addWriteRule(world, Transform, (w) => {
 *   if (w.proposed[w.slot.y] < 0) w.proposed[w.slot.y] = 0; // clamp
 *   if (Math.abs(w.proposed[w.slot.x]) > 50) return 'outside the room'; // refuse
 * });
 */
import { getNetContext, type ServerContext } from './context.ts';
import { usageError } from './errors.ts';
import { type RegisteredComponent, registeredComponentOf } from './register.ts';
import type { ServerReplicator } from './replication/server-replicator.ts';
import { type WriteOutcome, writeThroughGate } from './replication/gated-write.ts';
import type { WriteGateCounters, WritePath, WriteRule } from './replication/write-gate.ts';

export type { WriteOutcome } from './replication/gated-write.ts';

export type { WriteCheck, WriteGateCounters, WritePath, WriteRule } from './replication/write-gate.ts';
export { WriteVerdict } from './replication/write-gate.ts';

function serverOf(world: object, call: string): ServerContext {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server') usageError(`${call} is a server call`, 'register write rules on the server world');
  return ctx;
}

function registered(rep: ServerReplicator, component: object): RegisteredComponent {
  const reg = registeredComponentOf(rep.protocol, component);
  if (!reg) usageError('the component is not registered', 'register it in the shared protocol first');
  return reg;
}

/**
 * Server only: adds a rule that every client write to `component` goes through (after the built-in check that
 * floats are finite, after rules added before it). Returns a function that removes the rule.
 */
export function addWriteRule(world: object, component: object, rule: WriteRule): () => void {
  const rep = serverOf(world, 'addWriteRule').replicator;
  return rep.writeGate.addRule(registered(rep, component).id, rule);
}

/** Server only: the write gate's counters (checked, clamped, refused, nonFinite). */
export function writeGateStatsOf(world: object): WriteGateCounters {
  return { ...serverOf(world, 'writeGateStatsOf').replicator.writeGate.counters };
}

/**
 * Server only: writes `values` (store array name → value) to `component` of `eid` on behalf of client `writer`,
 * through the write gate; a refused write changes nothing. For server code acting for a client, e.g. an action
 * handler moving an object the client asked to move (`ActionContext.write` does this for the action's client).
 */
export function writeAs(
  world: object,
  writer: number,
  eid: number,
  component: object,
  values: Readonly<Record<string, number>>,
  path: WritePath = 'action',
): WriteOutcome {
  const ctx = serverOf(world, 'writeAs');
  return writeThroughGate(ctx.replicator, ctx.clock.now(), writer, eid, component, values, path);
}
