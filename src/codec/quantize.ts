/**
 * Quantized floats: a value in [min, max] travels as the integer q = round((x - min) / precision) in [0, steps],
 * written with `quantizedBits` bits. Decoding gives min + q * precision, clamped to max. For x in [min, max] the error
 * is at most precision / 2 (plus float64 rounding, a few ulps of max(|min|, |max|)).
 */

/** Largest step count a quantized field may have, so a value fits one `writeBits` call (32 bits). */
export const MAX_QUANTIZED_STEPS = 4294967295;

/**
 * Slack subtracted before rounding the step count up, so a range that is an exact multiple of the precision but
 * computes as 100.00000000001 steps does not get a 101st step.
 */
const STEP_SLACK = 1e-9;

/**
 * Smallest precision (relative to max(|min|, |max|)) for which a dequantized value survives being stored in a
 * Float32Array: float32 rounding moves a value by at most 2^-24 of its magnitude, and re-quantizing stays on the same
 * step while that is below half a step. 2^-22 keeps the shift under a quarter step, a margin over float64 noise.
 */
export const FLOAT32_STABLE_RELATIVE_PRECISION = 2 ** -22;

/** Number of steps above min: q runs over 0..steps. */
export function quantizedSteps(min: number, max: number, precision: number): number {
  return Math.ceil((max - min) / precision - STEP_SLACK);
}

/** Bits needed to hold 0..steps (1..32 for a valid configuration). */
export function quantizedBits(min: number, max: number, precision: number): number {
  const steps = quantizedSteps(min, max, precision);
  let bits = 0;
  let capacity = 1;
  while (capacity <= steps) {
    capacity *= 2;
    bits++;
  }
  return bits;
}

/**
 * Quantizes `x` to an integer in [0, steps]. Values are clamped to [min, max] first; NaN and -Infinity give 0 (min),
 * +Infinity gives the step of max. For x in range, |dequantize(quantize(x)) - x| <= precision / 2.
 */
export function quantize(x: number, min: number, max: number, precision: number): number {
  if (!(x > min)) return 0;
  if (x > max) x = max;
  // (x - min) / precision <= (max - min) / precision < steps + 0.5, so the rounded value never exceeds steps.
  return Math.round((x - min) / precision);
}

/**
 * Value of step `q`: min + q * precision, clamped to [min, max] (so an out-of-range q from the network stays in
 * range). For float32 storage see `isFloat32Stable`.
 */
export function dequantize(q: number, min: number, max: number, precision: number): number {
  const x = min + q * precision;
  if (x > max) return max;
  if (x < min) return min;
  return x;
}

/**
 * True when a dequantized value written to a Float32Array re-quantizes to the same step:
 * quantize(f32(dequantize(q))) === q for every q that quantize can produce. Holds when
 * precision >= 2^-22 * max(|min|, |max|) (e.g. +-32 m needs precision >= 7.6 um); below about 2^-23 it fails.
 */
export function isFloat32Stable(min: number, max: number, precision: number): boolean {
  const magnitude = Math.max(Math.abs(min), Math.abs(max));
  return precision >= FLOAT32_STABLE_RELATIVE_PRECISION * magnitude;
}

/** Checks a quantized field's configuration; returns what is wrong, or null when it is usable. */
export function validateQuantized(min: number, max: number, precision: number): string | null {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return `min and max must be finite (got ${min}, ${max})`;
  if (!Number.isFinite(precision) || !(precision > 0))
    return `precision must be a finite number > 0 (got ${precision})`;
  if (!(min < max)) return `min must be < max (got ${min} >= ${max})`;
  const steps = quantizedSteps(min, max, precision);
  if (!(steps <= MAX_QUANTIZED_STEPS)) {
    return `(max - min) / precision gives ${steps} steps, more than 2^32 - 1: use a coarser precision or f32/f64`;
  }
  return null;
}
