import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/index.ts';
import { RawScanner } from '../../src/replication/raw-scanner.ts';

describe('raw scanner', () => {
  it('flags every changed integer, including 0 <-> 0x80000000 next to a zero (a 64-bit +0/-0 pair)', () => {
    const u = new Uint32Array(8);
    const i = new Int32Array(8);
    const scanner = new RawScanner([[u], [i]]);
    scanner.scan(0, 8).fill(0);
    scanner.scan(1, 8).fill(0);
    u[1] = 0x80000000;
    i[3] = -2147483648;
    expect([...scanner.scan(0, 8)].map((m, e) => (m ? e : -1)).filter((e) => e >= 0)).toEqual([1]);
    expect(scanner.scan(1, 8)[3]).toBe(1);
  });

  it('bug 12: flags +0 <-> -0 in floats, in either lane of the 64-bit compare, on the tail and in plain arrays', () => {
    const f = new Float32Array(5);
    const d = new Float64Array(4);
    const plain: number[] = [0, 0, 0];
    const scanner = new RawScanner([[f], [d], [plain]]);
    for (let c = 0; c < 3; c++) scanner.scan(c, 5).fill(0);
    const flagged = (c: number) => [...scanner.scan(c, 5)].map((m, e) => (m ? e : -1)).filter((e) => e >= 0);
    for (const e of [1, 0, 4]) {
      f[e] = -0;
      // The 64-bit compare flags both entities of a pair; the changed one must be among them.
      expect(flagged(0), `f32 entity ${e} to -0`).toContain(e);
      scanner.moved[0].fill(0);
      f[e] = 0;
      expect(flagged(0), `f32 entity ${e} to +0`).toContain(e);
      scanner.moved[0].fill(0);
    }
    d[2] = -0;
    expect(flagged(1)).toEqual([2]);
    plain[1] = -0;
    expect(flagged(2)).toEqual([1]);
  });

  it('agrees with a plain element compare on random float, int and plain-array changes', () => {
    const rnd = createRandom(3);
    const f = new Float32Array(101);
    const b = new Uint8Array(101);
    const plain: number[] = Array.from({ length: 101 }, () => 0);
    const scanner = new RawScanner([[f, b, plain]]);
    scanner.scan(0, 101).fill(0);
    for (let round = 0; round < 200; round++) {
      const before = [Float32Array.from(f), Uint8Array.from(b), [...plain]];
      for (let k = 0; k < 10; k++) {
        const e = rnd.int(101);
        const which = rnd.int(3);
        if (which === 0) f[e] = rnd.next() < 0.2 ? 0 : rnd.gaussian();
        else if (which === 1) b[e] = rnd.int(256);
        else plain[e] = rnd.int(5);
      }
      const expected = new Set<number>();
      for (let e = 0; e < 101; e++) {
        if (f[e] !== before[0][e] || b[e] !== before[1][e] || plain[e] !== before[2][e]) expected.add(e);
      }
      const moved = scanner.scan(0, 101);
      for (const e of expected) expect(moved[e], `entity ${e} round ${round}`).toBe(1);
      moved.fill(0);
    }
  });

  it('flags exactly the entities that moved (lane by lane), NaN payloads and -0 included, ids ascending', () => {
    const rnd = createRandom(11);
    const f = new Float32Array(64);
    const g = new Float32Array(64);
    const bits = new Uint32Array(f.buffer);
    const gBits = new Uint32Array(g.buffer);
    const has = new Uint8Array(64).fill(1);
    has[5] = 0;
    const scanner = new RawScanner([[f, g]]);
    const ids = new Int32Array(64);
    scanner.scanIds(0, 64, has, false, ids);
    for (let round = 0; round < 300; round++) {
      const before = [Uint32Array.from(bits), Uint32Array.from(gBits)];
      for (let k = 0; k < 6; k++) {
        const e = rnd.int(64);
        const kind = rnd.int(4);
        if (kind === 0) f[e] = rnd.gaussian();
        else if (kind === 1) f[e] = Object.is(f[e], -0) ? 0 : -0;
        else if (kind === 2)
          bits[e] = 0x7fc00000 + rnd.int(1000); // NaN with another payload
        else g[e] = rnd.gaussian();
      }
      const expected: number[] = [];
      for (let e = 0; e < 64; e++)
        if (has[e] !== 0 && (bits[e] !== before[0][e] || gBits[e] !== before[1][e])) expected.push(e);
      const n = scanner.scanIds(0, 64, has, false, ids);
      expect([...ids.subarray(0, n)], `round ${round}`).toEqual(expected);
    }
  });
});
