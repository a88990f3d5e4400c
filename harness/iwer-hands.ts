/**
 * IWER's recorded Quest hand poses (relaxed, pinch, point; 25 joints each, recorded as the left hand) loaded straight
 * from node_modules, as wrist-frame joint arrays (25 x px, py, pz, qx, qy, qz, qw) of either hand. IWER draws the
 * right hand by mirroring the left one's matrices and blends a pose toward the pinch by lerping joint positions (and
 * slerping rotations): `iwerHandJoints` does the same, so every blend the room shows can be measured here.
 */
import { pinchHandPose } from 'iwer/lib/device/configs/hand/pinch.js';
import { pointHandPose } from 'iwer/lib/device/configs/hand/point.js';
import { relaxedHandPose } from 'iwer/lib/device/configs/hand/relaxed.js';
import { jointsRelativeToWrist } from '../src/vr/hand-frame-math.ts';
import { HAND_JOINT_COUNT, HAND_JOINT_NAMES, JOINT_POSE_LENGTH } from '../src/vr/hand-skeleton.ts';

interface IwerPose {
  jointTransforms: Record<string, { offsetMatrix: number[] }>;
}

/** IWER's poses by name. */
export const IWER_HAND_POSES: Readonly<Record<'relaxed' | 'pinch' | 'point', IwerPose>> = {
  relaxed: relaxedHandPose as IwerPose,
  pinch: pinchHandPose as IwerPose,
  point: pointHandPose as IwerPose,
};

/** IWER's left-to-right mirror (element-wise on the column-major matrix). */
const MIRROR = [1, -1, -1, 0, -1, 1, 1, 0, -1, 1, 1, 0, -1, 1, 1, 1];

/** Quaternion (x, y, z, w) of the rotation part of column-major 4x4 `m` into out[o..o+3]. */
function matrixQuat(m: ArrayLike<number>, out: Float64Array, o: number): void {
  const [m00, m10, m20, , m01, m11, m21, , m02, m12, m22] = Array.from(m);
  const t = m00 + m11 + m22;
  let x: number;
  let y: number;
  let z: number;
  let w: number;
  if (t > 0) {
    const s = Math.sqrt(t + 1) * 2;
    w = s / 4;
    x = (m21 - m12) / s;
    y = (m02 - m20) / s;
    z = (m10 - m01) / s;
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    w = (m21 - m12) / s;
    x = s / 4;
    y = (m01 + m10) / s;
    z = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    w = (m02 - m20) / s;
    x = (m01 + m10) / s;
    y = s / 4;
    z = (m12 + m21) / s;
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    w = (m10 - m01) / s;
    x = (m02 + m20) / s;
    y = (m12 + m21) / s;
    z = s / 4;
  }
  const n = Math.hypot(x, y, z, w);
  out[o] = x / n;
  out[o + 1] = y / n;
  out[o + 2] = z / n;
  out[o + 3] = w / n;
}

/**
 * The wrist-frame joints of IWER pose `pose` blended toward `toward` by `t` (0: `pose` itself), of the left or right
 * hand, into a new 25 x 7 array.
 */
export function iwerHandJoints(pose: IwerPose, left: boolean, toward: IwerPose = pose, t = 0): Float64Array {
  const raw = new Float64Array(HAND_JOINT_COUNT * JOINT_POSE_LENGTH);
  const q = new Float64Array(8);
  for (let j = 0; j < HAND_JOINT_COUNT; j++) {
    const name = HAND_JOINT_NAMES[j];
    const a = pose.jointTransforms[name].offsetMatrix.map((v, i) => (left ? v : v * MIRROR[i]));
    const b = toward.jointTransforms[name].offsetMatrix.map((v, i) => (left ? v : v * MIRROR[i]));
    const k = j * JOINT_POSE_LENGTH;
    for (let c = 0; c < 3; c++) raw[k + c] = a[12 + c] + (b[12 + c] - a[12 + c]) * t;
    matrixQuat(a, q, 0);
    matrixQuat(b, q, 4);
    // normalized lerp (the sign aligned): the joints' orientations do not move the codec's fit, only positions do
    const dot = q[0] * q[4] + q[1] * q[5] + q[2] * q[6] + q[3] * q[7];
    const sgn = dot < 0 ? -1 : 1;
    let n = 0;
    for (let c = 0; c < 4; c++) {
      raw[k + 3 + c] = q[c] + (sgn * q[4 + c] - q[c]) * t;
      n += raw[k + 3 + c] ** 2;
    }
    for (let c = 0; c < 4; c++) raw[k + 3 + c] /= Math.sqrt(n);
  }
  const out = new Float64Array(HAND_JOINT_COUNT * JOINT_POSE_LENGTH);
  jointsRelativeToWrist(raw, 0, out);
  return out;
}
