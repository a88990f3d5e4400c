/**
 * Joint poses <-> hand codes: the owner fits the 23 quantized parameters to its tracked joint positions (wrist
 * frame), every receiver rebuilds the 25 joint poses from the codes. The fit quantizes joint by joint against the
 * chain as the receiver will rebuild it, so rounding does not add up along a finger.
 */
import { dequantizeHandParam, quantizeHandParam } from './hand-codec.ts';
import {
  fitHandParameters,
  fitHandScale,
  HAND_PARAM_COUNT,
  HAND_SCALE_PARAM,
  handJointPoses,
  HandSkeletonScratch,
} from './hand-skeleton.ts';
import { type HandShape, REFERENCE_HAND_SHAPE } from './hand-shape.ts';

/** The fitted scale's code changes only when the estimate moves past 1.5 steps: tracker noise costs no bits. */
const SCALE_HYSTERESIS_STEPS = 1.5;

/** Fits and rebuilds hands; owns its scratch (one per user, nothing shared between worlds). */
export class HandFitter {
  private readonly scratch = new HandSkeletonScratch();
  private readonly params = new Float64Array(HAND_PARAM_COUNT);
  private readonly quantize = (i: number, v: number): number => dequantizeHandParam(i, quantizeHandParam(i, v));

  /**
   * Codes of the joint positions `joints` (wrist frame, joint j at o + j * stride) into `codes`. `scaleCode` is the
   * hand's previous scale code (-1: none); the result keeps it unless the measured scale moved past the hysteresis.
   * `shape` is the skeleton both sides rebuild with (the hand's calibration, or the reference hand).
   */
  fit(
    joints: ArrayLike<number>,
    stride: number,
    o: number,
    left: boolean,
    codes: Int32Array,
    scaleCode: number,
    shape: HandShape = REFERENCE_HAND_SHAPE,
  ): void {
    const p = this.params;
    const measured = fitHandScale(joints, stride, o, shape);
    let sc = quantizeHandParam(HAND_SCALE_PARAM, measured);
    if (scaleCode >= 0) {
      const drift = Math.abs(measured - dequantizeHandParam(HAND_SCALE_PARAM, scaleCode));
      if (
        drift <
        SCALE_HYSTERESIS_STEPS * (dequantizeHandParam(HAND_SCALE_PARAM, 1) - dequantizeHandParam(HAND_SCALE_PARAM, 0))
      )
        sc = scaleCode;
    }
    p[HAND_SCALE_PARAM] = dequantizeHandParam(HAND_SCALE_PARAM, sc);
    fitHandParameters(joints, stride, o, left, p, this.quantize, this.scratch, shape);
    for (let i = 0; i < HAND_SCALE_PARAM; i++) codes[i] = quantizeHandParam(i, p[i]);
    codes[HAND_SCALE_PARAM] = sc;
  }

  /** The 25 joint poses (wrist frame, 25 x 7 from `o`) of `codes` on skeleton `shape`. */
  rebuild(
    codes: ArrayLike<number>,
    left: boolean,
    out: Float64Array | Float32Array,
    o = 0,
    shape: HandShape = REFERENCE_HAND_SHAPE,
  ): void {
    const p = this.params;
    for (let i = 0; i < HAND_PARAM_COUNT; i++) p[i] = dequantizeHandParam(i, codes[i]);
    handJointPoses(p, left, this.scratch, out, o, shape);
  }

  /** The 25 joint poses of parameter values (radians and scale, not codes), for blending between samples. */
  rebuildValues(
    values: ArrayLike<number>,
    left: boolean,
    out: Float64Array | Float32Array,
    o = 0,
    shape: HandShape = REFERENCE_HAND_SHAPE,
  ): void {
    handJointPoses(values, left, this.scratch, out, o, shape);
  }
}
