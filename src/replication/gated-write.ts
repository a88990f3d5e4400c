/**
 * A server-side write made on behalf of a client (an action handler moving what the client asked to move), through
 * the write gate like the client's own writes: named store arrays in, the gate's verdict out.
 */
import { usageError } from '../errors.ts';
import { type Protocol, registeredComponentOf } from '../register.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { type WriteGate, type WritePath, WriteVerdict } from './write-gate.ts';

/** What a gated write did. */
export interface WriteOutcome {
  /** Whether the write was applied as proposed, applied after a rule clamped it, or refused. */
  verdict: 'accepted' | 'clamped' | 'refused';
  /** The refusing rule's reason ('' unless refused). */
  reason: string;
}

/** The parts of the server replicator a gated write needs. */
export interface GatedWriteTarget {
  readonly protocol: Protocol;
  readonly registry: EntityRegistry;
  readonly writeGate: WriteGate;
}

/**
 * Writes `values` (store array name → value) to `component` of `eid` for client `writer` through the gate; a refused
 * write changes nothing. Throws a Usage error for an unregistered component or an array it does not replicate.
 */
export function writeThroughGate(
  target: GatedWriteTarget,
  nowMs: number,
  writer: number,
  eid: number,
  component: object,
  values: Readonly<Record<string, number>>,
  path: WritePath,
): WriteOutcome {
  const reg = registeredComponentOf(target.protocol, component);
  if (!reg) usageError('the component is not registered', 'register it in the shared protocol first');
  if (!target.registry.isReplicated(eid) || target.registry.has[reg.id][eid] === 0)
    return { verdict: 'refused', reason: 'no such replicated component on this entity' };
  const gate = target.writeGate;
  const check = gate.stage(path, writer, eid, reg.id, nowMs);
  for (const key of Object.keys(values)) {
    const slot = check.slot[key];
    if (slot === undefined) usageError(`component '${reg.name}' does not replicate '${key}'`, 'name one of its arrays');
    check.proposed[slot] = values[key];
    const f = reg.fields.findIndex((fd) => fd.name === key || (fd.spec.kind === 'quat' && fd.spec.keys.includes(key)));
    check.mask |= 1 << f;
  }
  const verdict = gate.run(check);
  if (verdict === WriteVerdict.refused) return { verdict: 'refused', reason: gate.reason };
  gate.commit(check, nowMs);
  return { verdict: verdict === WriteVerdict.clamped ? 'clamped' : 'accepted', reason: '' };
}
