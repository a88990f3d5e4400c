/**
 * The raw scan of one component fused across its columns, for components whose every source is a 4-byte typed
 * array (Float32Array, Int32Array, Uint32Array) of one length: one pass over the entities compares all columns'
 * bit patterns at once (XOR of 32-bit lanes, OR-ed together), refreshes the copies of an entity that moved and
 * writes its id, ascending, when it has the component. One branch per entity instead of one per column and
 * pair, and no moved flags to set and collect afterwards. Exact like the per-column scan: bit patterns, so
 * +0/-0 and NaN payloads count.
 *
 * The loop is generated once per column count (`new Function`), unrolled over the columns so every access is
 * monomorphic. Its source is built from integers only (the column count and indices): no name, string or
 * value of a user's schema ever enters it, so a component or field name cannot inject code. Where code
 * generation is refused (a Content-Security-Policy without 'unsafe-eval'), `compileFusedScan` returns null
 * and the caller keeps the per-column scan.
 */

/**
 * Compares `lanes[k][e]` with `copies[k][e]` for every column k and entity e in [0, end); where any differs,
 * copies the entity's lanes and, when `has[e] !== 0`, appends e to `ids`. Returns the number of ids written.
 */
export type FusedScan = (
  lanes: readonly Int32Array[],
  copies: readonly Int32Array[],
  end: number,
  has: Uint8Array,
  ids: Int32Array,
) => number;

/** Most columns a fused loop unrolls; a component with more keeps the per-column scan. */
export const MAX_FUSED_COLUMNS = 32;

/** The generated source of the fused loop over `columns` columns (integers only; see the file comment). */
export function fusedScanSource(columns: number): string {
  if (!Number.isInteger(columns) || columns < 1 || columns > MAX_FUSED_COLUMNS) {
    throw new RangeError(`a fused scan takes 1..${MAX_FUSED_COLUMNS} columns, not ${columns}`);
  }
  const ks = Array.from({ length: columns }, (_, k) => k);
  return [
    '"use strict";',
    ...ks.map((k) => `const a${k} = lanes[${k}], b${k} = copies[${k}];`),
    'let n = 0;',
    'for (let e = 0; e < end; e++) {',
    ...ks.map((k) => `  const v${k} = a${k}[e];`),
    `  if ((${ks.map((k) => `(v${k} ^ b${k}[e])`).join(' | ')}) !== 0) {`,
    ...ks.map((k) => `    b${k}[e] = v${k};`),
    '    if (has[e] !== 0) ids[n++] = e;',
    '  }',
    '}',
    'return n;',
  ].join('\n');
}

/**
 * The fused loop for `columns` columns (compiled once per component, at scanner construction); null when there
 * are too many columns or the platform refuses code generation.
 */
export function compileFusedScan(columns: number): FusedScan | null {
  if (!Number.isInteger(columns) || columns < 1 || columns > MAX_FUSED_COLUMNS) return null;
  try {
    return new Function('lanes', 'copies', 'end', 'has', 'ids', fusedScanSource(columns)) as FusedScan;
  } catch {
    return null;
  }
}
