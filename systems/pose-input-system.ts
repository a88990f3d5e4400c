import { addComponent, entityExists, hasComponent, removeComponent, type World } from 'bitecs';
import { updateOwnedDevices } from '../src/vr/owned-poses.ts';
import { getVrContext } from '../src/vr/vr-context.ts';

/**
 * Client: captures this frame's raw pose of every owned tracked device (the app wrote it into HeadPose /
 * Left/RightControllerPose from XR input), predicts it with any correction in force and writes RenderPose at once,
 * with no added latency. Run after the app wrote the XR poses and before `net.send` (which streams them).
 * Owned devices get the Predicted tag. On the server it does nothing.
 */
export function poseInputSystem<W extends object>(world: W): W {
  const vr = getVrContext(world);
  if (vr.role !== 'client') return world;
  updateOwnedDevices(vr, vr.net.clock.now());
  const w = world as unknown as World;
  const c = vr.components;
  for (const eid of vr.becamePredicted) {
    if (!entityExists(w, eid)) continue;
    if (hasComponent(w, eid, c.Interpolated)) removeComponent(w, eid, c.Interpolated);
    addComponent(w, eid, c.Predicted);
    addComponent(w, eid, c.RenderPose);
  }
  vr.becamePredicted.length = 0;
  return world;
}
