/**
 * The hand body: one hand's 23 quantized parameters (see hand-skeleton.ts), whole or as residuals against a
 * baseline the receiver has. Bit-packed, MSB-first, inside a HandInput or HandFrames message (hand-stream-codec.ts):
 *
 *   a. 6 bits back                0 = whole; else the baseline is the message `back` frames before this one
 *   b. whole: 8 bits scale code, then each angle code with its own width (PARAM_BITS)
 *      delta: 1 bit same          1 = every code equals the baseline's (nothing follows)
 *             1 bit cross         1 = a finger's curl residuals are predicted by the previous finger's
 *             2 bits k            Exp-Golomb order of the residuals (0..3)
 *             1 bit scale changed, if 1: EG(0) scale residual
 *             22 x EG(k)          angle residuals against baseline + prediction, in parameter order
 *
 * The encoder tries both predictions and every order and keeps the shortest (both sides compute predictions from
 * the same integers). Decoding validates every code against its range and never throws.
 */
import type { BitReader, BitWriter } from '../replication/wire-bodies.ts';
import { egBits, readEg, writeEg } from './exp-golomb.ts';
import { HAND_PARAM_COUNT, HAND_SCALE_PARAM } from './hand-skeleton.ts';

/** Angle quantization step (rad): a fingertip moves at most 0.02 rad x ~95 mm ~ 1.9 mm per joint's rounding. */
export const HAND_ANGLE_STEP_RAD = 0.04;
/** Scale step: 0.25 % of the hand (~0.5 mm at the middle fingertip), 8 bits from 0.68 to 1.3175. */
export const HAND_SCALE_STEP = 0.0025;
/** Smallest scale (a small adult hand is ~0.85 of the reference; a large one ~1.15). */
export const HAND_SCALE_MIN = 0.68;
/** Bits of the baseline distance: baselines up to 63 messages old (2 s at 30 Hz). */
export const HAND_BACK_BITS = 6;
/** Largest baseline distance. */
export const MAX_HAND_BACK = 2 ** HAND_BACK_BITS - 1;

/** Bits of each parameter's code, and its smallest value (rad; the scale's is HAND_SCALE_MIN). */
const PARAM_BITS = new Uint8Array([6, 6, 6, 6, 5, 6, 6, 6, 5, 6, 6, 6, 5, 6, 6, 6, 5, 6, 6, 6, 5, 5, 8]);
const PARAM_MIN = new Float64Array([
  // thumb: metacarpal splay (wide: a Quest pinch turns the thumb ~0.8 rad from the reference's rest), metacarpal
  // curl, proximal curl, distal curl
  -1.2,
  -0.6,
  -0.4,
  -0.4,
  // fingers: proximal splay, proximal curl, intermediate curl, distal curl
  -0.6,
  -0.6,
  -0.2,
  -0.4,
  -0.6,
  -0.6,
  -0.2,
  -0.4,
  -0.6,
  -0.6,
  -0.2,
  -0.4,
  -0.6,
  -0.6,
  -0.2,
  -0.4,
  // ring and pinky metacarpal fold
  -0.3,
  -0.3,
  HAND_SCALE_MIN,
]);
/** Parameter whose residual predicts this one's when `cross` is set (-1: none): a finger's curl by the previous one's. */
const CROSS_REF = new Int8Array([
  -1, -1, -1, -1, -1, -1, -1, -1, -1, 5, 6, 7, -1, 9, 10, 11, -1, 13, 14, 15, -1, 20, -1,
]);

/** Largest code of parameter i. */
export function maxHandCode(i: number): number {
  return 2 ** PARAM_BITS[i] - 1;
}

/** The code of value `v` of parameter i (clamped to its range). */
export function quantizeHandParam(i: number, v: number): number {
  const step = i === HAND_SCALE_PARAM ? HAND_SCALE_STEP : HAND_ANGLE_STEP_RAD;
  const c = Math.round((v - PARAM_MIN[i]) / step);
  const max = maxHandCode(i);
  return c >= 0 ? (c <= max ? c : max) : 0;
}

/** The value of code `c` of parameter i. */
export function dequantizeHandParam(i: number, c: number): number {
  const step = i === HAND_SCALE_PARAM ? HAND_SCALE_STEP : HAND_ANGLE_STEP_RAD;
  return PARAM_MIN[i] + c * step;
}

/** Bits of a whole hand body after `back`. */
const WHOLE_BITS = PARAM_BITS.reduce((a, b) => a + b, 0);

/** Encoder and decoder of hand bodies; keeps its residual scratch (not reentrant). */
export class HandBodyCodec {
  private readonly residual = new Int32Array(HAND_PARAM_COUNT);

