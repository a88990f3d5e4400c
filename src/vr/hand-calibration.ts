/**
 * Skeleton calibration: the owner measures its hand's fixed skeleton (hand-shape.ts) from the tracked joints (wrist
 * frame): every bone's length, every metacarpal's start, and the rest direction of the index and middle metacarpals
 * (they have no angle of their own in the stream). The thumb, ring and pinky metacarpals move (their splay, curl and
 * fold are streamed), so they keep the reference hand's rest direction. A `HandCalibrator` keeps the per-value median
 * over recent frames (tracker noise and single bad frames do not move it) and says when the estimate moved past a
 * threshold from the shape last announced, so the calibration is re-sent rarely.
 */
import { BONE_JOINTS, HAND_JOINT_COUNT, type HandShape, METACARPAL_JOINTS } from './hand-shape.ts';
import { fitHandParameters, HAND_PARAM_COUNT, HAND_SCALE_PARAM, HandSkeletonScratch } from './hand-skeleton.ts';

/** Working arrays of a shape measurement. */
export class HandShapeScratch {
  readonly skeleton = new HandSkeletonScratch();
  readonly params = new Float64Array(HAND_PARAM_COUNT);
  /** The twists measured in the last frame (NaN where the finger was too straight to tell). */
  readonly twist = new Float64Array(HAND_JOINT_COUNT);
}

const exact = (_i: number, v: number): number => v;

/** Metacarpals whose rest direction is measured (no streamed angle moves them): index and middle. */
export const MEASURED_REST_JOINTS = [5, 10] as const;

/**
 * The shape of one frame of joints (`joints`, joint j at o + j * stride, wrist frame) into `out`, mirrored into the
 * right hand's layout for a left hand. The twists (fitted along the chain) land in `s.twist` (NaN: unknown) and in
 * `out.twist` (0 where unknown). Returns false (`out` then partly written) when a value is not finite.
 */
export function measureHandShape(
  joints: ArrayLike<number>,
  stride: number,
  o: number,
  left: boolean,
  out: HandShape,
  s: HandShapeScratch,
): boolean {
  const m = left ? -1 : 1;
  for (let j = 0; j < HAND_JOINT_COUNT; j++)
    for (let c = 0; c < 3; c++) if (!Number.isFinite(joints[o + j * stride + c])) return false;
  for (const j of BONE_JOINTS) {
    const a = o + j * stride;
    const b = a + stride;
    out.bone[j] = Math.hypot(joints[b] - joints[a], joints[b + 1] - joints[a + 1], joints[b + 2] - joints[a + 2]);
  }
  for (const j of METACARPAL_JOINTS) {
    const a = o + j * stride;
    out.root[j * 3] = m * joints[a];
    out.root[j * 3 + 1] = joints[a + 1];
    out.root[j * 3 + 2] = joints[a + 2];
  }
  for (const j of MEASURED_REST_JOINTS) {
    const a = o + j * stride;
    const b = a + stride;
    // the direction of Ry(yaw) Rx(pitch) (0, 0, -1) is (-sin yaw cos pitch, sin pitch, -cos yaw cos pitch)
    const dx = m * (joints[b] - joints[a]);
    const dy = joints[b + 1] - joints[a + 1];
    const dz = joints[b + 2] - joints[a + 2];
    out.rest[j * 3] = Math.atan2(-dx, -dz);
    out.rest[j * 3 + 1] = Math.atan2(dy, Math.hypot(dx, dz));
    out.rest[j * 3 + 2] = 0;
  }
  out.twist.fill(0);
  out.refresh();
  s.params[HAND_SCALE_PARAM] = 1;
  s.twist.fill(NaN);
  fitHandParameters(joints, stride, o, left, s.params, exact, s.skeleton, out, s.twist);
  for (let j = 0; j < HAND_JOINT_COUNT; j++) out.twist[j] = s.twist[j] === s.twist[j] ? s.twist[j] : 0;
  return true;
}
