/**
 * A tracked hand (WebXR XRHand) on a left or right controller entity. The owner writes `tracked` and the 25 joint
 * poses each frame (the same space as the controller pose, which is the wrist joint's pose while the hand is tracked:
 * `writeHandJoints` does both); the hand layer streams them. Local input, not a replicated component: the wire
 * carries the compact hand codes (wire.md, HandInput).
 */

/** Numbers per hand in `joints`: 25 joints x (px, py, pz, qx, qy, qz, qw). */
export const HAND_JOINTS_LENGTH = 175;

/** SoA arrays of the tracked-hand input: `joints[eid * 175 + joint * 7 + k]`. */
export interface TrackedHand {
  /** 1 while the input source is a tracked hand (0: a controller, or nothing). */
  tracked: Uint8Array;
  /** Joint poses, 175 numbers per entity (25 joints x px, py, pz in m, qx, qy, qz, qw), in the controller's space. */
  joints: Float32Array;
}

/** Allocates the tracked-hand component for entity ids below `capacity`. */
export function createTrackedHand(capacity: number): TrackedHand {
  return { tracked: new Uint8Array(capacity), joints: new Float32Array(capacity * HAND_JOINTS_LENGTH) };
}