  /** Residuals of `codes` against `base` with or without the cross-finger prediction. */
  private residuals(codes: ArrayLike<number>, base: ArrayLike<number>, cross: boolean): Int32Array {
    const r = this.residual;
    for (let i = 0; i < HAND_PARAM_COUNT; i++) {
      const ref = cross ? CROSS_REF[i] : -1;
      const pred = ref >= 0 ? codes[ref] - base[ref] : 0;
      r[i] = codes[i] - base[i] - pred;
    }
    return r;
  }

  private deltaBits(r: Int32Array, k: number): number {
    let bits = 1 + 1 + 2 + 1 + (r[HAND_SCALE_PARAM] !== 0 ? egBits(r[HAND_SCALE_PARAM], 0) : 0);
    for (let i = 0; i < HAND_SCALE_PARAM; i++) bits += egBits(r[i], k);
    return bits;
  }

  /** Writes a hand body: whole when `back` is 0, else against `base` (the receiver's frame `back` messages ago). */
  encode(w: BitWriter, codes: ArrayLike<number>, back: number, base: ArrayLike<number> | null): void {
    // a. baseline distance
    w.writeBits(base ? back : 0, HAND_BACK_BITS);
    if (!base || back === 0) {
      // b. whole: scale first, then the angles
      w.writeBits(codes[HAND_SCALE_PARAM], PARAM_BITS[HAND_SCALE_PARAM]);
      for (let i = 0; i < HAND_SCALE_PARAM; i++) w.writeBits(codes[i], PARAM_BITS[i]);
      return;
    }
    let same = true;
    for (let i = 0; i < HAND_PARAM_COUNT; i++) if (codes[i] !== base[i]) same = false;
    w.writeBits(same ? 1 : 0, 1);
    if (same) return;
    let bestBits = Infinity;
    let bestCross = false;
    let bestK = 0;
    for (const cross of [false, true]) {
      const r = this.residuals(codes, base, cross);
      for (let k = 0; k < 4; k++) {
        const bits = this.deltaBits(r, k);
        if (bits < bestBits) {
          bestBits = bits;
          bestCross = cross;
          bestK = k;
        }
      }
    }
    const r = this.residuals(codes, base, bestCross);
    w.writeBits(bestCross ? 1 : 0, 1);
    w.writeBits(bestK, 2);
    const ds = r[HAND_SCALE_PARAM];
    w.writeBits(ds !== 0 ? 1 : 0, 1);
    if (ds !== 0) writeEg(w, ds, 0);
    for (let i = 0; i < HAND_SCALE_PARAM; i++) writeEg(w, r[i], bestK);
  }

  /**
   * Reads a hand body into `out`. `baseOf(back)` returns the receiver's codes of the frame `back` messages ago, or
   * null when it has none. Returns 0 on success, 1 when malformed, 2 when the baseline is missing (the reader is then
   * positioned after the 6 bits only: the caller must drop the rest of the message).
   */
  decode(r: BitReader, out: Int32Array, baseOf: (back: number) => ArrayLike<number> | null): 0 | 1 | 2 {
    // a. baseline distance
    const back = r.readBits(HAND_BACK_BITS);
    if (!r.ok) return 1;
    if (back === 0) {
      // b. whole
      out[HAND_SCALE_PARAM] = r.readBits(PARAM_BITS[HAND_SCALE_PARAM]);
      for (let i = 0; i < HAND_SCALE_PARAM; i++) out[i] = r.readBits(PARAM_BITS[i]);
      return r.ok ? 0 : 1;
    }
    const base = baseOf(back);
    if (!base) return 2;
    const same = r.readBits(1);
    if (same === 1) {
      for (let i = 0; i < HAND_PARAM_COUNT; i++) out[i] = base[i];
      return r.ok ? 0 : 1;
    }
    const cross = r.readBits(1) === 1;
    const k = r.readBits(2);
    const ds = r.readBits(1) === 1 ? readEg(r, 0) : 0;
    out[HAND_SCALE_PARAM] = base[HAND_SCALE_PARAM] + ds;
    for (let i = 0; i < HAND_SCALE_PARAM; i++) {
      const ref = cross ? CROSS_REF[i] : -1;
      const pred = ref >= 0 ? out[ref] - base[ref] : 0;
      out[i] = base[i] + pred + readEg(r, k);
    }
    if (!r.ok) return 1;
    for (let i = 0; i < HAND_PARAM_COUNT; i++) if (!(out[i] >= 0 && out[i] <= maxHandCode(i))) return 1;
    return 0;
  }
}

/** Bits of a whole hand body, `back` included (for budgeting). */
export const HAND_WHOLE_BODY_BITS = HAND_BACK_BITS + WHOLE_BITS;
