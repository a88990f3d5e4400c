/**
 * Residual coding of a component's quantized fields against a baseline value the receiver holds (the value of
 * an earlier tick the client acked): each field as an order-k Exp-Golomb residual, a quaternion as its three
 * smallest-three components when the baseline has the same largest-component index. The caller writes the
 * component absolute instead when no baseline exists or `residualBits` says the residual form does not pay.
 *
 * Body of one component in residual form (bits): k selector (2 bits: k = 0, 2, 4, 6), then per field in the
 * mask, in field order: a quantized field's residual `writeEg(value - base, k)`; a quaternion's three component
 * residuals. The reader checks every reconstructed value against its field's range (a quantized field's
 * `maxWire`, a quaternion component's `2^bits - 1`) and a prefix length bound, so hostile input fails the reader
 * instead of producing an out-of-range wire value.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import { FieldKind } from '../protocol/field-schema.ts';
import type { RegisteredComponent } from '../register.ts';
import { MAX_EG_ZEROS, readEg, writeEg } from '../vr/exp-golomb.ts';

/** Exp-Golomb orders the 2-bit selector names. */
const ORDERS = [0, 2, 4, 6] as const;

/** Bits of the order selector that opens a residual body. */
export const RESIDUAL_ORDER_BITS = 2;

/** How a component's fields are residual-coded: per field its largest wire value, or its quaternion bits. */
export interface ResidualLayout {
  /** Per field: the largest valid wire value of a quantized field (0 for a quaternion). */
  readonly maxWire: Float64Array;
  /** Per field: bits of each smallest-three component of a quaternion (0 for a quantized field). */
  readonly quatBits: Int32Array;
}

const layoutCache = new WeakMap<RegisteredComponent, ResidualLayout | null>();

/**
 * The residual layout of `comp`, or null when one of its fields is not a quantized number or a quaternion of at
 * most 32 bits (those components are always sent absolute).
 */
export function residualLayout(comp: RegisteredComponent): ResidualLayout | null {
  let layout = layoutCache.get(comp);
  if (layout !== undefined) return layout;
  const n = comp.fields.length;
  const maxWire = new Float64Array(n);
  const quat = new Int32Array(n);
  layout = n > 0 ? { maxWire, quatBits: quat } : null;
  for (let f = 0; f < n && layout !== null; f++) {
    const fd = comp.fields[f];
    if (fd.kind === FieldKind.quantized && fd.bits <= 32) maxWire[f] = fd.maxWire;
    else if (fd.kind === FieldKind.quat && fd.bits <= 32) quat[f] = fd.quatBits;
    else layout = null;
  }
  layoutCache.set(comp, layout);
  return layout;
}

/** Longest Exp-Golomb code (bits) whose prefix a reader accepts at order k: `2 x MAX_EG_ZEROS + 1 + k`. */
const MAX_CODE_BITS_AT_0 = 2 * MAX_EG_ZEROS + 1;

/**
 * Bits of the cheapest residual body (selector included) for fields `mask` of `values` against `base`, with the
 * chosen order in `out[0]`; -1 when the residual form cannot carry it (a quaternion's index changed, or a
 * residual too large for every order). One pass over the residuals sums their code lengths at every order
 * (no allocation: the four sums are locals).
 */
