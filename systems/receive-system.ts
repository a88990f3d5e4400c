import { getNetContext, reportContained } from '../src/context.ts';

/**
 * Processes every packet received since the last frame: session messages, spawns, deltas, owner writes. Nothing
 * thrown while handling network input reaches the caller: it is reported through `onError` as `InternalError`.
 */
export function receiveSystem<W extends object>(world: W): W {
  const ctx = getNetContext(world);
  try {
    if (ctx.role === 'server') ctx.session.receive();
    else ctx.replicator.receive();
  } catch (e) {
    reportContained(ctx, 'receive', e);
  }
  return world;
}
