/**
 * Moving joint poses between frames: the owner's tracked joints into the wrist's frame, and any wrist-frame hand
 * onto a device pose (the RenderPose it is drawn at). Joint arrays are 25 x (px, py, pz, qx, qy, qz, qw).
 */
import { HAND_JOINT_COUNT, JOINT_POSE_LENGTH } from './hand-skeleton.ts';
import { quatMultiply } from './pose-math.ts';

type Num = Float32Array | Float64Array;

/** Rotates (x, y, z) by (qx, qy, qz, qw) and adds (ox, oy, oz), into out[o..o+2]. */
function rotateAdd(
  qx: number,
  qy: number,
  qz: number,
  qw: number,
  x: number,
  y: number,
  z: number,
  ox: number,
  oy: number,
  oz: number,
  out: Num,
  o: number,
): void {
  const tx = 2 * (qy * z - qz * y);
  const ty = 2 * (qz * x - qx * z);
  const tz = 2 * (qx * y - qy * x);
  out[o] = ox + x + qw * tx + (qy * tz - qz * ty);
  out[o + 1] = oy + y + qw * ty + (qz * tx - qx * tz);
  out[o + 2] = oz + z + qw * tz + (qx * ty - qy * tx);
}

/** Joints `src` (from `so`, any space) re-expressed in the frame of their own wrist joint, into `out`. */
export function jointsRelativeToWrist(src: Num, so: number, out: Num): void {
  const wx = src[so];
  const wy = src[so + 1];
  const wz = src[so + 2];
  // inverse wrist rotation
  let ix = -src[so + 3];
  let iy = -src[so + 4];
  let iz = -src[so + 5];
  let iw = src[so + 6];
  const n = Math.hypot(ix, iy, iz, iw);
  if (n > 0 && Number.isFinite(n)) {
    ix /= n;
    iy /= n;
    iz /= n;
    iw /= n;
  } else {
    ix = iy = iz = 0;
    iw = 1;
  }
  for (let j = 0; j < HAND_JOINT_COUNT; j++) {
    const s = so + j * JOINT_POSE_LENGTH;
    const o = j * JOINT_POSE_LENGTH;
    rotateAdd(ix, iy, iz, iw, src[s] - wx, src[s + 1] - wy, src[s + 2] - wz, 0, 0, 0, out, o);
    quatMultiply(ix, iy, iz, iw, src[s + 3], src[s + 4], src[s + 5], src[s + 6], out, o + 3);
  }
}

/** Wrist-frame joints `rel` placed at pose (px..qw), into `out` from `oo`. */
export function placeJoints(
  rel: Num,
  px: number,
  py: number,
  pz: number,
  qx: number,
  qy: number,
  qz: number,
  qw: number,
  out: Num,
  oo: number,
): void {
  for (let j = 0; j < HAND_JOINT_COUNT; j++) {
    const s = j * JOINT_POSE_LENGTH;
    const o = oo + s;
    rotateAdd(qx, qy, qz, qw, rel[s], rel[s + 1], rel[s + 2], px, py, pz, out, o);
    quatMultiply(qx, qy, qz, qw, rel[s + 3], rel[s + 4], rel[s + 5], rel[s + 6], out, o + 3);
  }
}
