import { getNetContext } from '../src/context.ts';

/** Processes every packet received since the last frame: session messages, spawns, deltas, owner writes. */
export function receiveSystem<W extends object>(world: W): W {
  const ctx = getNetContext(world);
  if (ctx.role === 'server') ctx.session.receive();
  else ctx.replicator.receive();
  return world;
}
