/**
 * HandCalibration (tag 1017, reliable, owner -> server and server -> viewers): the fixed skeleton of tracked hands
 * (see hand-shape.ts, hand-calibration.ts), sent when the owner's estimate first settles and again when it moves past a
 * threshold; every receiver rebuilds the hand's streamed angles on it. Byte-aligned, after the u16 tag:
 *
 *   1. varuint  count            hands in the message, 1..MAX_CALIBRATION_HANDS
 *   2. per hand:
 *      a. varuint netId          the hand's device entity (> 0)
 *      b. 19 x u8  bone lengths  0.5 mm steps, in BONE_JOINTS order
 *      c. 15 x i8  metacarpal starts (x, y, z of thumb..pinky), 0.5 mm steps
 *      d.  4 x i8  index and middle metacarpal rest yaw, pitch, 0.01 rad steps
 *      e. 10 x i8  twists of TWIST_JOINTS, pi/128 rad steps
 *
 * A hand whose values are not plausible for a human hand (a bone outside 0.5..1.8 of the reference's length, a
 * metacarpal start more than 30 mm from the reference's on an axis, a rest direction past 0.8 rad) is refused;
 * decoding validates lengths and never throws.
 */
import { Tag } from '../protocol/tags.ts';
import { beginMessage, type BitReader, type BitWriter } from '../replication/wire-bodies.ts';
import {
  BONE_JOINTS,
  type HandShape,
  MEASURED_REST_JOINTS,
  METACARPAL_JOINTS,
  REFERENCE_HAND_SHAPE,
} from './hand-shape.ts';

/** Joints whose twist is carried: those whose child curls in a plane the twist sets (thumb and finger chains). */
export const TWIST_JOINTS = [1, 2, 6, 7, 11, 12, 16, 17, 21, 22] as const;
/** Most hands in one HandCalibration: a client's two plus two spare (as HandInput); the server sends up to 16. */
export const MAX_CALIBRATION_HANDS = 16;
/** Values of one hand's calibration, in wire order (bones, starts, rests, twists): each one byte. */
export const CALIBRATION_VALUES = BONE_JOINTS.length + 15 + 4 + TWIST_JOINTS.length;
/** Bytes of one hand's calibration after its netId. */
export const CALIBRATION_HAND_BYTES = CALIBRATION_VALUES;

const LENGTH_STEP_M = 0.0005;
const REST_STEP_RAD = 0.01;
const TWIST_STEP_RAD = Math.PI / 128;
/** Plausible bone length against the reference bone's. */
const MIN_BONE_RATIO = 0.5;
const MAX_BONE_RATIO = 1.8;
/** Plausible distance of a metacarpal start from the reference's, per axis (m). */
const MAX_ROOT_OFFSET_M = 0.03;
/** Plausible index / middle metacarpal rest yaw and pitch (rad). */
const MAX_REST_RAD = 0.8;

function clampInt(v: number, lo: number, hi: number): number {
  const c = Math.round(v);
  return c < lo ? lo : c > hi ? hi : c;
}

/** The calibration codes (one byte each, signed ones as -128..127) of `shape` into `out`. */
export function quantizeHandShape(shape: HandShape, out: Int16Array): void {
  let k = 0;
  for (const j of BONE_JOINTS) out[k++] = clampInt(shape.bone[j] / LENGTH_STEP_M, 0, 255);
  for (const j of METACARPAL_JOINTS)
    for (let c = 0; c < 3; c++) out[k++] = clampInt(shape.root[j * 3 + c] / LENGTH_STEP_M, -128, 127);
  for (const j of MEASURED_REST_JOINTS)
    for (let c = 0; c < 2; c++) out[k++] = clampInt(shape.rest[j * 3 + c] / REST_STEP_RAD, -128, 127);
  for (const j of TWIST_JOINTS) {
    const t = Math.atan2(Math.sin(shape.twist[j]), Math.cos(shape.twist[j]));
    out[k++] = clampInt(t / TWIST_STEP_RAD, -128, 127);
  }
}

