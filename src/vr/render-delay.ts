/**
 * The adaptive render delay of one remote owner's devices. Each sample arrives `lag = arrival - sampleTime` after
 * its capture (local clock minus sample timeline, so clock offsets cancel). The delay behind local time is
 *
 *   target = mean(lag) + k x stddev(lag) + f x sample interval
 *
 * over the last `lagWindow` samples: the mean and spread of the lag rather than its minimum or a quantile, because
 * lags come in steps of the owner's and viewer's frame times (11 ms at 90 Hz) and any estimate that jumps between
 * those steps moves the delay by a whole frame, which shows as a wobble of *when* a pose is displayed; the mean and
 * deviation of a few hundred samples move by a fraction of a millisecond. The interval term is the wait for the
 * sample after the render time (f < 1 accepts a short extrapolation, within `allowanceMs`, now and then).
 *
 * Playback follows the target at a bounded rate (at most `slewRate` faster or slower than real time) and stands
 * still while the target stays within `hysteresisMs`. When samples are late, it runs at most `allowanceMs` past the
 * newest one (extrapolating) and then waits for the next, instead of guessing further.
 */

/** Tuning of the adaptive delay. */
export interface RenderDelayOptions {
  /** k: standard deviations of the lag added to its mean. */
  jitterFactor: number;
  /** f: sample intervals added (the wait for the sample after the render time). */
  intervalFactor: number;
  /** Samples the lag statistics cover. */
  lagWindow: number;
  /** Bounds of the delay above the mean lag (ms). */
  minDelayMs: number;
  /** Largest delay above the mean lag, in ms. */
  maxDelayMs: number;
  /** Largest relative playback-rate change while the delay moves to its target (0.1 = 10 %). */
  slewRate: number;
  /** The delay does not move while its target is within this many ms of it. */
  hysteresisMs: number;
  /** Time constant (ms) with which playback eases into its limit past the newest sample (0 = a hard stop). */
  approachMs: number;
  /** How far past the newest sample playback may run (extrapolating) before it waits for the next one (ms). */
  allowanceMs: number;
}

/**
 * Defaults, measured with bench/vr-quality on the standard motion trace at 0/50/100/200 ms RTT, 20 ms jitter and
 * 2 % loss (five seeds): k = 2.25 and f = 0.65 keep the display delay inside the budget (one-way latency + both send
 * intervals + 2 x jitter) at every row, with 0.4-2.7 mm RMS against the truth at (viewer time - display delay) and
 * 1.0-2.4 mm at 100 ms RTT; the older floor + interval + 1 x mean-jitter target wobbled by 9-15 ms (4-9 mm RMS).
 * k = 2.5 passes the budget by 1-2 ms at 50 ms RTT; f = 1 adds a frame of delay (11 ms over the budget at 0 RTT),
 * where f = 0.65 extrapolates a third of the frames by under a frame at no cost in error. A 40 ms allowance covers
 * one lost server packet at 30 Hz (25 ms doubled the RMS); 512 samples are ~17 s of a 30 Hz stream; 3 ms of
 * hysteresis keeps the delay still against the statistics' last wobble.
 */
export const DEFAULT_RENDER_DELAY_OPTIONS: RenderDelayOptions = {
  jitterFactor: 2.25,
  intervalFactor: 0.65,
  lagWindow: 512,
  minDelayMs: 10,
  maxDelayMs: 500,
  slewRate: 0.1,
  hysteresisMs: 3,
  approachMs: 10,
  allowanceMs: 40,
};

/** Weight of one sample in the interval average: 1/32 averages over ~1 s at 30 Hz. */
const EWMA_WEIGHT = 1 / 32;
/**
 * Gaps whose low quantile anchors the interval. Lost samples and server ticks that found no new owner sample only
 * ever stretch gaps, so the 4th smallest of the last 16 moves only when 13 of them are long: a new send rate
 * (fidelity by distance sends far entities every Nth tick) within 13 samples, a run of stretched gaps practically
 * never (p = 0.3 each: 3e-5).
 */
