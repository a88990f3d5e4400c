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
  /** Position x, in metres. */
  px: Float32Array;
  /** Position y, in metres. */
  py: Float32Array;
  /** Position z, in metres. */
  pz: Float32Array;
  /** Orientation: x of the unit quaternion. */
  qx: Float32Array;
  /** Orientation: y of the unit quaternion. */
  qy: Float32Array;
  /** Orientation: z of the unit quaternion. */
  qz: Float32Array;
  /** Orientation: w of the unit quaternion (1 at allocation: the identity). */
  qw: Float32Array;
  /** Linear velocity x, in m/s. */
  vx: Float32Array;
  /** Linear velocity y, in m/s. */
  vy: Float32Array;
  /** Linear velocity z, in m/s. */
  vz: Float32Array;
  /** Angular velocity about the world x axis, in rad/s. */
  wx: Float32Array;
  /** Angular velocity about the world y axis, in rad/s. */
  wy: Float32Array;
  /** Angular velocity about the world z axis, in rad/s. */
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
