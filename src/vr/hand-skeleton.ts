/**
 * The 25-joint WebXR hand (XRHand joint order) as a kinematic chain driven by 23 parameters: per finger a splay and
 * three curls (the thumb: metacarpal splay and curl, proximal and distal curl), the fold of the ring and pinky
 * metacarpals (palm cupping), and a scale, on a fixed skeleton (`HandShape`: the reference adult hand, or the
 * user's calibrated one). Everything is in the wrist's frame, in the right hand's layout (-Z along the bones toward
 * the tips, +Y out of the back of the hand, thumb toward -X); the left hand is its mirror image (x -> -x).
 *
 * Forward kinematics turns parameters into joint poses; `fitHandParameters` goes the other way from joint positions,
 * joint by joint against the chain rebuilt so far (closed loop: an error at one joint is corrected by the next one).
 * A joint's twist about its bone is a fixed part of the skeleton (it sets the plane the child curls in), not a
 * streamed parameter; calibration measures it (`twistOut`).
 */
import { HAND_JOINT_COUNT, type HandShape, REFERENCE_HAND_SHAPE } from './hand-shape.ts';
import { quatMultiply, quatNormalize } from './pose-math.ts';

export { HAND_JOINT_COUNT } from './hand-shape.ts';

/** Numbers per joint pose: px, py, pz, qx, qy, qz, qw. */
export const JOINT_POSE_LENGTH = 7;
/** Parameters of a hand: 22 angles (radians) and the scale. */
export const HAND_PARAM_COUNT = 23;
/** Index of the scale among the parameters. */
export const HAND_SCALE_PARAM = 22;

/** WebXR joint names, in order (the index is the joint's slot in every joint array). */
export const HAND_JOINT_NAMES = [
  'wrist',
  'thumb-metacarpal',
  'thumb-phalanx-proximal',
  'thumb-phalanx-distal',
  'thumb-tip',
  'index-finger-metacarpal',
  'index-finger-phalanx-proximal',
  'index-finger-phalanx-intermediate',
  'index-finger-phalanx-distal',
  'index-finger-tip',
  'middle-finger-metacarpal',
  'middle-finger-phalanx-proximal',
  'middle-finger-phalanx-intermediate',
  'middle-finger-phalanx-distal',
  'middle-finger-tip',
  'ring-finger-metacarpal',
  'ring-finger-phalanx-proximal',
  'ring-finger-phalanx-intermediate',
  'ring-finger-phalanx-distal',
  'ring-finger-tip',
  'pinky-finger-metacarpal',
  'pinky-finger-phalanx-proximal',
  'pinky-finger-phalanx-intermediate',
  'pinky-finger-phalanx-distal',
  'pinky-finger-tip',
] as const;

/** The five fingertip joints (where the codec's error is measured). */
export const FINGERTIP_JOINTS = [4, 9, 14, 19, 24] as const;

/** Parent joint of each joint (-1 for the wrist). */
export const HAND_JOINT_PARENT = new Int8Array([
  -1, 0, 1, 2, 3, 0, 5, 6, 7, 8, 0, 10, 11, 12, 13, 0, 15, 16, 17, 18, 0, 20, 21, 22, 23,
]);

/** Parameter driving each joint's splay / curl (-1: none). */
const SPLAY_PARAM = new Int8Array([
  -1, 0, -1, -1, -1, -1, 4, -1, -1, -1, -1, 8, -1, -1, -1, -1, 12, -1, -1, -1, -1, 16, -1, -1, -1,
]);
const CURL_PARAM = new Int8Array([
  -1, 1, 2, 3, -1, -1, 5, 6, 7, -1, -1, 9, 10, 11, -1, 20, 13, 14, 15, -1, 21, 17, 18, 19, -1,
]);

/** The reference length (m) of the bone starting at joint `j`. */
export function referenceBoneLength(j: number): number {
  return REFERENCE_HAND_SHAPE.bone[j];
}

/** Rotates (x, y, z) by unit quaternion q at q[o..o+3] into out[oo..oo+2]. */
function rotate(q: Float64Array, o: number, x: number, y: number, z: number, out: Float64Array, oo: number): void {
  const qx = q[o];
  const qy = q[o + 1];
  const qz = q[o + 2];
  const qw = q[o + 3];
  const tx = 2 * (qy * z - qz * y);
  const ty = 2 * (qz * x - qx * z);
  const tz = 2 * (qx * y - qy * x);
  out[oo] = x + qw * tx + (qy * tz - qz * ty);
  out[oo + 1] = y + qw * ty + (qz * tx - qx * tz);
  out[oo + 2] = z + qw * tz + (qx * ty - qy * tx);
}

