import { addComponent, entityExists, hasComponent, removeComponent, type World } from 'bitecs';
import { updateRemoteDevices } from '../src/vr/remote-poses.ts';
import { getVrContext } from '../src/vr/vr-context.ts';

/**
 * Client: writes RenderPose of every tracked device other clients own, at the owner's adaptive render time
 * (interpolated, extrapolated within the horizon, or held). Remote devices get the Interpolated tag; devices that
 * are no longer replicated lose both tags. Run after `net.receive` (e.g. last, just before rendering). On the server
 * it does nothing.
 */
export function interpolationSystem<W extends object>(world: W): W {
  const vr = getVrContext(world);
  if (vr.role !== 'client') return world;
  updateRemoteDevices(vr, vr.net.clock.now());
  const w = world as unknown as World;
  const c = vr.components;
  for (const eid of vr.becameInterpolated) {
    if (!entityExists(w, eid)) continue;
    if (hasComponent(w, eid, c.Predicted)) removeComponent(w, eid, c.Predicted);
    addComponent(w, eid, c.Interpolated);
    addComponent(w, eid, c.RenderPose);
  }
  vr.becameInterpolated.length = 0;
  for (const eid of vr.untracked) {
    if (!entityExists(w, eid)) continue;
    if (hasComponent(w, eid, c.Predicted)) removeComponent(w, eid, c.Predicted);
    if (hasComponent(w, eid, c.Interpolated)) removeComponent(w, eid, c.Interpolated);
  }
  vr.untracked.length = 0;
  return world;
}
