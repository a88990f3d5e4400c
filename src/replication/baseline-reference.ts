/**
 * The reference a residual is coded against (capability `ackedbase2`): either the baseline value B1 the client
 * holds for tick `Delta tick - age` ("last acked"), or a linear prediction from B1 and B2, the value it holds for
 * tick `Delta tick - 2 x age` ("predicted"): per quantized field `2 x B1 - B2`, per quaternion smallest-three
 * component the same when B1 and B2 have the same largest-component index (else B1's quaternion), each clamped to
 * its field's range. The ticks are equally spaced, so the prediction needs no division: server and client compute
 * it in integers from the same held values and get bit-identical references.
 */
import type { ResidualLayout } from './residual-codec.ts';

/** Reference kinds a mode-1 component names with its reference bit. */
export const Reference = {
  /** The baseline value itself. */
  last: 0,
  /** The linear prediction from the baseline and the value one age before it. */
  predicted: 1,
} as const;

/**
 * Writes into `out[f]`, for the fields of `mask`, the reference against which residuals are coded: B1's value
 * (`values[at1 + f]`) when `at2` < 0, else the prediction from B1 and B2 (`values[at2 + f]`). `values` is a
 * history ring's value array (server: what was sent; client: what was received).
 */
export function referenceOf(
  layout: ResidualLayout,
  mask: number,
  values: ArrayLike<number>,
  at1: number,
  at2: number,
  out: Float64Array,
): void {
  const n = layout.quatBits.length;
  for (let f = 0; f < n; f++) {
    if ((mask & (1 << f)) === 0) continue;
    const b1 = values[at1 + f];
    if (at2 < 0) {
      out[f] = b1;
      continue;
    }
    const b2 = values[at2 + f];
    const qb = layout.quatBits[f];
    if (qb === 0) {
      const p = 2 * b1 - b2;
      const max = layout.maxWire[f];
      out[f] = p < 0 ? 0 : p > max ? max : p;
      continue;
    }
    const unit = 2 ** qb;
    const span = unit * unit * unit;
    const index = Math.floor(b1 / span);
    if (index !== Math.floor(b2 / span)) {
      out[f] = b1;
      continue;
    }
    let v = index * span;
    for (let s = 2; s >= 0; s--) {
      const pw = unit ** s;
      const p = 2 * (Math.floor(b1 / pw) % unit) - (Math.floor(b2 / pw) % unit);
      v += (p < 0 ? 0 : p >= unit ? unit - 1 : p) * pw;
    }
    out[f] = v;
  }
}

/**
 * `referenceOf` for the server's fast path, in integer math on 32-bit wire words: the predicted reference from
 * B1 (`values[at1 + f]`) and B2 (`values[at2 + f]`, `at2` >= 0) into `out[f]` for the fields of `mask`, the
 * same values (test/replication/residual-plan.test.ts checks they agree).
 */
export function predictWire(
  layout: ResidualLayout,
  mask: number,
  values: Uint32Array,
  at1: number,
  at2: number,
  out: Uint32Array,
): void {
  const quatBits = layout.quatBits;
  for (let f = 0; f < quatBits.length; f++) {
    if ((mask & (1 << f)) === 0) continue;
    const b1 = values[at1 + f];
    const b2 = values[at2 + f];
    const qb = quatBits[f];
    if (qb === 0) {
      // Up to 2^33: plain number math, exact.
      const p = 2 * b1 - b2;
      const max = layout.maxWire[f];
      out[f] = p < 0 ? 0 : p > max ? max : p;
      continue;
    }
    const top = 3 * qb;
    if (b1 >>> top !== b2 >>> top) {
      out[f] = b1;
      continue;
    }
    const low = (1 << qb) - 1;
    let v = (b1 >>> top) << top;
    for (let shift = 2 * qb; shift >= 0; shift -= qb) {
      const p = 2 * ((b1 >>> shift) & low) - ((b2 >>> shift) & low);
      v |= (p < 0 ? 0 : p > low ? low : p) << shift;
    }
    out[f] = v >>> 0;
  }
}