/** Writes joint j's orientation: parent * rest * Ry(splay) * Rx(-curl) * Rz(twist) into q[j]. */
function jointRotation(
  shape: HandShape,
  q: Float64Array,
  j: number,
  parent: number,
  splay: number,
  curl: number,
  twist = shape.twist[j],
): void {
  const rest = shape.restRotation;
  const o = j * 4;
  const po = parent * 4;
  quatMultiply(q[po], q[po + 1], q[po + 2], q[po + 3], rest[o], rest[o + 1], rest[o + 2], rest[o + 3], q, o);
  const hs = splay / 2;
  quatMultiply(q[o], q[o + 1], q[o + 2], q[o + 3], 0, Math.sin(hs), 0, Math.cos(hs), q, o);
  const hc = -curl / 2;
  quatMultiply(q[o], q[o + 1], q[o + 2], q[o + 3], Math.sin(hc), 0, 0, Math.cos(hc), q, o);
  if (twist !== 0) {
    const ht = twist / 2;
    quatMultiply(q[o], q[o + 1], q[o + 2], q[o + 3], 0, 0, Math.sin(ht), Math.cos(ht), q, o);
  }
  quatNormalize(q, o);
}

/** Smallest sideways share of a child bone (sin of its curl) for which a twist is measured. */
const MIN_TWIST_CURL_SIN = 0.2;

/**
 * Measures joint j's twist (the roll about its bone that puts its child's bone in the child's curl plane) from the
 * measured child bone direction (dx, dy, dz, right hand's layout); q[j] holds the joint's rotation without twist.
 * NaN when the child is too straight for the plane to be known.
 */
function measureTwist(s: HandSkeletonScratch, j: number, dx: number, dy: number, dz: number): number {
  s.qi[0] = -s.q[j * 4];
  s.qi[1] = -s.q[j * 4 + 1];
  s.qi[2] = -s.q[j * 4 + 2];
  s.qi[3] = s.q[j * 4 + 3];
  rotate(s.qi, 0, dx, dy, dz, s.v, 0);
  // the child's direction Rz(t) Rx(-c) (0, 0, -1) = (sin c sin t, -sin c cos t, -cos c)
  const n = Math.hypot(s.v[0], s.v[1], s.v[2]);
  if (!(n > 0) || Math.hypot(s.v[0], s.v[1]) / n < MIN_TWIST_CURL_SIN) return NaN;
  return Math.atan2(s.v[0], -s.v[1]);
}

/** Working arrays of the skeleton functions (one per user of them: nothing is shared at module level). */
export class HandSkeletonScratch {
  readonly q = new Float64Array(HAND_JOINT_COUNT * 4);
  readonly p = new Float64Array(HAND_JOINT_COUNT * 3);
  readonly v = new Float64Array(3);
  readonly qi = new Float64Array(4);
}

/** Position of joint j from its parent: a metacarpal's root, else the end of the parent's bone. */
function placeJoint(shape: HandShape, s: HandSkeletonScratch, j: number, scale: number): void {
  const parent = HAND_JOINT_PARENT[j];
  if (parent === 0) {
    s.p[j * 3] = shape.root[j * 3] * scale;
    s.p[j * 3 + 1] = shape.root[j * 3 + 1] * scale;
    s.p[j * 3 + 2] = shape.root[j * 3 + 2] * scale;
    return;
  }
  rotate(s.q, parent * 4, 0, 0, -shape.bone[parent] * scale, s.v, 0);
  s.p[j * 3] = s.p[parent * 3] + s.v[0];
  s.p[j * 3 + 1] = s.p[parent * 3 + 1] + s.v[1];
  s.p[j * 3 + 2] = s.p[parent * 3 + 2] + s.v[2];
}

/**
 * Forward kinematics: the 25 joint poses (wrist frame) of parameters `params` into `out` (25 x 7 from `o`),
 * mirrored for a left hand.
 */
export function handJointPoses(
  params: ArrayLike<number>,
  left: boolean,
  s: HandSkeletonScratch,
  out: Float64Array | Float32Array,
  o = 0,
  shape: HandShape = REFERENCE_HAND_SHAPE,
): void {
  const scale = params[HAND_SCALE_PARAM];
  s.q.fill(0);
  s.q[3] = 1;
  s.p.fill(0);
  for (let j = 1; j < HAND_JOINT_COUNT; j++) {
    const sp = SPLAY_PARAM[j];
    const cp = CURL_PARAM[j];
    placeJoint(shape, s, j, scale);
    jointRotation(shape, s.q, j, HAND_JOINT_PARENT[j], sp >= 0 ? params[sp] : 0, cp >= 0 ? params[cp] : 0);
  }
  const m = left ? -1 : 1;
  for (let j = 0; j < HAND_JOINT_COUNT; j++) {
    const k = o + j * JOINT_POSE_LENGTH;
    // mirror x -> -x: positions flip x; rotations (x, y, z, w) -> (x, -y, -z, w)
    out[k] = m * s.p[j * 3];
    out[k + 1] = s.p[j * 3 + 1];
    out[k + 2] = s.p[j * 3 + 2];
    out[k + 3] = s.q[j * 4];
    out[k + 4] = m * s.q[j * 4 + 1];
    out[k + 5] = m * s.q[j * 4 + 2];
    out[k + 6] = s.q[j * 4 + 3];
  }
}

