import { getNetContext } from '../src/context.ts';

/** On send frames, packs and sends this tick to every peer (reliable ops, one delta, acks) and flushes. */
export function sendSystem<W extends object>(world: W): W {
  const ctx = getNetContext(world);
  if (ctx.sendDue) ctx.replicator.send();
  return world;
}
