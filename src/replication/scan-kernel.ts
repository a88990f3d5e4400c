/**
 * The raw scan of one component fused into one generated loop: every source column of the component is compared
 * with its private copy in the same pass over entity pairs (64-bit views, two entities per compare), and the ids
 * of the entities that moved and have the component are written straight out, ascending. No moved flags, no
 * second pass, one loop instead of one per column. A pair whose 64-bit words differ in any column is settled lane
 * by lane on 32-bit integer views in every column (exact: bit patterns; the copies are refreshed bit-exact).
 * Two 64-bit words compare equal with different bits only as +0/-0, which happens only when both low lanes are
 * zero: then both lanes are compared as integers (whatever the byte order). So the result is exact for any 4-byte column (Float32Array,
 * Int32Array, Uint32Array) and equals the per-column scan of raw-scanner.ts (test/replication/scan-kernel.test.ts).
 *
 * The generated source holds no user text: identifiers come from column indices (`w0`, `lane3`, ...).
 */

/** Scans entities [0, limit) (limit <= every column's length) and writes the moved ones with `has[e] !== 0`. */
export type FusedScan = (limit: number, has: Uint8Array, ids: Int32Array) => number;

/** Four views per column: 64-bit source and copy, 32-bit lanes of source and copy. */
export interface FusedColumnViews {
  wide: Float64Array;
  wideCopy: Float64Array;
  lanes: Int32Array;
  laneCopy: Int32Array;
}

/** Generates the fused scan over `columns` (1..64 of them), or null where `new Function` is not allowed. */
export function compileFusedScan(columns: readonly FusedColumnViews[]): FusedScan | null {
  const k = columns.length;
  if (k === 0 || k > 64) return null;
  const params: string[] = [];
  const args: unknown[] = [];
  const cols = Array.from({ length: k }, (_, c) => c);
  for (const c of cols) {
    params.push(`w${c}`, `wc${c}`, `lane${c}`, `lc${c}`);
    const v = columns[c];
    args.push(v.wide, v.wideCopy, v.lanes, v.laneCopy);
  }
  // Any column's word differs (or is a zero whose high lane may carry a sign bit that the double compare hides).
  const differs = cols
    .map(
      (c) =>
        `(u = w${c}[j]) !== wc${c}[j] || (u === 0 && (lane${c}[e] !== lc${c}[e] || lane${c}[e + 1] !== lc${c}[e + 1]))`,
    )
    .join(' ||\n      ');
  const settle = (lane: string, flag: string) =>
    cols.map((c) => `v = lane${c}[${lane}]; if (v !== lc${c}[${lane}]) { lc${c}[${lane}] = v; ${flag} = 1; }`);
  const source = [
    `'use strict';`,
    `return function fusedScan(limit, has, ids) {`,
    `  const pairs = limit >> 1;`,
    `  let n = 0, u = 0, v = 0;`,
    `  for (let j = 0; j < pairs; j++) {`,
    `    const e = j << 1;`,
    `    if (${differs}) {`,
    `      let f0 = 0, f1 = 0;`,
    ...settle('e', 'f0').map((s) => `      ${s}`),
    ...settle('e + 1', 'f1').map((s) => `      ${s}`),
    `      if (f0 !== 0 && has[e] !== 0) ids[n++] = e;`,
    `      if (f1 !== 0 && has[e + 1] !== 0) ids[n++] = e + 1;`,
    `    }`,
    `  }`,
    `  if ((limit & 1) !== 0) {`,
    `    const e = limit - 1;`,
    `    let f0 = 0;`,
    ...settle('e', 'f0').map((s) => `    ${s}`),
    `    if (f0 !== 0 && has[e] !== 0) ids[n++] = e;`,
    `  }`,
    `  return n;`,
    `};`,
  ].join('\n');
  try {
    // Generated from column indices only (see the file comment).
    const factory = new Function(...params, source) as (...a: unknown[]) => FusedScan;
    return factory(...args);
  } catch {
    return null; // no eval here (Content Security Policy): the per-column scan stays
  }
}