/**
 * The shape of calibration codes `codes` into `out` (the reference hand's other values kept). Returns false, `out`
 * then unspecified, when a code is out of its byte range or the shape is not a plausible human hand.
 */
export function dequantizeHandShape(codes: ArrayLike<number>, out: HandShape): boolean {
  out.setReference();
  const ref = REFERENCE_HAND_SHAPE;
  let k = 0;
  for (const j of BONE_JOINTS) {
    const c = codes[k++];
    if (!(c >= 0 && c <= 255)) return false;
    const len = c * LENGTH_STEP_M;
    if (!(len >= ref.bone[j] * MIN_BONE_RATIO && len <= ref.bone[j] * MAX_BONE_RATIO)) return false;
    out.bone[j] = len;
  }
  for (const j of METACARPAL_JOINTS)
    for (let a = 0; a < 3; a++) {
      const c = codes[k++];
      if (!(c >= -128 && c <= 127)) return false;
      const v = c * LENGTH_STEP_M;
      if (!(Math.abs(v - ref.root[j * 3 + a]) <= MAX_ROOT_OFFSET_M)) return false;
      out.root[j * 3 + a] = v;
    }
  for (const j of MEASURED_REST_JOINTS)
    for (let a = 0; a < 2; a++) {
      const c = codes[k++];
      if (!(c >= -128 && c <= 127)) return false;
      const v = c * REST_STEP_RAD;
      if (!(Math.abs(v) <= MAX_REST_RAD)) return false;
      out.rest[j * 3 + a] = v;
    }
  for (const j of TWIST_JOINTS) {
    const c = codes[k++];
    if (!(c >= -128 && c <= 127)) return false;
    out.twist[j] = c * TWIST_STEP_RAD;
  }
  out.refresh();
  return true;
}

/** One message's hands: netId and calibration codes each (preallocated). */
export class HandCalibrationFrame {
  count = 0;
  readonly netId = new Float64Array(MAX_CALIBRATION_HANDS);
  /** codes[h * CALIBRATION_VALUES + i]. */
  readonly codes = new Int16Array(MAX_CALIBRATION_HANDS * CALIBRATION_VALUES);
}

/** Writes HandCalibration (tag + body) of the first `f.count` hands of `f`. */
export function encodeHandCalibration(w: BitWriter, f: HandCalibrationFrame): void {
  beginMessage(w, Tag.HandCalibration);
  w.writeVarUint(f.count);
  for (let h = 0; h < f.count; h++) {
    w.writeVarUint(f.netId[h]);
    for (let i = 0; i < CALIBRATION_VALUES; i++) w.writeBits(f.codes[h * CALIBRATION_VALUES + i] & 0xff, 8);
  }
}

/**
 * Reads a HandCalibration body (reader after the tag) into `f`, at most `maxHands` hands. False when malformed
 * (count 0 or above the bound, a netId 0, the message short or longer than its hands). Values are not checked here:
 * `dequantizeHandShape` refuses implausible hands one by one.
 */
export function decodeHandCalibration(r: BitReader, f: HandCalibrationFrame, maxHands: number): boolean {
  const count = r.readVarUint();
  if (!r.ok || count < 1 || count > maxHands || count > MAX_CALIBRATION_HANDS) return false;
  for (let h = 0; h < count; h++) {
    const netId = r.readVarUint();
    if (!r.ok || netId === 0) return false;
    f.netId[h] = netId;
    const o = h * CALIBRATION_VALUES;
    for (let i = 0; i < CALIBRATION_VALUES; i++) {
      const b = r.readBits(8);
      // bones are unsigned, the rest signed bytes
      f.codes[o + i] = i < BONE_JOINTS.length || b < 128 ? b : b - 256;
    }
    if (!r.ok) return false;
  }
  f.count = count;
  return r.ok && r.remainingBits < 8;
}
