/**
 * Branchless, allocation-free smallest-three packing for the per-entity hot loop: the same packed value as
 * `packQuat` (quaternion.ts holds the format and its guarantees), computed without a data-dependent branch on the
 * common path. The largest component's index comes from 0/1 compares, the other three are read back through a
 * caller-owned scratch and a selection table, and the canonical sign is folded into the normalization factor.
 * Fresh poses every tick make `packQuat`'s if-chains mispredict about three times per rotation; this does not.
 *
 * Rare input takes `packQuat` itself (so both give the same bits): a squared length outside the comfortable range
 * (zero, tiny, huge, NaN, infinite), or a rotation whose rebuilt largest component would not stay strictly the
 * largest (packQuat's nudge). Ties pick the lowest index, as packQuat does.
 *
 * The scratch (a `QuatScratch`, 8 doubles) belongs to the caller (one per detector), so nothing mutable lives at
 * module level. The packing is written inside the detection loop (`detectQuatChanges`): no call, no boxed doubles.
 */
import { MAX_QUAT_BITS, packQuat } from './quaternion.ts';

/** Working space of `detectQuatChanges`: 8 doubles, owned by the caller. */
export type QuatScratch = Float64Array;

/** A scratch for `detectQuatChanges`. */
export function createQuatScratch(): QuatScratch {
  return new Float64Array(8);
}

/** Range of the three smaller components (see quaternion.ts). */
const RANGE = Math.SQRT1_2;

/** Same margin as packQuat: the rebuilt largest square must lead every other square by this much. */
const LARGEST_MARGIN = 1e-6;

/** For largest index i, the indices of the other three in x, y, z, w order: SELECT[3 i .. 3 i + 2]. */
const SELECT = new Int32Array([1, 2, 3, 0, 2, 3, 0, 1, 3, 0, 1, 2]);

/** Per bit width: largest code, codes per unit of value, value per code, 2^bits (the packing unit). */
const MAX_CODE = new Float64Array(MAX_QUAT_BITS + 1);
const CODE_SCALE = new Float64Array(MAX_QUAT_BITS + 1);
const CODE_STEP = new Float64Array(MAX_QUAT_BITS + 1);
const UNIT = new Float64Array(MAX_QUAT_BITS + 1);
for (let bits = 1; bits <= MAX_QUAT_BITS; bits++) {
  MAX_CODE[bits] = 2 ** bits - 2;
  CODE_SCALE[bits] = MAX_CODE[bits] / (2 * RANGE);
  CODE_STEP[bits] = (2 * RANGE) / MAX_CODE[bits];
  UNIT[bits] = 2 ** bits;
}

/** Anything indexable by entity id that holds numbers (a component column). */
interface Column {
  [index: number]: number;
  readonly length: number;
}

/**
 * The detection kernel of a quaternion field: for each `eids[i]` (i < count), packs the rotation read from the four
 * columns exactly as `packQuat(x, y, z, w, bits)` would, and where it differs from `shadow[eid]`, stores it there and
 * sets `bit` in `masks[i]`. One loop with the packing written inline: a call per entity would not be inlined (too
 * large for the compiler's budget) and would box its doubles.
 */
export function detectQuatChanges(
  t: QuatScratch,
  qx: Column,
  qy: Column,
  qz: Column,
  qw: Column,
  bits: number,
  eids: Int32Array,
  count: number,
  shadow: Float64Array,
  masks: Uint32Array,
  bit: number,
): void {
  const maxQ = MAX_CODE[bits];
  const scale = CODE_SCALE[bits];
  const step = CODE_STEP[bits];
  const unit = UNIT[bits];
  for (let i = 0; i < count; i++) {
    const eid = eids[i];
    const x = qx[eid];
    const y = qy[eid];
    const z = qz[eid];
    const w = qw[eid];
    let v = -1;
    const n2 = x * x + y * y + z * z + w * w;
    if (n2 > 1e-150 && n2 < 1e150) {
      // 1. normalize (as packQuat does, so the magnitudes compared are the same doubles)
      const inv = 1 / Math.sqrt(n2);
      t[0] = x * inv;
      t[1] = y * inv;
      t[2] = z * inv;
      t[3] = w * inv;
      t[4] = Math.abs(t[0]);
      t[5] = Math.abs(t[1]);
      t[6] = Math.abs(t[2]);
      t[7] = Math.abs(t[3]);
      // 2. index of the largest magnitude, ties to the lowest index: the larger of each pair, then of the pairs
      const b01 = +(t[5] > t[4]);
      const b23 = +(t[7] > t[6]);
      const hi = +(t[6 + b23] > t[4 + b01]);
      const index = (hi << 1) | (b01 ^ ((b01 ^ b23) & -hi));
      // 3. the other three, sign made canonical (largest component positive)
      const sign = 1 - 2 * +(t[index] < 0);
      const k = index * 3;
      // 4. quantize (|component| <= 1/sqrt(2) after normalization; the clamps only guard rounding)
      const qa = Math.min(maxQ, Math.max(0, Math.round((t[SELECT[k]] * sign + RANGE) * scale)));
      const qb = Math.min(maxQ, Math.max(0, Math.round((t[SELECT[k + 1]] * sign + RANGE) * scale)));
      const qc = Math.min(maxQ, Math.max(0, Math.round((t[SELECT[k + 2]] * sign + RANGE) * scale)));
      // 5. the rebuilt largest must stay strictly the largest; else packQuat's nudge decides (rare)
      const da = qa * step - RANGE;
      const db = qb * step - RANGE;
      const dc = qc * step - RANGE;
      const a2 = da * da;
      const b2 = db * db;
      const c2 = dc * dc;
      const rest = 1 - a2 - b2 - c2 - LARGEST_MARGIN;
      // 6. [index][a][b][c], most significant first; arithmetic, since up to 47 bits
      if ((+(a2 < rest) & +(b2 < rest) & +(c2 < rest)) !== 0) v = ((index * unit + qa) * unit + qb) * unit + qc;
    }
    if (v < 0) v = packQuat(x, y, z, w, bits);
    if (v !== shadow[eid]) {
      shadow[eid] = v;
      masks[i] |= bit;
    }
  }
}