const GAP_WINDOW = 16;
/** Index (in the sorted window) of the quantile that anchors the interval. */
const GAP_QUANTILE_INDEX = 3;

/** Adaptive render delay for the samples of one owner. */
export class RenderDelay {
  private readonly options: RenderDelayOptions;
  /** The last `lagWindow` lags (a ring), with their running sum and sum of squares. */
  private readonly lags: Float64Array;
  private lagCount = 0;
  private lagHead = 0;
  private lagSum = 0;
  private lagSumSq = 0;
  /** Mean spacing of samples (ms). */
  intervalMs: number;
  /** Delay in use: local time minus render time (ms); NaN until the first sample. */
  offsetMs = NaN;
  private lastNowMs = NaN;
  private lastSampleMs = NaN;
  /** Set by a skip: the render time stands still until the delay is back at its target. */
  private refilling = false;
  /** The last GAP_WINDOW sample gaps (a ring), and scratch to sort them. */
  private readonly gaps = new Float64Array(GAP_WINDOW);
  private readonly sorted = new Float64Array(GAP_WINDOW);
  private gapCount = 0;
  private gapHead = 0;

  constructor(intervalMs: number, options: RenderDelayOptions = DEFAULT_RENDER_DELAY_OPTIONS) {
    this.options = options;
    this.intervalMs = intervalMs;
    this.lags = new Float64Array(Math.max(2, Math.floor(options.lagWindow)));
  }

  /** Mean lag of the window (ms); NaN before the first sample. */
  get meanLagMs(): number {
    return this.lagCount > 0 ? this.lagSum / this.lagCount : NaN;
  }

  /** Standard deviation of the lag over the window (ms): the jitter the delay leaves room for. */
  get jitterMs(): number {
    const n = this.lagCount;
    if (n < 2) return 0;
    const mean = this.lagSum / n;
    return Math.sqrt(Math.max(0, this.lagSumSq / n - mean * mean));
  }

  /** A sample with timeline time `sampleMs` arrived at local time `nowMs`. */
  onSample(nowMs: number, sampleMs: number): void {
    const lag = nowMs - sampleMs;
    if (!Number.isFinite(lag)) return;
    this.pushLag(lag);
    if (sampleMs > this.lastSampleMs || !Number.isFinite(this.lastSampleMs)) this.lastSampleMs = sampleMs;
    if (Number.isNaN(this.offsetMs)) this.offsetMs = this.targetMs();
  }

  /** The delay the estimates ask for now (ms behind local time). */
  targetMs(): number {
    const o = this.options;
    let above = o.jitterFactor * this.jitterMs + o.intervalFactor * this.intervalMs;
    if (above < o.minDelayMs) above = o.minDelayMs;
    if (above > o.maxDelayMs) above = o.maxDelayMs;
    return this.meanLagMs + above;
  }

  /**
   * Moves the render time forward to `renderTimeMs` at once (skipping a gap nothing is known about). The render
   * time then stands at the gap's end until the delay is back at its target: otherwise it would run on a delay
   * short by the whole margin, and every late sample would start a new glide (measured after a 10-packet burst:
   * the largest frame-to-frame excess falls from 35.6 to 29.8 mm, one glide instead of five).
   */
  skipTo(nowMs: number, renderTimeMs: number): void {
    const offset = nowMs - renderTimeMs;
    if (offset < this.offsetMs) {
      this.offsetMs = offset;
      this.refilling = true;
    }
  }

