import { describe, expect, it } from 'vitest';
import { MAX_QUAT_BITS, MIN_QUAT_BITS, packQuat } from '../../src/codec/quaternion.ts';
import { createQuatScratch, detectQuatChanges } from '../../src/codec/quaternion-fast.ts';
import { createRandom } from '../../src/random.ts';

const S = Math.SQRT1_2;

const cols = [new Float64Array(1), new Float64Array(1), new Float64Array(1), new Float64Array(1)];
const one = Int32Array.of(0);
const shadow = new Float64Array(1);
const masks = new Uint32Array(1);

/** One rotation through the detection kernel: the value it stores in the shadow. */
function packQuatFast(t: Float64Array, x: number, y: number, z: number, w: number, bits: number): number {
  cols[0][0] = x;
  cols[1][0] = y;
  cols[2][0] = z;
  cols[3][0] = w;
  shadow[0] = -1;
  detectQuatChanges(t, cols[0], cols[1], cols[2], cols[3], bits, one, 1, shadow, masks, 1);
  return shadow[0];
}

/** Rotations where the largest-index choice, the canonical sign, the clamp or the nudge are decided at the edge. */
const EDGE_CASES: [number, number, number, number][] = [
  [0, 0, 0, 1],
  [0, 0, 0, -1],
  [1, 0, 0, 0],
  [-1, 0, 0, 0],
  [0, -1, 0, 0],
  [0, 0, -1, 0],
  [0.5, 0.5, 0.5, 0.5],
  [-0.5, -0.5, -0.5, -0.5],
  [0.5, -0.5, 0.5, -0.5],
  [S, S, 0, 0],
  [0, 0, S, -S],
  [S, 0, 0, -S],
  [-S, 0, S, 0],
  [0.1, 0.2, 0.3, -0.9],
  [-0.1, -0.2, -0.3, -0.9],
  [0.6, -0.6, 0.36, -0.36],
  [-0, 0, -0, 1],
  [0, 0, 0, -0],
  [0, 0, 0, 0],
  [1e-200, 0, 0, 1e-200],
  [1e-160, 2e-160, 0, 0],
  [1e200, 1e200, 0, 0],
  [NaN, 0, 0, 1],
  [Infinity, 0, 0, 1],
  [-Infinity, 1, 1, 1],
  [3, 4, 0, 12],
  [0.5000001, 0.5, 0.4999999, 0.5],
];

describe('branchless smallest-three (detectQuatChanges)', () => {
  it('gives packQuat’s exact bits on edge cases: negative w, equal magnitudes, near-zero, non-finite', () => {
    const t = createQuatScratch();
    for (let bits = MIN_QUAT_BITS; bits <= MAX_QUAT_BITS; bits++) {
      for (const [x, y, z, w] of EDGE_CASES) {
        expect(packQuatFast(t, x, y, z, w, bits), `${bits} bits: ${x}, ${y}, ${z}, ${w}`).toBe(
          packQuat(x, y, z, w, bits),
        );
      }
    }
  });

  it('gives packQuat’s exact bits on 200k random rotations, unnormalized, float32-stored and near ties', () => {
    const rnd = createRandom(7);
    const t = createQuatScratch();
    const f = new Float32Array(4);
    let mismatches = 0;
    for (let i = 0; i < 200_000; i++) {
      const bits = MIN_QUAT_BITS + (i % (MAX_QUAT_BITS - MIN_QUAT_BITS + 1));
      const scale = i % 3 === 0 ? 1 : rnd.next() * 10 + 1e-3;
      for (let k = 0; k < 4; k++) f[k] = rnd.gaussian() * scale;
      // A quarter of the samples are pushed onto a tie between two components (same or opposite sign).
      if (i % 4 === 1) f[(i >> 2) % 4] = (i & 8 ? -1 : 1) * f[((i >> 2) + 1) % 4];
      const expected = packQuat(f[0], f[1], f[2], f[3], bits);
      if (packQuatFast(t, f[0], f[1], f[2], f[3], bits) !== expected) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('takes packQuat’s nudge where the rebuilt largest would not stay largest (a four-way tie)', () => {
    const t = createQuatScratch();
    // At 4 bits, (0.5, 0.5, 0.5, 0.5) is the classic case packQuat has to nudge.
    const nudged = packQuat(0.5, 0.5, 0.5, 0.5, 4);
    expect(packQuatFast(t, 0.5, 0.5, 0.5, 0.5, 4)).toBe(nudged);
    expect(nudged).not.toBe(((0 * 16 + 12) * 16 + 12) * 16 + 12);
  });

  it('marks exactly the entities whose packed rotation changed, over float32 columns', () => {
    const rnd = createRandom(9);
    const n = 500;
    const q = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    for (const c of q) for (let e = 0; e < n; e++) c[e] = rnd.gaussian();
    const eids = Int32Array.from({ length: n }, (_, e) => e);
    const sh = new Float64Array(n);
    const m = new Uint32Array(n);
    const t = createQuatScratch();
    detectQuatChanges(t, q[0], q[1], q[2], q[3], 10, eids, n, sh, m, 4);
    for (let round = 0; round < 20; round++) {
      const before = Float64Array.from(sh);
      for (let k = 0; k < 40; k++) q[rnd.int(4)][rnd.int(n)] += rnd.next() < 0.5 ? 1e-9 : rnd.gaussian() * 0.1;
      m.fill(0);
      detectQuatChanges(t, q[0], q[1], q[2], q[3], 10, eids, n, sh, m, 4);
      for (let e = 0; e < n; e++) {
        const expected = packQuat(q[0][e], q[1][e], q[2][e], q[3][e], 10);
        expect(sh[e]).toBe(expected);
        expect(m[e], `entity ${e}`).toBe(expected !== before[e] ? 4 : 0);
      }
    }
  });
});
