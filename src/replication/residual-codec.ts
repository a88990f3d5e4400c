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
import { egBits, MAX_EG_ZEROS, readEg, writeEg } from '../vr/exp-golomb.ts';

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

/** Bits of one residual at order k, or -1 when its prefix would pass what a reader accepts (`MAX_EG_ZEROS`). */
function residualCost(v: number, k: number): number {
  const bits = egBits(v, k);
  return (bits - 1 - k) / 2 > MAX_EG_ZEROS ? -1 : bits;
}

/**
 * Sum over the fields of `mask` of the Exp-Golomb bits of each residual at order k; -1 if a quaternion index
 * changed or a residual is too large for order k.
 */
function bitsAtOrder(
  layout: ResidualLayout,
  mask: number,
  values: ArrayLike<number>,
  vOff: number,
  base: ArrayLike<number>,
  bOff: number,
  k: number,
): number {
  let bits = 0;
  const n = layout.quatBits.length;
  for (let f = 0; f < n; f++) {
    if ((mask & (1 << f)) === 0) continue;
    const v = values[vOff + f];
    const b = base[bOff + f];
    const qb = layout.quatBits[f];
    if (qb === 0) {
      const cost = residualCost(v - b, k);
      if (cost < 0) return -1;
      bits += cost;
      continue;
    }
    const unit = 2 ** qb;
    const span = unit * unit * unit;
    if (Math.floor(v / span) !== Math.floor(b / span)) return -1;
    for (let s = 2; s >= 0; s--) {
      const p = unit ** s;
      const cost = residualCost((Math.floor(v / p) % unit) - (Math.floor(b / p) % unit), k);
      if (cost < 0) return -1;
      bits += cost;
    }
  }
  return bits;
}

/**
 * Bits of the cheapest residual body (selector included) for fields `mask` of `values` against `base`, with the
 * chosen order in `out[0]`; -1 when the residual form cannot carry it (a quaternion's index changed, or a
 * residual too large for every order).
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
  let best = -1;
  for (let i = 0; i < ORDERS.length; i++) {
    const bits = bitsAtOrder(layout, mask, values, vOff, base, bOff, ORDERS[i]);
    if (bits >= 0 && (best < 0 || bits < best)) {
      best = bits;
      out[0] = i;
    }
  }
  return best < 0 ? -1 : best + RESIDUAL_ORDER_BITS;
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
