/**
 * Minimum of a signal over a sliding time window, kept as the minima of a few fixed-width buckets: the exact
 * minimum over the last `buckets - 1` to `buckets` bucket widths, with no creep between low samples. Used for one-way
 * delay floors (clock mapping, arrival lag), where the minimum is the sample that met no queueing or jitter.
 */
export class WindowedMin {
  private readonly width: number;
  private readonly mins: Float64Array;
  private readonly starts: Float64Array;
  private current = -1;

  /** `windowMs` split into `buckets` buckets (more buckets = smoother expiry). */
  constructor(windowMs: number, buckets = 8) {
    this.width = windowMs / buckets;
    this.mins = new Float64Array(buckets).fill(Infinity);
    this.starts = new Float64Array(buckets).fill(-Infinity);
  }

  /** Adds a sample `value` observed at `nowMs`. */
  push(nowMs: number, value: number): void {
    if (!Number.isFinite(value)) return;
    const n = this.mins.length;
    if (this.current < 0 || nowMs >= this.starts[this.current] + this.width || nowMs < this.starts[this.current]) {
      this.current = (this.current + 1) % n;
      this.starts[this.current] = nowMs;
      this.mins[this.current] = value;
    } else if (value < this.mins[this.current]) this.mins[this.current] = value;
  }

  /** The minimum over the window ending at `nowMs` (Infinity when empty). */
  value(nowMs: number): number {
    let m = Infinity;
    const horizon = nowMs - this.width * this.mins.length;
    for (let i = 0; i < this.mins.length; i++) if (this.starts[i] > horizon && this.mins[i] < m) m = this.mins[i];
    return m;
  }

  /** Forgets every sample. */
  clear(): void {
    this.mins.fill(Infinity);
    this.starts.fill(-Infinity);
    this.current = -1;
  }
}
