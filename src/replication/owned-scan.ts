/**
 * The raw change scan over columns of an owned store (replicated-store.ts): the columns and their copies share one
 * buffer, so the scan reads one view (or one WebAssembly memory) instead of one typed array per column.
 * Two kernels with the same result, chosen once:
 * - WebAssembly SIMD (wasm-scan-module.ts) where the store is a `WebAssembly.Memory` and the platform validates the
 *   module: 4 entities x all columns per step; the tail past the last whole block of 4 is settled here, lane by lane;
 * - JS otherwise (no WebAssembly, no SIMD, a CSP that forbids compiling, or `wasm: false`): one Float64Array view,
 *   two entities per compare, a pair that differs (or a zero pair, whose high lane may hide a sign bit) settled on
 *   32-bit lanes. No `new Function`, so it runs under any Content Security Policy.
 * Both are exact on bit patterns (+0/-0, NaN payloads, denormals), refresh the copies bit-exact, and write the ids
 * of the entities that changed and have the component, ascending: the contract of `FusedScan` (scan-kernel.ts), which
 * test/replication/owned-scan.test.ts holds them and the per-column scan of raw-scanner.ts to on random data.
 */
import type { StoreLayout } from './replicated-store.ts';
import type { FusedScan } from './scan-kernel.ts';
import { instantiateScan } from './wasm-scan-module.ts';

/** Which kernel an owned scan runs. */
export type OwnedScanKind = 'wasm-simd' | 'js';

/** A scan over owned columns, valid while its scanner holds the store's copies. */
export interface OwnedScan {
  readonly kind: OwnedScanKind;
  /** Scans entities [0, limit) (limit <= the store's capacity) like a `FusedScan`. */
  readonly scan: FusedScan;
  /** False once another scanner claimed the store's copies (its kernel then owns them). */
  active(): boolean;
}

/**
 * Claims the copies of columns `indices` of `layout` for `token` (they are set equal to the columns: what is there
 * now is the starting state, as a user-owned column's private copy starts) and returns the scan over them.
 * `wasm: false` forces the JS kernel.
 */
export function claimOwnedScan(layout: StoreLayout, indices: readonly number[], token: object, wasm = true): OwnedScan {
  const { buffer, stride, columns, capacity } = layout;
  const bytes = new Uint8Array(buffer);
  for (const i of indices) bytes.copyWithin((columns + i) * stride, i * stride, i * stride + capacity * 4);
  layout.claim = token;
  const active = () => layout.claim === token;
  const lanes = new Int32Array(buffer);
  /** Lane index of each column's entity 0, and the distance from a lane to its copy. */
  const src32 = Int32Array.from(indices, (i) => (i * stride) / 4);
  const copy32 = (columns * stride) / 4;
  const tail = (from: number, limit: number, has: Uint8Array, ids: Int32Array, n: number): number => {
    for (let e = from; e < limit; e++) {
      let moved = 0;
      for (let c = 0; c < src32.length; c++) {
        const a = src32[c] + e;
        const v = lanes[a];
        if (v !== lanes[a + copy32]) {
          lanes[a + copy32] = v;
          moved = 1;
        }
      }
      if (moved !== 0 && has[e] !== 0) ids[n++] = e;
    }
    return n;
  };
  const simd =
    wasm && layout.memory !== null
      ? instantiateScan(
          {
            sources: indices.map((i) => i * stride),
            copies: indices.map((i) => (columns + i) * stride),
            pages: layout.pages,
          },
          layout.memory,
        )
      : null;
  if (simd !== null) {
    const list = new Int32Array(buffer, layout.listBase, Math.ceil(capacity / 4) * 4);
    const listBase = layout.listBase;
    const scan: FusedScan = (limit, has, ids) => {
      const blocks = limit >> 2;
      const count = simd(0, blocks, listBase);
      let n = 0;
      for (let i = 0; i < count; i++) {
        const e = list[i];
        if (has[e] !== 0) ids[n++] = e;
      }
      return tail(blocks << 2, limit, has, ids, n);
    };
    return { kind: 'wasm-simd', scan, active };
  }
  const words = new Float64Array(buffer, 0, Math.floor(buffer.byteLength / 8));
  const src64 = Int32Array.from(indices, (i) => (i * stride) / 8);
  const copy64 = (columns * stride) / 8;
  const k = src64.length;
  const scan: FusedScan = (limit, has, ids) => {
    const pairs = limit >> 1;
    let n = 0;
    for (let j = 0; j < pairs; j++) {
      // 1. any column's pair word differs, or is a zero pair (the double compare hides a sign bit in either lane)
      let differs = false;
      for (let c = 0; c < k; c++) {
        const s = src64[c] + j;
        const x = words[s];
        const t = s + copy64;
        if (x !== words[t] || (x === 0 && (lanes[2 * s] !== lanes[2 * t] || lanes[2 * s + 1] !== lanes[2 * t + 1]))) {
          differs = true;
          break;
        }
      }
      if (!differs) continue;
      // 2. settled lane by lane in every column, the copies refreshed bit-exact
      const e = j << 1;
      let f0 = 0;
      let f1 = 0;
      for (let c = 0; c < k; c++) {
        const a = src32[c] + e;
        const b = a + copy32;
        const v0 = lanes[a];
        if (v0 !== lanes[b]) {
          lanes[b] = v0;
          f0 = 1;
        }
        const v1 = lanes[a + 1];
        if (v1 !== lanes[b + 1]) {
          lanes[b + 1] = v1;
          f1 = 1;
        }
      }
      if (f0 !== 0 && has[e] !== 0) ids[n++] = e;
      if (f1 !== 0 && has[e + 1] !== 0) ids[n++] = e + 1;
    }
    return tail(pairs << 1, limit, has, ids, n);
  };
  return { kind: 'js', scan, active };
}
