/**
 * The fused raw scan (scan-kernel.ts, taken by `RawScanner.scanIds` for components whose columns are all 4-byte
 * typed arrays) against a plain bit-pattern compare with the previous values: exactly the entities whose bits
 * changed in any column and that have the component, ascending, on random columns and hostile changes (+0/-0 in
 * either lane, NaN payloads, 0x80000000 in integer columns, odd lengths).
 */
import { describe, expect, it } from 'vitest';
import { createRandom, type Random } from '../../src/random.ts';
import { RawScanner } from '../../src/replication/raw-scanner.ts';
import { compileFusedScan } from '../../src/replication/scan-kernel.ts';

type Lane = Float32Array | Int32Array | Uint32Array;

function randomColumns(rnd: Random, length: number): Lane[] {
  const count = 1 + Math.floor(rnd.next() * 7);
  return Array.from({ length: count }, () => {
    const r = rnd.next();
    return r < 0.6 ? new Float32Array(length) : r < 0.8 ? new Int32Array(length) : new Uint32Array(length);
  });
}

/** Writes a hostile or ordinary change into `col[e]` through its 32-bit pattern. */
function mutate(rnd: Random, col: Lane, e: number): void {
  const bits = new Int32Array(col.buffer, col.byteOffset, col.length);
  const r = rnd.next();
  if (r < 0.15) bits[e] = 0;
  else if (r < 0.3)
    bits[e] = -2147483648; // -0 as a float, 0x80000000 as an integer
  else if (r < 0.4)
    bits[e] = 0x7fc00000 | Math.floor(rnd.next() * 0x3fffff); // a NaN with a payload
  else if (r < 0.5)
    bits[e] = bits[e] ^ 1; // the lowest bit only
  else bits[e] = Math.floor(rnd.next() * 2 ** 32) | 0;
}

describe('fused raw scan', () => {
  it('flags exactly the entities whose bits changed in any column, ascending, on random hostile changes', () => {
    const rnd = createRandom(77);
    let flagged = 0;
    for (let world = 0; world < 40; world++) {
      const length = 2 + Math.floor(rnd.next() * 300);
      const cols = randomColumns(rnd, length);
      for (const col of cols) for (let e = 0; e < length; e++) if (rnd.next() < 0.5) mutate(rnd, col, e);
      const scanner = new RawScanner([cols]);
      const has = new Uint8Array(length).map(() => (rnd.next() < 0.8 ? 1 : 0));
      const ids = new Int32Array(length);
      const before = cols.map((c) => new Int32Array(c.buffer.slice(0)));
      for (let round = 0; round < 6; round++) {
        const share = [0, 0.01, 0.1, 0.5, 1][Math.floor(rnd.next() * 5)];
        for (const col of cols) for (let e = 0; e < length; e++) if (rnd.next() < share) mutate(rnd, col, e);
        const expected: number[] = [];
        for (let e = 0; e < length; e++) {
          const moved = cols.some((c, k) => new Int32Array(c.buffer)[e] !== before[k][e]);
          if (moved && has[e] !== 0) expected.push(e);
        }
        const n = scanner.scanIds(0, length, has, false, ids);
        expect(Array.from(ids.subarray(0, n)), `world ${world} round ${round}`).toEqual(expected);
        flagged += n;
        cols.forEach((c, k) => before[k].set(new Int32Array(c.buffer)));
      }
    }
    expect(flagged).toBeGreaterThan(1000);
  });

  it('settles a +0/-0 pair the 64-bit compare calls equal, and the odd tail', () => {
    const col = new Float32Array(9);
    const copy = new Float32Array(9);
    const views = {
      wide: new Float64Array(col.buffer, 0, 4),
      wideCopy: new Float64Array(copy.buffer, 0, 4),
      lanes: new Int32Array(col.buffer),
      laneCopy: new Int32Array(copy.buffer),
    };
    const scan = compileFusedScan([views])!;
    const has = new Uint8Array(9).fill(1);
    const ids = new Int32Array(9);
    col[3] = -0; // +0 -> -0 in the high lane of pair 1, the pair's doubles still compare equal
    col[8] = 1; // the odd tail
    expect(Array.from(ids.subarray(0, scan(9, has, ids)))).toEqual([3, 8]);
    expect(scan(9, has, ids)).toBe(0);
  });
});
