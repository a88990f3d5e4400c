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
import {
  type WriteCheck,
  type WriteGateCounters,
  type WritePath,
  type WriteRule,
  WriteVerdict,
} from './replication/write-gate.ts';

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

/** What `writeAs` did. */
export interface WriteOutcome {
  verdict: 'accepted' | 'clamped' | 'refused';
  /** The refusing rule's reason ('' unless refused). */
  reason: string;
}

/**
 * Server only: writes `values` (store array name → value) to `component` of `eid` on behalf of client `writer`,
 * through the write gate; a refused write changes nothing. For server code acting for a client, e.g. an action
 * handler moving an object the client asked to move.
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
  const rep = ctx.replicator;
  const reg = registered(rep, component);
  if (!rep.registry.isReplicated(eid) || rep.registry.has[reg.id][eid] === 0)
    return { verdict: 'refused', reason: 'no such replicated component on this entity' };
  const gate = rep.writeGate;
  const now = ctx.clock.now();
  const check: WriteCheck = gate.stage(path, writer, eid, reg.id, now);
  for (const key of Object.keys(values)) {
    const slot = check.slot[key];
    if (slot === undefined) usageError(`component '${reg.name}' has no replicated array '${key}'`, 'name its arrays');
    check.proposed[slot] = values[key];
    const f = reg.fields.findIndex((fd) => fd.name === key || (fd.spec.kind === 'quat' && fd.spec.keys.includes(key)));
    check.mask |= 1 << f;
  }
  const verdict = gate.run(check);
  if (verdict === WriteVerdict.refused) return { verdict: 'refused', reason: gate.reason };
  gate.commit(check, now);
  return { verdict: verdict === WriteVerdict.clamped ? 'clamped' : 'accepted', reason: '' };
}
