/**
 * Small vector and quaternion helpers for the pose layer. Quaternions are (x, y, z, w), Hamilton product, and rotate
 * world-frame vectors; angular velocities are world-frame vectors (as WebXR reports them). Functions write into an
 * `out` array at an offset and allocate nothing.
 */

/** Where a quaternion or vector result goes. */
export type Out = Float64Array | Float32Array | number[];

/** Below this |dot| gap slerp falls back to normalized lerp (the angle is too small for a stable sin ratio). */
const SLERP_LINEAR_EPSILON = 1e-6;

/** Writes a * b. */
export function quatMultiply(
  ax: number,
  ay: number,
  az: number,
  aw: number,
  bx: number,
  by: number,
  bz: number,
  bw: number,
  out: Out,
  o = 0,
): void {
  out[o] = aw * bx + ax * bw + ay * bz - az * by;
  out[o + 1] = aw * by - ax * bz + ay * bw + az * bx;
  out[o + 2] = aw * bz + ax * by - ay * bx + az * bw;
  out[o + 3] = aw * bw - ax * bx - ay * by - az * bz;
}

/** Normalizes the quaternion at out[o..o+3] in place (identity if it has no length). */
export function quatNormalize(out: Out, o = 0): void {
  const n = Math.hypot(out[o], out[o + 1], out[o + 2], out[o + 3]);
  if (!(n > 0) || !Number.isFinite(n)) {
    out[o] = 0;
    out[o + 1] = 0;
    out[o + 2] = 0;
    out[o + 3] = 1;
    return;
  }
  out[o] /= n;
  out[o + 1] /= n;
  out[o + 2] /= n;
  out[o + 3] /= n;
}

/** Spherical interpolation from a (t = 0) to b (t = 1) along the shortest arc. */
export function quatSlerp(
  ax: number,
  ay: number,
  az: number,
  aw: number,
  bx: number,
  by: number,
  bz: number,
  bw: number,
  t: number,
  out: Out,
  o = 0,
): void {
  let dot = ax * bx + ay * by + az * bz + aw * bw;
  if (dot < 0) {
    dot = -dot;
    bx = -bx;
    by = -by;
    bz = -bz;
    bw = -bw;
  }
  let s0: number;
  let s1: number;
  if (dot > 1 - SLERP_LINEAR_EPSILON) {
    s0 = 1 - t;
    s1 = t;
  } else {
    const theta = Math.acos(dot);
    const sin = Math.sin(theta);
    s0 = Math.sin((1 - t) * theta) / sin;
    s1 = Math.sin(t * theta) / sin;
  }
  out[o] = s0 * ax + s1 * bx;
  out[o + 1] = s0 * ay + s1 * by;
  out[o + 2] = s0 * az + s1 * bz;
  out[o + 3] = s0 * aw + s1 * bw;
  quatNormalize(out, o);
}

/** Angle in radians between two rotations (0..pi). */
export function quatAngle(
  ax: number,
  ay: number,
  az: number,
  aw: number,
  bx: number,
  by: number,
  bz: number,
  bw: number,
): number {
  const dot = Math.abs(ax * bx + ay * by + az * bz + aw * bw);
  return dot >= 1 ? 0 : 2 * Math.acos(dot);
}

/** Writes exp(w * dt / 2) * q: q turned by the world-frame angular velocity w (rad/s) for dt seconds. */
export function quatIntegrate(
  qx: number,
  qy: number,
  qz: number,
  qw: number,
  wx: number,
  wy: number,
  wz: number,
  dtS: number,
  out: Out,
  o = 0,
): void {
  const ang = Math.hypot(wx, wy, wz) * dtS;
  if (!(ang > 1e-12)) {
    out[o] = qx;
    out[o + 1] = qy;
    out[o + 2] = qz;
    out[o + 3] = qw;
    return;
  }
  const s = Math.sin(ang / 2) / (ang / dtS);
  quatMultiply(wx * s, wy * s, wz * s, Math.cos(ang / 2), qx, qy, qz, qw, out, o);
  quatNormalize(out, o);
}

/** Writes the world-frame angular velocity (rad/s) that turns a into b in dt seconds (shortest arc). */
export function angularVelocityBetween(
  ax: number,
  ay: number,
  az: number,
  aw: number,
  bx: number,
  by: number,
  bz: number,
  bw: number,
  dtS: number,
  out: Out,
  o = 0,
): void {
  // d = b * conj(a)
  quatMultiply(bx, by, bz, bw, -ax, -ay, -az, aw, out, o);
  let x = out[o];
  let y = out[o + 1];
  let z = out[o + 2];
  let w = out[o + 3];
  if (w < 0) {
    x = -x;
    y = -y;
    z = -z;
    w = -w;
  }
  const s = Math.hypot(x, y, z);
  if (!(s > 1e-12) || !(dtS > 0)) {
    out[o] = 0;
    out[o + 1] = 0;
    out[o + 2] = 0;
    return;
  }
  const k = (2 * Math.atan2(s, w)) / s / dtS;
  out[o] = x * k;
  out[o + 1] = y * k;
  out[o + 2] = z * k;
}
