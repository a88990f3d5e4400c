import { getNetContext, reportContained } from '../src/context.ts';

/**
 * On send frames, packs and sends this tick to every peer (reliable ops, one delta, acks) and flushes. A throw
 * from any layer is reported through `onError` as `InternalError`, never rethrown into the game loop.
 */
export function sendSystem<W extends object>(world: W): W {
  const ctx = getNetContext(world);
  if (!ctx.sendDue) return world;
  try {
    ctx.replicator.send();
  } catch (e) {
    reportContained(ctx, 'send', e);
  }
  return world;
}
