/**
 * The data of one tracked device (head or controller) as SoA typed arrays indexed by entity id: position (m),
 * orientation (unit quaternion x, y, z, w), linear velocity (m/s) and angular velocity (rad/s, world frame), and the
 * sample stamp the server writes (capture time and the owner's extrapolation horizon, see `src/vr/pose-stamp.ts`).
 *
 * On the owner these arrays hold the raw tracked input the app writes each frame (from XR input); on the server the
 * validated pose; on every other client the latest received sample. What to draw is in `RenderPose`.
 */

/** SoA arrays of one tracked device kind. Velocities are optional on the wire but always have arrays. */
export interface TrackedPose {
  px: Float32Array;
  py: Float32Array;
  pz: Float32Array;
  qx: Float32Array;
  qy: Float32Array;
  qz: Float32Array;
  qw: Float32Array;
  vx: Float32Array;
  vy: Float32Array;
  vz: Float32Array;
  wx: Float32Array;
  wy: Float32Array;
  wz: Float32Array;
  /** Server-written sample stamp: capture time (quarter ms, mod 2^16) and horizon (8 ms units) packed. */
  stamp: Uint32Array;
}

/** Allocates a tracked-pose store for entity ids below `capacity`; orientations start as the identity. */
export function createTrackedPose(capacity: number): TrackedPose {
  return {
    px: new Float32Array(capacity),
    py: new Float32Array(capacity),
    pz: new Float32Array(capacity),
    qx: new Float32Array(capacity),
    qy: new Float32Array(capacity),
    qz: new Float32Array(capacity),
    qw: new Float32Array(capacity).fill(1),
    vx: new Float32Array(capacity),
    vy: new Float32Array(capacity),
    vz: new Float32Array(capacity),
    wx: new Float32Array(capacity),
    wy: new Float32Array(capacity),
    wz: new Float32Array(capacity),
    stamp: new Uint32Array(capacity),
  };
}
