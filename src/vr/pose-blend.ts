/**
 * Error blending: a pose that must change (a correction, a late sample after extrapolation) is shown as the new pose
 * plus an error that fades linearly to zero over the blend time, so the visible pose stays continuous and moves at
 * most error x frame / blend more than the underlying motion in any frame.
 */
import { quatMultiply, quatNormalize, quatSlerp } from './pose-math.ts';

const s4 = new Float64Array(4);

/** Writes base + error x weight(now) into out (may be `base`): position added, rotation pre-multiplied. */
export function applyBlend(
  base: Float64Array,
  error: Float64Array,
  startMs: number,
  nowMs: number,
  blendMs: number,
  out: Float64Array,
): void {
  if (out !== base) out.set(base.subarray(0, 7));
  const w = blendMs > 0 ? 1 - (nowMs - startMs) / blendMs : 0;
  if (!(w > 0)) return;
  const k = w > 1 ? 1 : w;
  out[0] += error[0] * k;
  out[1] += error[1] * k;
  out[2] += error[2] * k;
  quatSlerp(0, 0, 0, 1, error[3], error[4], error[5], error[6], k, s4, 0);
  quatMultiply(s4[0], s4[1], s4[2], s4[3], out[3], out[4], out[5], out[6], out, 3);
  quatNormalize(out, 3);
}

/** Writes the error that makes `base` look like `shown`: position shown - base, rotation shown * base^-1. */
export function setBlendError(shown: Float64Array, base: Float64Array, error: Float64Array): void {
  error[0] = shown[0] - base[0];
  error[1] = shown[1] - base[1];
  error[2] = shown[2] - base[2];
  quatMultiply(shown[3], shown[4], shown[5], shown[6], -base[3], -base[4], -base[5], base[6], error, 3);
  quatNormalize(error, 3);
}