  /**
   * Render time (sample timeline) for local time `nowMs`. The delay first moves toward its target (bounded rate);
   * then, when the render time closes in on the newest sample (`newestSampleMs`), playback slows down smoothly so it
   * approaches that sample instead of running past it: a late sample costs a little delay, not a guess.
   */
  renderTime(nowMs: number, newestSampleMs = Infinity): number {
    if (Number.isNaN(this.offsetMs)) return -Infinity;
    if (!Number.isNaN(this.lastNowMs) && nowMs > this.lastNowMs) {
      const o = this.options;
      const dt = nowMs - this.lastNowMs;
      const step = o.slewRate * dt;
      const target = this.targetMs();
      const prevRender = this.lastNowMs - this.offsetMs;
      let offset = this.offsetMs;
      if (this.refilling) {
        // After a skip the render time waits at the gap's end until the delay is back at its target.
        offset = Math.min(target, offset + dt);
        if (offset >= target) this.refilling = false;
      } else if (target > offset + o.hysteresisMs) offset = Math.min(target, offset + step);
      else if (target < offset - o.hysteresisMs) offset = Math.max(target, offset - step);
      if (Number.isFinite(newestSampleMs) && offset < this.meanLagMs + o.maxDelayMs) {
        const room = newestSampleMs + o.allowanceMs - prevRender;
        let advance = nowMs - offset - prevRender;
        const cap = room <= 0 ? 0 : o.approachMs > dt ? (room * dt) / o.approachMs : room;
        if (advance > cap) advance = cap;
        if (advance < 0) advance = 0;
        offset = nowMs - (prevRender + advance);
      }
      this.offsetMs = offset;
    }
    if (Number.isNaN(this.lastNowMs) || nowMs > this.lastNowMs) this.lastNowMs = nowMs;
    return nowMs - this.offsetMs;
  }

  /**
   * One device's samples `gapMs` apart (its new sample's time minus its previous one's). Devices of one owner may be
   * sent on different ticks (fidelity by distance spreads them), so the spacing is each device's own, not the owner
   * stream's. The spacing follows the gaps near it (gaps from lost samples would inflate it, so they do not count); when
   * the low quantile of the recent gaps has moved far from it (the sender's rate changed), it jumps there.
   */
  onGap(gapMs: number): void {
    if (!(gapMs > 0) || !Number.isFinite(gapMs)) return;
    const gap = gapMs;
    this.gaps[this.gapHead] = gap;
    this.gapHead = (this.gapHead + 1) % GAP_WINDOW;
    if (this.gapCount < GAP_WINDOW) this.gapCount++;
    const n = this.gapCount;
    const sorted = this.sorted;
    for (let i = 0; i < n; i++) {
      const v = this.gaps[i];
      let j = i;
      while (j > 0 && sorted[j - 1] > v) {
        sorted[j] = sorted[j - 1];
        j--;
      }
      sorted[j] = v;
    }
    if (n < GAP_WINDOW) {
      if (gap > 0.5 * this.intervalMs && gap < 1.5 * this.intervalMs)
        this.intervalMs += (gap - this.intervalMs) * EWMA_WEIGHT;
      return;
    }
    const anchor = sorted[GAP_QUANTILE_INDEX];
    if (this.intervalMs > 1.5 * anchor || this.intervalMs < anchor / 1.5) {
      this.intervalMs = anchor;
    } else if (gap > 0.5 * this.intervalMs && gap < 1.5 * this.intervalMs) {
      this.intervalMs += (gap - this.intervalMs) * EWMA_WEIGHT;
    }
  }

  private pushLag(lag: number): void {
    const ring = this.lags;
    if (this.lagCount === ring.length) {
      const old = ring[this.lagHead];
      this.lagSum -= old;
      this.lagSumSq -= old * old;
    } else this.lagCount++;
    ring[this.lagHead] = lag;
    this.lagSum += lag;
    this.lagSumSq += lag * lag;
    this.lagHead = (this.lagHead + 1) % ring.length;
    // Running sums drift with rounding: recompute them exactly once per turn of the ring.
    if (this.lagHead === 0) {
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < this.lagCount; i++) {
        sum += ring[i];
        sq += ring[i] * ring[i];
      }
      this.lagSum = sum;
      this.lagSumSq = sq;
    }
  }
}
