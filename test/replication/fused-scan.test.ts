import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/index.ts';
import { MAX_FUSED_COLUMNS, compileFusedScan, fusedScanSource } from '../../src/replication/fused-scan.ts';
import { RawScanner } from '../../src/replication/raw-scanner.ts';

type Lane = Float32Array | Int32Array | Uint32Array;

/** A random value of the column's kind, with -0, NaN payloads and integer sign bits among them. */
function randomValue(rnd: ReturnType<typeof createRandom>, col: Lane, e: number): void {
  const r = rnd.next();
  if (col instanceof Float32Array) {
    if (r < 0.15) col[e] = -0;
    else if (r < 0.3) col[e] = 0;
    else if (r < 0.4) new Int32Array(col.buffer, col.byteOffset, col.length)[e] = 0x7fc00000 | rnd.int(1000);
    else col[e] = rnd.gaussian();
  } else if (r < 0.3) col[e] = col instanceof Int32Array ? -2147483648 : 0x80000000;
  else col[e] = rnd.int(4);
}

describe('fused raw scan', () => {
  it('gives the same ids, ascending, as the per-column scan on random columns, bit patterns included', () => {
    const rnd = createRandom(13);
    for (let schema = 0; schema < 30; schema++) {
      const length = 1 + rnd.int(300);
      const count = 1 + rnd.int(9);
      const kinds = [Float32Array, Int32Array, Uint32Array];
      const a = Array.from({ length: count }, () => new kinds[rnd.int(3)](length));
      const b = a.map((col) => col.slice());
      const fused = new RawScanner([a]);
      const plain = new RawScanner([b], false);
      const has = Uint8Array.from({ length }, () => (rnd.next() < 0.8 ? 1 : 0));
      const ids = [new Int32Array(length), new Int32Array(length)];
      for (let round = 0; round < 40; round++) {
        const changes = rnd.int(length);
        for (let k = 0; k < changes; k++) {
          const c = rnd.int(count);
          const e = rnd.int(length);
          randomValue(rnd, a[c], e);
          new Int32Array(b[c].buffer)[e] = new Int32Array(a[c].buffer)[e];
        }
        const end = rnd.next() < 0.2 ? rnd.int(length + 1) : length;
        const n = fused.scanIds(0, end, has, false, ids[0]);
        const m = plain.scanIds(0, end, has, false, ids[1]);
        expect(n, `schema ${schema} round ${round}`).toBe(m);
        expect([...ids[0].subarray(0, n)]).toEqual([...ids[1].subarray(0, m)]);
      }
    }
  });

  it('flags a float +0 -> -0 and a NaN payload change (bit-exact)', () => {
    const f = new Float32Array(4);
    const g = new Float32Array(4);
    const scanner = new RawScanner([[f, g]]);
    const has = new Uint8Array(4).fill(1);
    const ids = new Int32Array(4);
    expect(scanner.scanIds(0, 4, has, false, ids)).toBe(0);
    f[2] = -0;
    new Int32Array(g.buffer)[3] = 0x7fc00001;
    expect(scanner.scanIds(0, 4, has, false, ids)).toBe(2);
    expect([...ids.subarray(0, 2)]).toEqual([2, 3]);
    new Int32Array(g.buffer)[3] = 0x7fc00002;
    expect(scanner.scanIds(0, 4, has, false, ids)).toBe(1);
    expect(ids[0]).toBe(3);
  });

  it('builds its source from integers only: hostile input cannot reach the generated code', () => {
    for (let n = 1; n <= MAX_FUSED_COLUMNS; n++) {
      // Only identifiers it declares itself, digits, operators and the fixed keywords.
      expect(fusedScanSource(n)).toMatch(/^[\w\s[\]=;,(){}^|!+<"]*$/);
      expect(compileFusedScan(n)).not.toBeNull();
    }
    const hostile = '1); globalThis.pwned = 1; (0' as unknown as number;
    expect(() => fusedScanSource(hostile)).toThrow(RangeError);
    expect(compileFusedScan(hostile)).toBeNull();
    expect(compileFusedScan(MAX_FUSED_COLUMNS + 1)).toBeNull();
    expect(compileFusedScan(1.5)).toBeNull();
    expect((globalThis as { pwned?: number }).pwned).toBeUndefined();
  });
});
