/**
 * The scan over ecsync-owned storage (owned-scan.ts): the WebAssembly SIMD kernel and the JS kernel over the same
 * one-buffer layout, against each other, against the per-column scan of user-owned arrays (raw-scanner.ts) and
 * against a plain bit-pattern compare, on random hostile data: +0/-0 in any lane, NaN payloads, denormals, the lowest
 * bit only, 0x80000000 in integer columns, lengths that are not multiples of 4 and scans that stop short of the
 * capacity. The same ids, ascending, and copies refreshed bit-exact. Also: the fallback without WebAssembly, and a
 * second scanner claiming the store.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRandom, type Random } from '../../src/random.ts';
import { claimOwnedScan } from '../../src/replication/owned-scan.ts';
import { RawScanner } from '../../src/replication/raw-scanner.ts';
import {
  MAX_REPLICATED_STORE_BYTES,
  type ReplicatedColumnType,
  createReplicatedStore,
  ownedColumnsOf,
  replicatedStoreInfo,
} from '../../src/replication/replicated-store.ts';
import { assembleScanModule } from '../../src/replication/wasm-scan-module.ts';

type Lane = Float32Array | Int32Array | Uint32Array;

const bitsOf = (col: Lane) => new Int32Array(col.buffer, col.byteOffset, col.length);

/** An ordinary or hostile 32-bit pattern. */
function pattern(rnd: Random, old: number): number {
  const r = rnd.next();
  if (r < 0.12) return 0;
  if (r < 0.24) return -2147483648; // -0 as a float, 0x80000000 as an integer
  if (r < 0.34) return 0x7fc00000 | Math.floor(rnd.next() * 0x3fffff); // a NaN with a payload
  if (r < 0.42) return 0xff800000 | Math.floor(rnd.next() * 0x7fffff) | 0; // a negative NaN
  if (r < 0.52) return (1 + Math.floor(rnd.next() * 0x7ffffe)) | (rnd.next() < 0.5 ? -2147483648 : 0); // denormal
  if (r < 0.62) return old ^ 1; // the lowest bit only
  if (r < 0.67) return old; // written, unchanged
  return Math.floor(rnd.next() * 2 ** 32) | 0;
}

interface Variant {
  cols: Lane[];
  scanner: Pick<RawScanner, 'scanIds' | 'kernelOf'>;
}

/** The JS kernel's loop without generated code (what runs where a CSP forbids `new Function`), scanner-shaped. */
function noCodegenScanner(cols: Lane[]): Variant['scanner'] {
  const o = ownedColumnsOf(cols)!;
  const scan = claimOwnedScan(o.layout, o.indices, {}, false, false);
  return {
    kernelOf: () => 'js',
    scanIds: (_c: number, end: number, has: Uint8Array, _all: boolean, ids: Int32Array) =>
      scan.scan(Math.min(end, has.length), has, ids),
  };
}

function schemaOf(rnd: Random): Record<string, ReplicatedColumnType> {
  const count = 1 + Math.floor(rnd.next() * 8);
  const schema: Record<string, ReplicatedColumnType> = {};
  for (let k = 0; k < count; k++) {
    const r = rnd.next();
    schema[`c${k}`] = r < 0.6 ? 'f32' : r < 0.8 ? 'i32' : 'u32';
  }
  return schema;
}

