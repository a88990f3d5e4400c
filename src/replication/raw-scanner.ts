/**
 * The first, cheap pass of change detection: which entities' raw component values moved since the last scan.
 * Each source array is compared column by column with a private copy of itself. Float32Arrays compare two
 * entities at a time through 64-bit views; a pair that differs is then checked lane by lane on 32-bit integer
 * views (exact: bit patterns, so +0/-0 and NaN payloads count, and the copy is refreshed bit-exact), so only the
 * entity that really moved is flagged and pays for quantization. The one pair the 64-bit compare calls equal with
 * different bits is +0/-0 in the high lane (both lanes zero), so a zero pair also compares its sign (1 / x).
 * Float columns compare zeros by sign on the narrow path too. Integer arrays never take the wide path: for them
 * 0x80000000 is not "minus zero".
 * Components whose sources are all columns of one owned store (replicated-store.ts) scan with owned-scan.ts
 * instead (WebAssembly SIMD, or a JS kernel over the shared buffer), the store's own copies in place of private ones.
 */
import { grown } from '../codec/grow-array.ts';
import type { NumericArray } from './compiled-field.ts';
import { type OwnedScan, claimOwnedScan } from './owned-scan.ts';
import { ownedColumnsOf } from './replicated-store.ts';
import { type FusedScan, compileFusedScan } from './scan-kernel.ts';

interface Column {
  source: NumericArray;
  copy: NumericArray;
  /** 64-bit views of source and copy when both allow it, else null. */
  wide: Float64Array | null;
  wideCopy: Float64Array | null;
  /** 32-bit integer views of source and copy (the exact lane check), when `wide` is set. */
  lanes: Int32Array | null;
  laneCopy: Int32Array | null;
  /** Float values (a float typed array or a plain array): zeros compare by sign too. */
  float: boolean;
}

function isTyped(a: NumericArray): a is NumericArray & ArrayBufferView & { BYTES_PER_ELEMENT: number } {
  return ArrayBuffer.isView(a);
}

function makeColumn(source: NumericArray): Column {
  if (isTyped(source)) {
    const Ctor = source.constructor as new (n: number) => NumericArray & ArrayBufferView;
    const copy = new Ctor(source.length);
    // Same element type: a byte copy, so NaN payloads stay as they are (an element copy may canonicalize them).
    (copy as unknown as { set(a: ArrayLike<number>): void }).set(source as unknown as ArrayLike<number>);
    let wide: Float64Array | null = null;
    let wideCopy: Float64Array | null = null;
    let lanes: Int32Array | null = null;
    let laneCopy: Int32Array | null = null;
    if (source instanceof Float32Array && source.byteOffset % 8 === 0 && source.length >= 2) {
      const pairs = source.length >> 1;
      wide = new Float64Array(source.buffer, source.byteOffset, pairs);
      wideCopy = new Float64Array(copy.buffer, copy.byteOffset, pairs);
      lanes = new Int32Array(source.buffer, source.byteOffset, source.length);
      laneCopy = new Int32Array(copy.buffer, copy.byteOffset, source.length);
    }
    const float = source instanceof Float32Array || source instanceof Float64Array;
    return { source, copy, wide, wideCopy, lanes, laneCopy, float };
  }
  const copy = Array.from({ length: source.length }, (_, i) => source[i]);
  return { source, copy, wide: null, wideCopy: null, lanes: null, laneCopy: null, float: true };
}

/** The fused scan of a component whose every column has 32-bit lanes and 64-bit views, else null. */
function fusedFor(cols: readonly Column[]): FusedScan | null {
  const views = [];
  for (const col of cols) {
    const s = col.source;
    const fourBytes = s instanceof Float32Array || s instanceof Int32Array || s instanceof Uint32Array;
    if (!fourBytes || s.byteOffset % 8 !== 0) return null;
    const c = col.copy as Float32Array | Int32Array | Uint32Array;
    const pairs = s.length >> 1;
    views.push({
      wide: new Float64Array(s.buffer, s.byteOffset, pairs),
      wideCopy: new Float64Array(c.buffer, c.byteOffset, pairs),
      lanes: new Int32Array(s.buffer, s.byteOffset, s.length),
      laneCopy: new Int32Array(c.buffer, c.byteOffset, s.length),
    });
  }
  return compileFusedScan(views);
}

/** Flags entities whose raw values changed, component by component. */
export class RawScanner {
  private readonly columns: Column[][];
  /** moved[c][eid] = 1 after a scan when any source of c changed at eid. */
  moved: Uint8Array[];
  /** 64-bit views of `moved` (flags are 0 or 1 bytes, so a word is 0 exactly when its eight entities did not move). */
  private readonly movedWords: Float64Array[];
  /** reach[c]: entities below which the last scan of c could flag anything (its longest source, up to `end`). */
  private readonly reach: Int32Array;
  /** fused[c]: the generated one-pass scan of component c when all its columns are 4-byte typed arrays, else null. */
  private readonly fused: (FusedScan | null)[];
  /** Shortest and longest source of each component (the fused scan runs only up to the shortest). */
  private readonly shortest: Int32Array;
  private readonly longest: Int32Array;
  /** owned[c]: the scan over an owned store's columns and copies when c's sources all are its columns, else null. */
  private readonly owned: (OwnedScan | null)[];

