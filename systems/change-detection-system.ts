import { getNetContext, reportContained } from '../src/context.ts';

/**
 * Decides whether this frame sends (at the plugin's send rate) and, if so, diffs every replicated field
 * against its shadow: the server all replicated entities, a client the entities it owns.
 */
export function changeDetectionSystem<W extends object>(world: W): W {
  const ctx = getNetContext(world);
  const now = ctx.clock.now();
  ctx.sendDue = now >= ctx.nextSendAtMs;
  if (!ctx.sendDue) return world;
  // Keep a steady cadence, but never try to catch up more than one interval after a stall.
  ctx.nextSendAtMs = Math.max(ctx.nextSendAtMs + ctx.sendIntervalMs, now);
  try {
    ctx.replicator.detectChanges();
  } catch (e) {
    reportContained(ctx, 'change detection', e);
  }
  return world;
}
