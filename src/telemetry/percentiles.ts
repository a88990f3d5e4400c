/** Percentiles of small sample sets (frame times, per-client figures), by nearest rank on a sorted copy. */

/** The `p` percentile (0..100) of `values[0..count)` by nearest rank; 0 when there is no value. */
export function percentile(values: ArrayLike<number>, count: number, p: number): number {
  const n = Math.min(count, values.length);
  if (n <= 0) return 0;
  const sorted = Float64Array.from({ length: n }, (_, i) => values[i]).sort();
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * n);
  return sorted[Math.max(0, rank - 1)];
}
