import { applyCorrections } from '../src/vr/owned-poses.ts';
import { getVrContext } from '../src/vr/vr-context.ts';

/**
 * Client: applies the server's corrections received this frame to the owned tracked devices: compare with the
 * predicted history at the corrected tick, and beyond tolerance rebase, replay the inputs since, and blend the
 * visible change out. Run right after `net.receive`. On the server it does nothing.
 */
export function reconciliationSystem<W extends object>(world: W): W {
  const vr = getVrContext(world);
  if (vr.role === 'client') applyCorrections(vr, vr.net.clock.now());
  return world;
}