/** The hand's scale from its bone lengths: the ratio of the summed measured to reference lengths (1 if degenerate). */
export function fitHandScale(
  jointPositions: ArrayLike<number>,
  stride: number,
  o = 0,
  shape: HandShape = REFERENCE_HAND_SHAPE,
): number {
  let measured = 0;
  let reference = 0;
  for (let j = 1; j < HAND_JOINT_COUNT; j++) {
    const parent = HAND_JOINT_PARENT[j];
    if (parent === 0) continue;
    const a = o + parent * stride;
    const b = o + j * stride;
    const d = Math.hypot(
      jointPositions[b] - jointPositions[a],
      jointPositions[b + 1] - jointPositions[a + 1],
      jointPositions[b + 2] - jointPositions[a + 2],
    );
    if (!Number.isFinite(d)) return 1;
    measured += d;
    reference += shape.bone[parent];
  }
  return measured > 0 ? measured / reference : 1;
}

/**
 * Inverse kinematics: the 22 angles of joint positions `jointPositions` (wrist frame, joint j at o + j * stride) for
 * a hand of scale `params[HAND_SCALE_PARAM]` (already set), written into params[0..21]. With `twistOut` (calibration),
 * each joint's twist is measured too (NaN where unknown) and used for the rest of the chain. `quantize(i, v)` returns the
 * value parameter i will be rebuilt with, so each joint is fitted against the chain as the receiver rebuilds it.
 */
export function fitHandParameters(
  jointPositions: ArrayLike<number>,
  stride: number,
  o: number,
  left: boolean,
  params: Float64Array,
  quantize: (i: number, v: number) => number,
  s: HandSkeletonScratch,
  shape: HandShape = REFERENCE_HAND_SHAPE,
  twistOut: Float64Array | null = null,
): void {
  const scale = params[HAND_SCALE_PARAM];
  const rest = shape.restRotation;
  const m = left ? -1 : 1;
  s.q.fill(0);
  s.q[3] = 1;
  s.p.fill(0);
  for (let j = 1; j < HAND_JOINT_COUNT; j++) {
    const parent = HAND_JOINT_PARENT[j];
    placeJoint(shape, s, j, scale);
    const sp = SPLAY_PARAM[j];
    const cp = CURL_PARAM[j];
    let splay = 0;
    let curl = 0;
    if (cp >= 0) {
      // the bone's direction toward the measured child, in the frame parent * rest
      const c = o + (j + 1) * stride;
      const dx = m * jointPositions[c] - s.p[j * 3];
      const dy = jointPositions[c + 1] - s.p[j * 3 + 1];
      const dz = jointPositions[c + 2] - s.p[j * 3 + 2];
      const po = parent * 4;
      const ro = j * 4;
      quatMultiply(
        s.q[po],
        s.q[po + 1],
        s.q[po + 2],
        s.q[po + 3],
        rest[ro],
        rest[ro + 1],
        rest[ro + 2],
        rest[ro + 3],
        s.qi,
        0,
      );
      // inverse rotation: conjugate
      s.qi[0] = -s.qi[0];
      s.qi[1] = -s.qi[1];
      s.qi[2] = -s.qi[2];
      rotate(s.qi, 0, dx, dy, dz, s.v, 0);
      const x = s.v[0];
      const y = s.v[1];
      const z = s.v[2];
      if (sp >= 0) {
        // direction of Ry(s) Rx(-c) (0, 0, -1) = (-sin s cos c, -sin c, -cos s cos c)
        splay = quantize(sp, Math.atan2(-x, -z));
        curl = quantize(cp, Math.atan2(-y, Math.hypot(x, z)));
      } else curl = quantize(cp, Math.atan2(-y, -z));
      params[cp] = curl;
      if (sp >= 0) params[sp] = splay;
    }
    const child = j + 1;
    if (twistOut && cp >= 0 && CURL_PARAM[child] >= 0 && SPLAY_PARAM[child] < 0) {
      // calibration: the twist that puts the measured grandchild in the child's curl plane
      jointRotation(shape, s.q, j, parent, splay, curl, 0);
      const a = o + child * stride;
      const b = a + stride;
      const t = measureTwist(
        s,
        j,
        m * (jointPositions[b] - jointPositions[a]),
        jointPositions[b + 1] - jointPositions[a + 1],
        jointPositions[b + 2] - jointPositions[a + 2],
      );
      twistOut[j] = t;
      jointRotation(shape, s.q, j, parent, splay, curl, t === t ? t : shape.twist[j]);
    } else jointRotation(shape, s.q, j, parent, splay, curl);
  }
}
