/**
 * The raw change scan over columns of an owned store (replicated-store.ts): the columns and their copies share one
 * buffer, so the scan reads one view (or one WebAssembly memory) instead of one typed array per column.
 * Two kernels with the same result, chosen once:
 * - WebAssembly SIMD (wasm-scan-module.ts) where the store is a `WebAssembly.Memory` and the platform validates the
 *   module: 4 entities x all columns per step; the tail past the last whole block of 4 is settled here, lane by lane;
 * - JS otherwise (no WebAssembly, no SIMD, a CSP that forbids compiling, or `wasm: false`): the generated fused
 *   scan of scan-kernel.ts over 64-bit views into the one buffer where `new Function` is allowed (measured about
 *   twice as fast as the loop below here), else a loop without generated code: 64-bit views of the columns, two
 *   entities per compare, one tight loop per column flagging pairs that differ (or zero pairs whose lanes differ:
 *   the double compare hides a sign bit), then each flagged pair settled on 32-bit lanes.
 * Both are exact on bit patterns (+0/-0, NaN payloads, denormals), refresh the copies bit-exact, and write the ids
 * of the entities that changed and have the component, ascending: the contract of `FusedScan` (scan-kernel.ts), which
 * test/replication/owned-scan.test.ts holds them and the per-column scan of raw-scanner.ts to on random data.
 */
import type { StoreLayout } from './replicated-store.ts';
import { type FusedScan, compileFusedScan } from './scan-kernel.ts';
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
 * `wasm: false` forces the JS kernel; `codegen: false` its loop without generated code (as under a strict CSP).
 */
export function claimOwnedScan(
  layout: StoreLayout,
  indices: readonly number[],
  token: object,
  wasm = true,
  codegen = true,
): OwnedScan {
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
  // 64-bit views of each scanned column and its copy, all over the one buffer.
  const pairCap = capacity >> 1;
  const colWords = indices.map((i) => new Float64Array(buffer, i * stride, pairCap));
  const copyWords = indices.map((i) => new Float64Array(buffer, (columns + i) * stride, pairCap));
  const k = indices.length;
  const fused = codegen
    ? compileFusedScan(
        indices.map((i, c) => ({
          wide: colWords[c],
          wideCopy: copyWords[c],
          lanes: new Int32Array(buffer, i * stride, capacity),
          laneCopy: new Int32Array(buffer, (columns + i) * stride, capacity),
        })),
      )
    : null;
  if (fused !== null) return { kind: 'js', scan: fused, active };
  // Pairs any column flagged in pass 1, a multiple of 8 so pass 2 skips eight clean pairs per 64-bit read.
  const pairFlags = new Uint8Array((((capacity >> 1) + 8) >> 3) << 3);
  const pairWords = new Float64Array(pairFlags.buffer);
  const scan: FusedScan = (limit, has, ids) => {
    const pairs = limit >> 1;
    // 1. column by column, one tight loop each: a pair whose word differs, or a zero pair (the double compare
    //    hides a sign bit in either lane) whose lanes differ, is flagged
    for (let c = 0; c < k; c++) {
      const col = colWords[c];
      const copy = copyWords[c];
      for (let j = 0; j < pairs; j++) {
        const x = col[j];
        if (x !== copy[j]) pairFlags[j] = 1;
        else if (x === 0) {
          const a = src32[c] + 2 * j;
          const b = a + copy32;
          if (lanes[a] !== lanes[b] || lanes[a + 1] !== lanes[b + 1]) pairFlags[j] = 1;
        }
      }
    }
    // 2. each flagged pair settled lane by lane in every column, the copies refreshed bit-exact, ids ascending
    let n = 0;
    const wordCount = (pairs + 7) >> 3;
    for (let w = 0; w < wordCount; w++) {
      if (pairWords[w] === 0) continue;
      const top = Math.min(pairs, 8 * w + 8);
      for (let j = 8 * w; j < top; j++) {
        if (pairFlags[j] === 0) continue;
        pairFlags[j] = 0;
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
    }
    return tail(pairs << 1, limit, has, ids, n);
  };
  return { kind: 'js', scan, active };
}
