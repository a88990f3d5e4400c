/**
 * The server's fast path for residual bodies (residual-codec.ts's layout and rules, bit for bit): a component's
 * residuals are computed once per packet into an Int32Array of codes while the Exp-Golomb order is chosen in the
 * same pass, and the same codes are written later without looking at the baseline again. Integer math only (a
 * quaternion's smallest-three parts are shifted out of its wire value, at most 32 bits), no allocation, no
 * boxing. `residualBits` / `writeResiduals` stay the reference; test/replication/residual-plan.test.ts checks
 * the two agree on the bits they give.
 *
 * A residual the reader could not take (prefix longer than `MAX_EG_ZEROS` at every order) makes the plan fail,
 * so the caller goes absolute; any residual of magnitude >= 2^26 is such a one at every order the selector names.
 */
import type { BitWriter } from '../codec/bit-writer.ts';
import { MAX_EG_ZEROS } from '../vr/exp-golomb.ts';
import type { ResidualLayout } from './residual-codec.ts';

/** Exp-Golomb order of each 2-bit selector value (residual-codec.ts's `ORDERS`). */
const ORDER_OF_SELECTOR = [0, 2, 4, 6] as const;

/** Residuals at least this large (in magnitude) need a prefix past `MAX_EG_ZEROS` at every order. */
const MAX_RESIDUAL = 2 ** 26;

/** Most codes one component can produce: three per quaternion field, one per quantized field. */
export function maxResidualCodes(layout: ResidualLayout): number {
  let n = 0;
  for (let f = 0; f < layout.quatBits.length; f++) n += layout.quatBits[f] === 0 ? 1 : 3;
  return n;
}

/**
 * The residual of a quantized field's value `v` against its baseline `b`: the one place a quantized residual is
 * computed on the server's fast path.
 */
export function quantizedResidual(v: number, b: number): number {
  return v - b;
}

/**
 * The residual of one smallest-three part of a quaternion (the `low`-masked bits at `shift` of its wire value
 * `v`) against the same part of its baseline `b`; both are unsigned 32-bit wire values.
 */
export function quatPartResidual(v: number, b: number, shift: number, low: number): number {
  return ((v >>> shift) & low) - ((b >>> shift) & low);
}

/** Bits of `planResidual`'s result below its bit count: the code count (7 bits) and the order selector (2). */
const PLAN_COUNT_SHIFT = 2;
const PLAN_BITS_SHIFT = 9;

/**
 * Plans the residual body of fields `mask` of entity `eid` (values `wires[f][eid]`) against `base[bOff + f]`:
 * its codes in body order into `codes[cOff ..]`, and the cheapest order for them (ties to the smaller order, as
 * residual-codec.ts's `residualBits` does). Returns `planBits(r)` Exp-Golomb bits (selector not included),
 * `planCount(r)` codes and `planSelector(r)`, packed in one integer; -1 when the residual form cannot carry
 * them (a quaternion's index changed, or a residual too large for the reader at every order).
 */
