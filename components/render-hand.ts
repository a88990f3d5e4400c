/**
 * What to draw for every hand, owned or remote: the 25 joint poses in world space, composed each frame from the
 * device's RenderPose and the hand's joints (the owner's own input, a remote hand's codes interpolated at the owner's
 * render time). three.js code reads only this component. Local, never replicated.
 */
import { HAND_JOINTS_LENGTH } from './tracked-hand.ts';

/** SoA arrays of the hand to render: `joints[eid * 175 + joint * 7 + k]`. */
export interface RenderHand {
  /** 1 when the device is drawn as a hand this frame (0: as a controller). */
  tracked: Uint8Array;
  /** World-space joint poses to draw, 175 numbers per entity (25 joints x px, py, pz in m, qx, qy, qz, qw). */
  joints: Float32Array;
}

/** Allocates the render-hand component for entity ids below `capacity`. */
export function createRenderHand(capacity: number): RenderHand {
  return { tracked: new Uint8Array(capacity), joints: new Float32Array(capacity * HAND_JOINTS_LENGTH) };
}
