/** Change marks and the change detection in use, per component: free functions over a server world (world first). */
import { getNetContext } from './context.ts';
import { usageError } from './errors.ts';
import { registeredComponentOf } from './register.ts';

/** How a server finds a component's changes: from marks, or a raw scan (owned store: WASM SIMD or JS; user arrays). */
export type ChangeDetectionKind = 'marks' | 'wasm-simd' | 'js' | 'arrays';

function serverComponent(world: object, component: object, call: string) {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server')
    usageError(`${call} is a server call`, "change marks steer the server's change detection: call it on the server");
  const reg = registeredComponentOf(ctx.replicator.protocol, component);
  if (reg === undefined)
    usageError(`${call}: the component is not registered in this world's protocol`, 'pass a registered component');
  return { replicator: ctx.replicator, id: reg.id };
}

/**
 * Server: marks `component` of `eid` changed since the last send tick. For a component registered with
 * `changes: 'marked'` only marked entities (and owner writes) are compared and sent; for others it has no effect.
 * Returns false (and counts it) for an id no replicated entity can have.
 * @example
 * Pose.px[eid] = x;
 * markChanged(world, Pose, eid);
 */
export function markChanged(world: object, component: object, eid: number): boolean {
  const { replicator, id } = serverComponent(world, component, 'markChanged');
  return replicator.detector.marks.mark(id, eid, replicator.registry.capacity);
}

/** Server: how changes of `component` are found: 'marks', 'wasm-simd' / 'js' (owned store) or 'arrays'. */
export function changeDetectionOf(world: object, component: object): ChangeDetectionKind {
  const { replicator, id } = serverComponent(world, component, 'changeDetectionOf');
  return replicator.detector.kernelOf(id);
}