export function planResidual(
  layout: ResidualLayout,
  mask: number,
  wires: readonly Float64Array[],
  eid: number,
  base: Uint32Array,
  bOff: number,
  codes: Int32Array,
  cOff: number,
): number {
  const quatBits = layout.quatBits;
  let n = 0;
  // Per order k, the sum of clz32(z + 2^k) over the codes (z zigzagged, < 2^27: int32 math); bits follow from it.
  let c0 = 0;
  let c2 = 0;
  let c4 = 0;
  let c6 = 0;
  let worst = 0;
  for (let f = 0; f < quatBits.length; f++) {
    if ((mask & (1 << f)) === 0) continue;
    const qb = quatBits[f];
    const b = base[bOff + f];
    if (qb === 0) {
      const r = quantizedResidual(wires[f][eid], b);
      if (!(r > -MAX_RESIDUAL && r < MAX_RESIDUAL)) return -1;
      const ri = r | 0;
      const z = (ri << 1) ^ (ri >> 31);
      if (z > worst) worst = z;
      c0 += Math.clz32(z + 1);
      c2 += Math.clz32(z + 4);
      c4 += Math.clz32(z + 16);
      c6 += Math.clz32(z + 64);
      codes[cOff + n++] = ri;
      continue;
    }
    // A quaternion (at most 32 bits): same largest-component index, then its three parts, most significant first.
    const v = wires[f][eid] >>> 0;
    if (v >>> (3 * qb) !== b >>> (3 * qb)) return -1;
    const low = (1 << qb) - 1;
    for (let shift = 2 * qb; shift >= 0; shift -= qb) {
      const r = quatPartResidual(v, b, shift, low);
      const z = (r << 1) ^ (r >> 31);
      if (z > worst) worst = z;
      c0 += Math.clz32(z + 1);
      c2 += Math.clz32(z + 4);
      c4 += Math.clz32(z + 16);
      c6 += Math.clz32(z + 64);
      codes[cOff + n++] = r;
    }
  }
  // Bits of a code at order k: 2 * (32 - clz32(z + 2^k)) - 1 - k, so over the codes n * (63 - k) - 2 * sum(clz);
  // the reader takes order k when the largest code's prefix (bitLength - 1 - k zeros) is at most MAX_EG_ZEROS.
  // Ties go to the smaller order.
  let best = -1;
  let selector = 0;
  if (31 - Math.clz32(worst + 1) <= MAX_EG_ZEROS) best = n * 63 - 2 * c0;
  if (29 - Math.clz32(worst + 4) <= MAX_EG_ZEROS) {
    const bits = n * 61 - 2 * c2;
    if (best < 0 || bits < best) {
      best = bits;
      selector = 1;
    }
  }
  if (27 - Math.clz32(worst + 16) <= MAX_EG_ZEROS) {
    const bits = n * 59 - 2 * c4;
    if (best < 0 || bits < best) {
      best = bits;
      selector = 2;
    }
  }
  if (25 - Math.clz32(worst + 64) <= MAX_EG_ZEROS) {
    const bits = n * 57 - 2 * c6;
    if (best < 0 || bits < best) {
      best = bits;
      selector = 3;
    }
  }
  return best < 0 ? -1 : (best << PLAN_BITS_SHIFT) | (n << PLAN_COUNT_SHIFT) | selector;
}

/** Exp-Golomb bits of a `planResidual` result (the order selector's own bits not included). */
export function planBits(plan: number): number {
  return plan >>> PLAN_BITS_SHIFT;
}

/** Number of codes of a `planResidual` result. */
export function planCount(plan: number): number {
  return (plan >>> PLAN_COUNT_SHIFT) & 127;
}

/** Order selector of a `planResidual` result. */
export function planSelector(plan: number): number {
  return plan & 3;
}

/**
 * Writes `count` codes at `codes[cOff ..]` as order-`ORDERS[selector]` Exp-Golomb (the selector not included),
 * after the `headBits` (<= 24) bits of `head`: short codes are gathered into as few writes as fit 30 bits.
 */
export function writeResidualCodes(
  w: BitWriter,
  head: number,
  headBits: number,
  codes: Int32Array,
  cOff: number,
  count: number,
  selector: number,
): void {
  const k = ORDER_OF_SELECTOR[selector];
  const unit = 1 << k;
  let acc = head;
  let accBits = headBits;
  for (let i = 0; i < count; i++) {
    const v = codes[cOff + i];
    const x = ((v << 1) ^ (v >> 31)) + unit;
    const n = 32 - Math.clz32(x);
    // The n - 1 - k zero bits of the prefix are the leading zeros of x written in `total` bits.
    const total = 2 * n - 1 - k;
    if (accBits + total <= 30) {
      acc = (acc << total) | x;
      accBits += total;
      continue;
    }
    w.writeBits(acc, accBits);
    if (total <= 30) {
      acc = x;
      accBits = total;
      continue;
    }
    w.writeBits(0, n - 1 - k);
    w.writeBits(x, n);
    acc = 0;
    accBits = 0;
  }
  w.writeBits(acc, accBits);
}
