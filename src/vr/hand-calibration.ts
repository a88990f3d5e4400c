/**
 * Skeleton calibration: the owner measures its hand's fixed skeleton (hand-shape.ts) from the tracked joints (wrist
 * frame): every bone's length, every metacarpal's start, and the rest direction of the index and middle metacarpals
 * (they have no angle of their own in the stream). The thumb, ring and pinky metacarpals move (their splay, curl and
 * fold are streamed), so they keep the reference hand's rest direction. A `HandCalibrator` keeps the per-value median
 * over recent frames (tracker noise and single bad frames do not move it) and says when the estimate moved past a
 * threshold from the shape last announced, so the calibration is re-sent rarely.
 */
import { CALIBRATION_VALUES, quantizeHandShape, TWIST_JOINTS } from './hand-calibration-codec.ts';
import { BONE_JOINTS, HAND_JOINT_COUNT, HandShape, MEASURED_REST_JOINTS, METACARPAL_JOINTS } from './hand-shape.ts';
import { fitHandParameters, HAND_PARAM_COUNT, HAND_SCALE_PARAM, HandSkeletonScratch } from './hand-skeleton.ts';

/** Working arrays of a shape measurement. */
export class HandShapeScratch {
  readonly skeleton = new HandSkeletonScratch();
  readonly params = new Float64Array(HAND_PARAM_COUNT);
  /** The twists measured in the last frame (NaN where the finger was too straight to tell). */
  readonly twist = new Float64Array(HAND_JOINT_COUNT);
}

const exact = (_i: number, v: number): number => v;

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

/** Frames of measurements the median is taken over (~3 s at 30 Hz sends when every other send is measured). */
export const CALIBRATION_WINDOW = 48;
/** Measurements before the first estimate is announced. */
export const CALIBRATION_MIN_FRAMES = 8;
/**
 * The estimate is re-announced when a length or start moves by more than 3 codes (1.5 mm), a rest direction by more
 * than 5 (0.05 rad) or a twist by more than 8 (0.2 rad: twists wander with the pose more than the rest).
 */
export const CALIBRATION_CHANGE_CODES = 3;
const REST_CHANGE_CODES = 5;
const TWIST_CHANGE_CODES = 8;

/**
 * The owner's running calibration of one hand: per-value medians over the last CALIBRATION_WINDOW measurements
 * (twists over the frames where the finger was curled enough to tell). Allocation-free after construction.
 */
export class HandCalibrator {
  private readonly frame = new HandShape();
  private readonly s = new HandShapeScratch();
  /** Measured values per frame: ring[f * CALIBRATION_VALUES + i] in calibration wire order (NaN: unknown). */
  private readonly ring = new Float64Array(CALIBRATION_WINDOW * CALIBRATION_VALUES).fill(NaN);
  private readonly column = new Float64Array(CALIBRATION_WINDOW);
  private readonly values = new Float64Array(CALIBRATION_VALUES);
  private readonly shape = new HandShape();
  private next = 0;
  /** Measurements taken (finite frames). */
  frames = 0;

  /** Adds a frame of wrist-frame joints (joint j at o + j * stride); false when it had non-finite values. */
  add(joints: ArrayLike<number>, stride: number, o: number, left: boolean): boolean {
    if (!measureHandShape(joints, stride, o, left, this.frame, this.s)) return false;
    const r = this.ring;
    let k = this.next * CALIBRATION_VALUES;
    for (const j of BONE_JOINTS) r[k++] = this.frame.bone[j];
    for (const j of METACARPAL_JOINTS) for (let c = 0; c < 3; c++) r[k++] = this.frame.root[j * 3 + c];
    for (const j of MEASURED_REST_JOINTS) for (let c = 0; c < 2; c++) r[k++] = this.frame.rest[j * 3 + c];
    for (const j of TWIST_JOINTS) r[k++] = this.s.twist[j];
    this.next = (this.next + 1) % CALIBRATION_WINDOW;
    this.frames++;
    return true;
  }

  /**
   * The median estimate as calibration codes into `out` (quantizeHandShape's layout); false before
   * CALIBRATION_MIN_FRAMES measurements. Twists with no measurement in the window keep the reference's 0.
   */
  estimate(out: Int16Array): boolean {
    if (this.frames < CALIBRATION_MIN_FRAMES) return false;
    const n = Math.min(this.frames, CALIBRATION_WINDOW);
    for (let i = 0; i < CALIBRATION_VALUES; i++) {
      let m = 0;
      for (let f = 0; f < n; f++) {
        const v = this.ring[f * CALIBRATION_VALUES + i];
        if (v === v) this.column[m++] = v;
      }
      if (m === 0) {
        this.values[i] = 0;
        continue;
      }
      const col = this.column.subarray(0, m).sort();
      this.values[i] = m % 2 === 1 ? col[(m - 1) / 2] : (col[m / 2 - 1] + col[m / 2]) / 2;
    }
    const sh = this.shape.setReference();
    let k = 0;
    for (const j of BONE_JOINTS) sh.bone[j] = this.values[k++];
    for (const j of METACARPAL_JOINTS) for (let c = 0; c < 3; c++) sh.root[j * 3 + c] = this.values[k++];
    for (const j of MEASURED_REST_JOINTS) for (let c = 0; c < 2; c++) sh.rest[j * 3 + c] = this.values[k++];
    for (const j of TWIST_JOINTS) sh.twist[j] = this.values[k++];
    quantizeHandShape(sh, out);
    return true;
  }

  /** Forgets every measurement (a new user, a lost hand). */
  reset(): void {
    this.ring.fill(NaN);
    this.next = 0;
    this.frames = 0;
  }
}

/** Whether calibration codes `a` and `b` differ by more than the re-announce threshold in any value. */
export function calibrationMoved(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const twists = CALIBRATION_VALUES - TWIST_JOINTS.length;
  for (let i = 0; i < CALIBRATION_VALUES; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (i >= twists) {
      if (Math.min(d, 256 - d) > TWIST_CHANGE_CODES) return true; // twists wrap
    } else if (d > (i >= twists - 4 ? REST_CHANGE_CODES : CALIBRATION_CHANGE_CODES)) return true;
  }
  return false;
}