function userColumns(schema: Record<string, ReplicatedColumnType>, capacity: number): Lane[] {
  return Object.values(schema).map((t) =>
    t === 'f32' ? new Float32Array(capacity) : t === 'i32' ? new Int32Array(capacity) : new Uint32Array(capacity),
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('owned-store scan', () => {
  it('assembles a module that WebAssembly.validate accepts, and this platform runs the SIMD kernel', () => {
    const bytes = assembleScanModule({ sources: [0, 64], copies: [128, 192], pages: 1 });
    expect(WebAssembly.validate(bytes)).toBe(true);
    // One byte off in the code section (the body length) and it no longer validates: the check can fail.
    const broken = bytes.slice();
    broken[broken.length - 1] = 0x00;
    expect(WebAssembly.validate(broken)).toBe(false);
    const Pose = createReplicatedStore({ px: 'f32', py: 'f32' }, { capacity: 100 });
    expect(replicatedStoreInfo(Pose)?.wasmMemory).toBe(true);
    expect(new RawScanner([[Pose.px, Pose.py]]).kernelOf(0)).toBe('wasm-simd');
    expect(new RawScanner([[Pose.px, Pose.py]], { wasm: false }).kernelOf(0)).toBe('js');
    expect(new RawScanner([[new Float32Array(100)]]).kernelOf(0)).toBe('arrays');
  });

  it('WASM SIMD, both JS kernels over the owned buffer and user-owned arrays flag the same ids as a bit compare', () => {
    const rnd = createRandom(1313);
    let flagged = 0;
    let tailChecked = 0;
    for (let world = 0; world < 60; world++) {
      const schema = schemaOf(rnd);
      const capacity = 1 + Math.floor(rnd.next() * 400);
      const wasmStore = createReplicatedStore(schema, { capacity });
      const jsStore = createReplicatedStore(schema, { capacity, wasm: world % 2 === 0 });
      const loopStore = createReplicatedStore(schema, { capacity, wasm: false });
      const user = userColumns(schema, capacity);
      const variants: Variant[] = [
        { cols: Object.values(wasmStore) as Lane[], scanner: null! },
        { cols: Object.values(jsStore) as Lane[], scanner: null! },
        { cols: user, scanner: null! },
        { cols: Object.values(loopStore) as Lane[], scanner: null! },
      ];
      // Starting state (before the scanners exist) is not a change.
      for (let k = 0; k < user.length; k++)
        for (let e = 0; e < capacity; e++) {
          const v = pattern(rnd, 0);
          for (const x of variants) bitsOf(x.cols[k])[e] = v;
        }
      variants[0].scanner = new RawScanner([variants[0].cols]);
      variants[1].scanner = new RawScanner([variants[1].cols], { wasm: false });
      variants[2].scanner = new RawScanner([variants[2].cols]);
      variants[3].scanner = noCodegenScanner(variants[3].cols);
      expect(variants.map((x) => x.scanner.kernelOf(0))).toEqual(['wasm-simd', 'js', 'arrays', 'js']);
      const before = user.map((c) => bitsOf(c).slice());
      // The replicator's tables may be shorter than the store: the scan stops there.
      const limit = rnd.next() < 0.5 ? capacity : Math.floor(rnd.next() * capacity);
      const has = new Uint8Array(limit).map(() => (rnd.next() < 0.8 ? 1 : 0));
      for (let round = 0; round < 8; round++) {
        const share = [0, 0.01, 0.1, 0.5, 1][Math.floor(rnd.next() * 5)];
        for (let k = 0; k < user.length; k++)
          for (let e = 0; e < capacity; e++) {
            if (rnd.next() >= share) continue;
            const v = pattern(rnd, bitsOf(user[k])[e]);
            for (const x of variants) bitsOf(x.cols[k])[e] = v;
          }
        const expected: number[] = [];
        for (let e = 0; e < limit; e++) {
          const moved = user.some((c, k) => bitsOf(c)[e] !== before[k][e]);
          if (moved && has[e] !== 0) expected.push(e);
        }
        for (const [i, x] of variants.entries()) {
          const ids = new Int32Array(capacity);
          const n = x.scanner.scanIds(0, limit, has, false, ids);
          expect(Array.from(ids.subarray(0, n)), `world ${world} round ${round} variant ${i}`).toEqual(expected);
        }
        if (limit % 4 !== 0 && expected.some((e) => e >= limit - (limit % 4))) tailChecked++;
        flagged += expected.length;
        // Copies now hold what the columns hold below the limit (bit-exact), so only new writes count next round.
        for (let k = 0; k < user.length; k++) for (let e = 0; e < limit; e++) before[k][e] = bitsOf(user[k])[e];
      }
      // The owned copies hold the sources bit-exact below the limit.
      const info = replicatedStoreInfo(wasmStore)!;
      const all = new Int32Array((variants[0].cols[0].buffer as ArrayBuffer).slice(0));
      for (let k = 0; k < user.length; k++)
        for (let e = 0; e < limit; e++)
          expect(all[(info.columns * info.strideBytes) / 4 + (k * info.strideBytes) / 4 + e]).toBe(bitsOf(user[k])[e]);
    }
    expect(flagged).toBeGreaterThan(1000);
    expect(tailChecked).toBeGreaterThan(5); // the lanes past the last whole SIMD block were exercised
  });

  it('falls back to the JS kernel where WebAssembly is missing, with the same results', () => {
    vi.stubGlobal('WebAssembly', undefined);
    const store = createReplicatedStore({ a: 'f32', b: 'u32' }, { capacity: 37 });
    expect(replicatedStoreInfo(store)?.wasmMemory).toBe(false);
    const scanner = new RawScanner([[store.a, store.b]]);
    expect(scanner.kernelOf(0)).toBe('js');
    const has = new Uint8Array(37).fill(1);
    const ids = new Int32Array(37);
    store.a[3] = -0;
    store.b[36] = 7;
    store.a[20] = NaN;
    expect(Array.from(ids.subarray(0, scanner.scanIds(0, 37, has, false, ids)))).toEqual([3, 20, 36]);
    expect(scanner.scanIds(0, 37, has, false, ids)).toBe(0);
  });

  it('falls back to the JS kernel where SIMD does not validate or compiling is forbidden (CSP)', () => {
    const real = WebAssembly;
    const platforms = {
      'no SIMD': { Memory: real.Memory, Module: real.Module, Instance: real.Instance, validate: () => false },
      'CSP without wasm-unsafe-eval': {
        Memory: real.Memory,
        Instance: real.Instance,
        validate: real.validate,
        Module: function Module() {
          throw new Error('WebAssembly.Module(): Refused to compile or instantiate WebAssembly module');
        },
      },
    };
    for (const [name, platform] of Object.entries(platforms)) {
      vi.stubGlobal('WebAssembly', platform);
      const store = createReplicatedStore({ a: 'f32', b: 'i32' }, { capacity: 50 });
      expect(replicatedStoreInfo(store)?.wasmMemory, name).toBe(true);
      const scanner = new RawScanner([[store.a, store.b]]);
      expect(scanner.kernelOf(0), name).toBe('js');
      const has = new Uint8Array(50).fill(1);
      const ids = new Int32Array(50);
      store.b[49] = -1;
      store.a[0] = 5e-45; // a denormal
      expect(Array.from(ids.subarray(0, scanner.scanIds(0, 50, has, false, ids))), name).toEqual([0, 49]);
      vi.unstubAllGlobals();
    }
  });

  it('a second scanner takes the store over; the first goes back to private copies without missing a change', () => {
    const store = createReplicatedStore({ a: 'f32', b: 'f32' }, { capacity: 64 });
    const first = new RawScanner([[store.a, store.b]]);
    const has = new Uint8Array(64).fill(1);
    const ids = new Int32Array(64);
    store.a[5] = 1;
    expect(Array.from(ids.subarray(0, first.scanIds(0, 64, has, false, ids)))).toEqual([5]);
    const second = new RawScanner([[store.a, store.b]]);
    store.b[9] = 2;
    expect(Array.from(ids.subarray(0, second.scanIds(0, 64, has, false, ids)))).toEqual([9]);
    // The first lost the copies: it compares everything once (never misses), then only real changes.
    const n = first.scanIds(0, 64, has, false, ids);
    expect(n).toBe(64);
    expect(first.kernelOf(0)).toBe('arrays');
    store.a[40] = 3;
    expect(Array.from(ids.subarray(0, first.scanIds(0, 64, has, false, ids)))).toEqual([40]);
    expect(Array.from(ids.subarray(0, second.scanIds(0, 64, has, false, ids)))).toEqual([40]);
  });

  it('bounds the store: capacity, column count and types are checked, the buffer stays under its limit', () => {
    expect(() => createReplicatedStore({ a: 'f32' }, { capacity: 0 })).toThrow(/capacity/);
    expect(() => createReplicatedStore({ a: 'f32' }, { capacity: 2.5 })).toThrow(/capacity/);
    expect(() => createReplicatedStore({}, { capacity: 4 })).toThrow(/columns/);
    expect(() => createReplicatedStore({ a: 'f64' as 'f32' }, { capacity: 4 })).toThrow(/type/);
    const cap = Math.floor(MAX_REPLICATED_STORE_BYTES / 16);
    expect(() => createReplicatedStore({ a: 'f32', b: 'f32' }, { capacity: cap })).toThrow(/bytes/);
    const store = createReplicatedStore({ ['__proto__']: 'f32', x: 'i32' }, { capacity: 4096 });
    expect(Object.getPrototypeOf(store)).toBe(Object.prototype);
    expect(Object.keys(store)).toEqual(['__proto__', 'x']);
    const info = replicatedStoreInfo(store)!;
    expect(info.strideBytes % 16).toBe(0);
    expect(info.strideBytes % 4096).not.toBe(0); // 4,096 entities x 4 B would be a page multiple
    expect(info.bytes).toBeLessThanOrEqual(MAX_REPLICATED_STORE_BYTES);
    // Writes past the capacity go nowhere (typed-array semantics), and no other column is touched.
    store.x[4096] = 5;
    expect(store.x[4096]).toBeUndefined();
    expect(replicatedStoreInfo({ x: new Float32Array(4) })).toBeNull();
  });
});
