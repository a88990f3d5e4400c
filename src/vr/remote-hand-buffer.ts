/**
 * A remote hand's recent samples on the owner's pose timeline (server clock, ms), sorted by time, and the hand at a
 * render time: the parameters lerped between the two samples around it, held at the newest after it (fingers are
 * not extrapolated: a guessed curl reads as a twitch), the oldest before it.
 */
import { dequantizeHandParam } from './hand-codec.ts';
import { HAND_PARAM_COUNT } from './hand-skeleton.ts';

/** Samples kept per remote hand: 8 at 30 Hz covers 260 ms, beyond any render delay the pose layer uses. */
export const REMOTE_HAND_SAMPLES = 8;

/** The samples of one remote hand. */
export class RemoteHandBuffer {
  readonly times = new Float64Array(REMOTE_HAND_SAMPLES);
  readonly tracked = new Uint8Array(REMOTE_HAND_SAMPLES);
  /** Parameter values (radians, scale), values[k * HAND_PARAM_COUNT + i]. */
  readonly values = new Float64Array(REMOTE_HAND_SAMPLES * HAND_PARAM_COUNT);
  count = 0;

  /** Inserts a sample (codes from `o`, or none when not tracked); a sample at an existing time replaces it. */
  push(timeMs: number, tracked: boolean, codes: ArrayLike<number> | null, o: number): void {
    let k = this.count;
    while (k > 0 && this.times[k - 1] > timeMs) k--;
    if (k > 0 && this.times[k - 1] === timeMs) k--;
    else {
      if (this.count === REMOTE_HAND_SAMPLES) {
        if (k === 0) return; // older than everything kept
        this.shiftOut();
        k--;
      }
      for (let m = this.count; m > k; m--) this.copy(m - 1, m);
      this.count++;
    }
    this.times[k] = timeMs;
    this.tracked[k] = tracked ? 1 : 0;
    const v = k * HAND_PARAM_COUNT;
    if (codes) for (let i = 0; i < HAND_PARAM_COUNT; i++) this.values[v + i] = dequantizeHandParam(i, codes[o + i]);
    else if (k > 0) this.values.copyWithin(v, v - HAND_PARAM_COUNT, v);
  }

  /** The newest sample's time, or NaN. */
  get newestMs(): number {
    return this.count > 0 ? this.times[this.count - 1] : NaN;
  }

  /** Writes the parameters at render time `t` into `out`; returns whether the hand is tracked there. */
  sample(t: number, out: Float64Array): boolean {
    const n = this.count;
    if (n === 0) return false;
    let k = 0;
    while (k < n && this.times[k] <= t) k++;
    // k = first sample after t
    if (k === 0 || k === n) {
      const s = k === 0 ? 0 : n - 1;
      for (let i = 0; i < HAND_PARAM_COUNT; i++) out[i] = this.values[s * HAND_PARAM_COUNT + i];
      return this.tracked[s] === 1;
    }
    const a = k - 1;
    if (!this.tracked[a] || !this.tracked[k]) {
      for (let i = 0; i < HAND_PARAM_COUNT; i++) out[i] = this.values[a * HAND_PARAM_COUNT + i];
      return this.tracked[a] === 1;
    }
    const u = (t - this.times[a]) / (this.times[k] - this.times[a]);
    for (let i = 0; i < HAND_PARAM_COUNT; i++) {
      const x = this.values[a * HAND_PARAM_COUNT + i];
      out[i] = x + (this.values[k * HAND_PARAM_COUNT + i] - x) * u;
    }
    return true;
  }

  clear(): void {
    this.count = 0;
  }

  private copy(from: number, to: number): void {
    this.times[to] = this.times[from];
    this.tracked[to] = this.tracked[from];
    this.values.copyWithin(to * HAND_PARAM_COUNT, from * HAND_PARAM_COUNT, (from + 1) * HAND_PARAM_COUNT);
  }

  private shiftOut(): void {
    for (let m = 1; m < this.count; m++) this.copy(m, m - 1);
    this.count--;
  }
}
