/**
 * The first, cheap pass of change detection: which entities' raw component values moved since the last scan.
 * Each source array is compared column by column with a private copy of itself; Float32Arrays compare two
 * entities at a time through 64-bit views (about 6 ns per entity for a 7-float pose here, against ~14 ns row
 * by row). Only entities flagged here pay for quantization. A false "moved" (two floats whose 64-bit view is a
 * NaN) costs a wire comparison, never a wrong result. The one pair the 64-bit compare cannot tell apart is +0
 * and -0 (both lanes zero, the high lane's sign bit differing: f32 +0/-0 at the odd entity), and f32 is
 * bit-exact on the wire, so a zero pair also compares its sign (1 / x). Float columns compare zeros by sign on
 * the narrow path too. Integer arrays never take the wide path: for them 0x80000000 is not "minus zero".
 */
import { grown } from '../codec/grow-array.ts';
import type { NumericArray } from './compiled-field.ts';

interface Column {
  source: NumericArray;
  copy: NumericArray;
  /** 64-bit views of source and copy when both allow it, else null. */
  wide: Float64Array | null;
  wideCopy: Float64Array | null;
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
    for (let i = 0; i < source.length; i++) copy[i] = source[i];
    let wide: Float64Array | null = null;
    let wideCopy: Float64Array | null = null;
    if (source instanceof Float32Array && source.byteOffset % 8 === 0 && source.length >= 2) {
      const pairs = source.length >> 1;
      wide = new Float64Array(source.buffer, source.byteOffset, pairs);
      wideCopy = new Float64Array(copy.buffer, copy.byteOffset, pairs);
    }
    const float = source instanceof Float32Array || source instanceof Float64Array;
    return { source, copy, wide, wideCopy, float };
  }
  const copy = Array.from({ length: source.length }, (_, i) => source[i]);
  return { source, copy, wide: null, wideCopy: null, float: true };
}

/** Flags entities whose raw values changed, component by component. */
export class RawScanner {
  private readonly columns: Column[][];
  /** moved[c][eid] = 1 after a scan when any source of c changed at eid. */
  moved: Uint8Array[];

  constructor(sources: readonly (readonly NumericArray[])[]) {
    this.columns = sources.map((list) => list.map(makeColumn));
    this.moved = sources.map(() => new Uint8Array(0));
  }

  /** Scans component `c` over entity ids [0, end) and returns its moved flags (cleared by the caller). */
  scan(c: number, end: number): Uint8Array {
    if (this.moved[c].length < end + 2) {
      this.moved[c] = grown(this.moved[c], Math.max(end + 2, this.moved[c].length * 2));
    }
    const moved = this.moved[c];
    for (const col of this.columns[c]) {
      const src = col.source;
      const limit = Math.min(end, src.length);
      if (col.wide !== null && col.wideCopy !== null) {
        // 1. two entities per comparison
        const a = col.wide;
        const b = col.wideCopy;
        const pairs = Math.min(a.length, (limit + 1) >> 1);
        for (let j = 0; j < pairs; j++) {
          const x = a[j];
          if (x !== b[j] || (x === 0 && 1 / x !== 1 / b[j])) {
            b[j] = x;
            moved[2 * j] = 1;
            moved[2 * j + 1] = 1;
          }
        }
        // 2. odd tail element, and refresh the copy of both lanes exactly (a NaN pair may not copy bit-exact)
        const copy = col.copy;
        for (let e = pairs * 2; e < limit; e++) {
          if (src[e] !== copy[e] || (src[e] === 0 && 1 / src[e] !== 1 / copy[e])) {
            copy[e] = src[e];
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
}