  /** `wasm: false` keeps owned stores on their JS kernel (the fallback where WebAssembly SIMD is missing). */
  constructor(sources: readonly (readonly NumericArray[])[], options: { wasm?: boolean } = {}) {
    this.columns = sources.map((list) => list.map(makeColumn));
    this.fused = this.columns.map((cols) => fusedFor(cols));
    this.shortest = Int32Array.from(this.columns, (cols) => Math.min(...cols.map((k) => k.source.length)));
    this.longest = Int32Array.from(this.columns, (cols) => Math.max(0, ...cols.map((k) => k.source.length)));
    this.moved = sources.map(() => new Uint8Array(0));
    this.movedWords = sources.map(() => new Float64Array(0));
    this.reach = new Int32Array(sources.length);
    this.owned = sources.map((list) => {
      const o = ownedColumnsOf(list);
      return o === null ? null : claimOwnedScan(o.layout, o.indices, this, options.wasm !== false);
    });
  }

  /** The kernel scanning component `c`: 'wasm-simd' or 'js' over an owned store, else 'arrays' (user-owned). */
  kernelOf(c: number): 'wasm-simd' | 'js' | 'arrays' {
    return this.owned[c]?.kind ?? 'arrays';
  }

  /**
   * Another scanner claimed the owned store of `c`: this one goes back to its private copies, which are stale, so
   * every lane is set to differ once (an extra comparison of each entity against its shadow, never a missed change).
   */
  private invalidate(c: number): void {
    this.owned[c] = null;
    for (const col of this.columns[c]) {
      const { source, copy, lanes, laneCopy } = col;
      if (lanes !== null && laneCopy !== null) for (let e = 0; e < laneCopy.length; e++) laneCopy[e] = ~lanes[e];
      else for (let e = 0; e < copy.length; e++) copy[e] = col.float ? NaN : ~source[e];
    }
  }

  /** Scans component `c` over entity ids [0, end) and returns its moved flags (cleared by the caller). */
  scan(c: number, end: number): Uint8Array {
    if (this.moved[c].length < end + 2) {
      // A multiple of 8 entries, so `scanIds` can skip eight unmoved entities per 64-bit read.
      const length = (Math.max(end + 2, this.moved[c].length * 2) + 7) & ~7;
      this.moved[c] = grown(this.moved[c], length);
      this.movedWords[c] = new Float64Array(this.moved[c].buffer);
    }
    let reach = 0;
    for (const col of this.columns[c]) reach = Math.max(reach, Math.min(end, col.source.length));
    this.reach[c] = reach;
    const moved = this.moved[c];
    for (const col of this.columns[c]) {
      const src = col.source;
      const limit = Math.min(end, src.length);
      if (col.wide !== null && col.wideCopy !== null && col.lanes !== null && col.laneCopy !== null) {
        // 1. two entities per comparison; a pair that differs is settled lane by lane, bit-exact
        const a = col.wide;
        const b = col.wideCopy;
        const la = col.lanes;
        const lb = col.laneCopy;
        const pairs = Math.min(a.length, limit >> 1);
        for (let j = 0; j < pairs; j++) {
          const x = a[j];
          if (x !== b[j] || (x === 0 && 1 / x !== 1 / b[j])) {
            const e = 2 * j;
            const v0 = la[e];
            const v1 = la[e + 1];
            if (v0 !== lb[e]) {
              lb[e] = v0;
              moved[e] = 1;
            }
            if (v1 !== lb[e + 1]) {
              lb[e + 1] = v1;
              moved[e + 1] = 1;
            }
          }
        }
        // 2. odd tail element
        for (let e = pairs * 2; e < limit; e++) {
          if (la[e] !== lb[e]) {
            lb[e] = la[e];
            moved[e] = 1;
          }
        }
      } else {
        let copy = col.copy;
        if (copy.length < src.length) {
          // A plain array grew: extend the copy (new slots count as moved).
          const grown = Array.from({ length: src.length }, (_, i) => (i < copy.length ? copy[i] : NaN));
          col.copy = grown;
          copy = grown;
        }
        const float = col.float;
        for (let e = 0; e < limit; e++) {
          const v = src[e];
          if (v !== copy[e] || v !== v || (float && v === 0 && 1 / v !== 1 / copy[e])) {
            copy[e] = v;
            moved[e] = 1;
          }
        }
      }
    }
    return moved;
  }

  /**
   * Scans component `c` over [0, end) and writes into `ids`, ascending, the entities that moved and have the
   * component (`has[eid] !== 0`), or every entity that has it when `all` is set (components whose wire value can
   * change without their raw value: entity references). Clears the moved flags; returns the count.
   */
  scanIds(c: number, end: number, has: Uint8Array, all: boolean, ids: Int32Array): number {
    const owned = this.owned[c];
    if (owned !== null && !all) {
      if (owned.active()) {
        const reach = Math.min(end, this.longest[c]);
        this.reach[c] = reach;
        return owned.scan(Math.min(reach, has.length), has, ids);
      }
      this.invalidate(c);
    }
    const fused = this.fused[c];
    if (fused !== null && !all) {
      const reach = Math.min(end, this.longest[c]);
      const limit = Math.min(reach, has.length);
      if (limit <= this.shortest[c]) {
        this.reach[c] = reach;
        return fused(limit, has, ids);
      }
    }
    const moved = this.scan(c, end);
    const limit = Math.min(this.reach[c], has.length);
    let n = 0;
    if (all) {
      for (let e = 0; e < limit; e++) {
        moved[e] = 0;
        if (has[e] !== 0) ids[n++] = e;
      }
    } else {
      const words = this.movedWords[c];
      const wordCount = (limit + 7) >> 3;
      for (let k = 0; k < wordCount; k++) {
        if (words[k] === 0) continue;
        const top = Math.min(limit, 8 * k + 8);
        for (let e = 8 * k; e < top; e++) {
          if (moved[e] === 0) continue;
          moved[e] = 0;
          if (has[e] !== 0) ids[n++] = e;
        }
      }
    }
    // Flags at or past `limit` (a source longer than the registry's tables) name no replicated entity.
    moved.fill(0, limit, this.reach[c]);
    return n;
  }
}