export function residualBits(
  layout: ResidualLayout,
  mask: number,
  values: ArrayLike<number>,
  vOff: number,
  base: ArrayLike<number>,
  bOff: number,
  out: Int32Array,
): number {
  // Per order (0, 2, 4, 6): the summed bits, or -1 once a residual's prefix would pass MAX_EG_ZEROS.
  let b0 = 0;
  let b2 = 0;
  let b4 = 0;
  let b6 = 0;
  const n = layout.quatBits.length;
  for (let f = 0; f < n; f++) {
    if ((mask & (1 << f)) === 0) continue;
    const v = values[vOff + f];
    const b = base[bOff + f];
    const qb = layout.quatBits[f];
    let parts = 1;
    let d0 = v - b;
    let d1 = 0;
    let d2 = 0;
    if (qb !== 0) {
      // Quaternions are at most 32 bits: the unsigned shifts split them exactly.
      if (v >>> (3 * qb) !== b >>> (3 * qb)) return -1;
      const m = (1 << qb) - 1;
      d0 = ((v >>> (2 * qb)) & m) - ((b >>> (2 * qb)) & m);
      d1 = ((v >>> qb) & m) - ((b >>> qb) & m);
      d2 = (v & m) - (b & m);
      parts = 3;
    }
    for (let i = 0; i < parts; i++) {
      const d = i === 0 ? d0 : i === 1 ? d1 : d2;
      const z = d >= 0 ? 2 * d : -2 * d - 1;
      // Order k: 2 x bitLength(z + 2^k) - 1 - k bits; past MAX_CODE_BITS_AT_0 + k the prefix is too long.
      if (z >= 2 ** 31 - 64) return -1;
      if (b0 >= 0) b0 = addCode(b0, z, 0);
      if (b2 >= 0) b2 = addCode(b2, z, 2);
      if (b4 >= 0) b4 = addCode(b4, z, 4);
      if (b6 >= 0) b6 = addCode(b6, z, 6);
    }
  }
  let best = b0;
  out[0] = 0;
  if (b2 >= 0 && (best < 0 || b2 < best)) {
    best = b2;
    out[0] = 1;
  }
  if (b4 >= 0 && (best < 0 || b4 < best)) {
    best = b4;
    out[0] = 2;
  }
  if (b6 >= 0 && (best < 0 || b6 < best)) {
    best = b6;
    out[0] = 3;
  }
  return best < 0 ? -1 : best + RESIDUAL_ORDER_BITS;
}

/** `sum` plus the order-k code length of zigzagged `z`, or -1 when its prefix would pass `MAX_EG_ZEROS`. */
function addCode(sum: number, z: number, k: number): number {
  const bits = 2 * (32 - Math.clz32(z + (1 << k))) - 1 - k;
  return bits > MAX_CODE_BITS_AT_0 + k ? -1 : sum + bits;
}

/** Writes the residual body of fields `mask` at the order selector `order` (from `residualBits`). */
export function writeResiduals(
  w: BitWriter,
  layout: ResidualLayout,
  mask: number,
  values: ArrayLike<number>,
  vOff: number,
  base: ArrayLike<number>,
  bOff: number,
  order: number,
): void {
  w.writeBits(order, RESIDUAL_ORDER_BITS);
  const k = ORDERS[order];
  const n = layout.quatBits.length;
  for (let f = 0; f < n; f++) {
    if ((mask & (1 << f)) === 0) continue;
    const v = values[vOff + f];
    const b = base[bOff + f];
    const qb = layout.quatBits[f];
    if (qb === 0) {
      writeEg(w, v - b, k);
      continue;
    }
    const unit = 2 ** qb;
    for (let s = 2; s >= 0; s--) {
      const p = unit ** s;
      writeEg(w, (Math.floor(v / p) % unit) - (Math.floor(b / p) % unit), k);
    }
  }
}

/**
 * Reads a residual body of fields `mask` against `base` into `out[oOff + f]`. Returns false (and fails the
 * reader) when a reconstructed value leaves its field's range or the body is truncated or malformed; `out` may
 * then hold partial values and must not be applied. With `base` null the body is only read past (the receiver
 * lacks the baseline): prefixes and length are still checked.
 */
export function readResiduals(
  r: BitReader,
  layout: ResidualLayout,
  mask: number,
  base: ArrayLike<number> | null,
  bOff: number,
  out: Float64Array,
  oOff: number,
): boolean {
  const k = ORDERS[r.readBits(RESIDUAL_ORDER_BITS)];
  const n = layout.quatBits.length;
  for (let f = 0; f < n; f++) {
    if ((mask & (1 << f)) === 0) continue;
    if (base === null) {
      for (let s = layout.quatBits[f] === 0 ? 1 : 3; s > 0; s--) readEg(r, k);
      if (!r.ok) return false;
      continue;
    }
    const b = base[bOff + f];
    const qb = layout.quatBits[f];
    if (qb === 0) {
      const v = b + readEg(r, k);
      if (!r.ok || !(v >= 0 && v <= layout.maxWire[f])) return fail(r);
      out[oOff + f] = v;
      continue;
    }
    const unit = 2 ** qb;
    const span = unit * unit * unit;
    let v = Math.floor(b / span) * span;
    for (let s = 2; s >= 0; s--) {
      const p = unit ** s;
      const part = (Math.floor(b / p) % unit) + readEg(r, k);
      if (!r.ok || !(part >= 0 && part < unit)) return fail(r);
      v += part * p;
    }
    out[oOff + f] = v;
  }
  return r.ok;
}

function fail(r: BitReader): false {
  r.fail();
  return false;
}
