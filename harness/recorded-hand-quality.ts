/**
 * The hand codec's fingertip error on IWER's recorded Quest hand (harness/iwer-hands.ts): every recorded pose and
 * the relaxed-to-pinch blends IWER draws, both hands, each held still until the owner's calibration settles on it
 * (or, uncalibrated, on the reference hand with its fitted scale: the codec before skeleton calibration).
 */
import { CALIBRATION_VALUES, dequantizeHandShape } from '../src/vr/hand-calibration-codec.ts';
import { CALIBRATION_MIN_FRAMES, HandCalibrator } from '../src/vr/hand-calibration.ts';
import { HandFitter } from '../src/vr/hand-fit.ts';
import { HandShape } from '../src/vr/hand-shape.ts';
import { HAND_PARAM_COUNT, JOINT_POSE_LENGTH } from '../src/vr/hand-skeleton.ts';
import { type ErrorSummary, summarizeErrors, tipErrors } from './hand-quality.ts';
import { IWER_HAND_POSES, iwerHandJoints } from './iwer-hands.ts';

/** Fingertip errors (mm) of fit -> quantize -> rebuild over IWER's recorded hand poses and blends. */
export function measureRecordedHandError(calibrated: boolean): ErrorSummary {
  const fitter = new HandFitter();
  const codes = new Int32Array(HAND_PARAM_COUNT);
  const calibration = new Int16Array(CALIBRATION_VALUES);
  const errors: number[] = [];
  for (const left of [false, true]) {
    const frames = Object.values(IWER_HAND_POSES).map((p) => iwerHandJoints(p, left));
    for (let t = 0.1; t < 0.95; t += 0.1)
      frames.push(iwerHandJoints(IWER_HAND_POSES.relaxed, left, IWER_HAND_POSES.pinch, t));
    for (const joints of frames) {
      const shape = new HandShape();
      if (calibrated) {
        const c = new HandCalibrator();
        for (let i = 0; i < CALIBRATION_MIN_FRAMES; i++) c.add(joints, JOINT_POSE_LENGTH, 0, left);
        if (!c.estimate(calibration) || !dequantizeHandShape(calibration, shape)) shape.setReference();
      }
      const rebuilt = new Float64Array(joints.length);
      fitter.fit(joints, JOINT_POSE_LENGTH, 0, left, codes, -1, shape);
      fitter.rebuild(codes, left, rebuilt, 0, shape);
      tipErrors(rebuilt, 0, joints, errors);
    }
  }
  return summarizeErrors(errors);
}
