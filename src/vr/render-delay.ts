/**
 * The adaptive render delay of one remote owner's devices. Each sample arrives `lag = arrival - sampleTime` after
 * its capture (local clock minus sample timeline, so clock offsets cancel). The delay behind local time is
 *
 *   target = floor(lag) + sample interval + k x jitter
 *
 * where floor(lag) is the windowed minimum (the transit of a sample that met no jitter nor wait), the interval is
 * the spacing of samples (a render time needs the sample after it), and jitter is the mean lag above the floor.
 *
 * Playback follows the target at a bounded rate (at most `slewRate` faster or slower than real time). When samples
 * are late, it runs at most `allowanceMs` past the newest one (extrapolating) and then waits for the next, instead
 * of guessing further: a late sample costs a little delay, recovered at the slew rate, rather than a wrong pose.
 * Errors are measured against the truth at the render time actually used, so neither costs accuracy.
 */
import { WindowedMin } from './windowed-min.ts';

/** Tuning of the adaptive delay. */
export interface RenderDelayOptions {
  /** k: how many mean jitters (mean lag above the floor) of margin. */
  jitterFactor: number;
  /** Bounds of the delay above the lag floor (ms). */
  minDelayMs: number;
  maxDelayMs: number;
  /** Largest relative playback-rate change while the delay moves to its target (0.1 = 10 %). */
  slewRate: number;
  /** Window of the lag floor (ms): long enough to meet a jitter-free sample, short enough to follow route changes. */
  floorWindowMs: number;
  /** Time constant (ms) with which playback eases into its limit past the newest sample (0 = a hard stop). */
  approachMs: number;
  /** How far past the newest sample playback may run (extrapolating) before it waits for the next one (ms). */
  allowanceMs: number;
}

/**
 * Defaults, measured on the standard motion trace at 100 ms RTT / 20 ms jitter / 2 % loss (bench/vr-quality):
 * k = 1 with a 25 ms allowance keeps the display delay inside one-way latency + interval + 2 x jitter at ~0.8 mm
 * RMS (k = 2 adds ~5 ms of delay for ~0.05 mm; a 30 ms allowance saves 2 ms but doubles the extrapolation error);
 * a 10 % slew is invisible on a hand and recovers 10 ms of delay in 100 ms; 10 ms eases into the limit over a
 * frame or two; the delay stays within 10..500 ms above the floor; a 4 s floor window follows route changes.
 */
export const DEFAULT_RENDER_DELAY_OPTIONS: RenderDelayOptions = {
  jitterFactor: 1,
  minDelayMs: 10,
  maxDelayMs: 500,
  slewRate: 0.1,
  floorWindowMs: 4000,
  approachMs: 10,
  allowanceMs: 25,
};

/** Weight of one sample in the jitter and interval averages: 1/32 averages over ~1 s at 30 Hz. */
const EWMA_WEIGHT = 1 / 32;

/** Adaptive render delay for the samples of one owner. */
export class RenderDelay {
  private readonly options: RenderDelayOptions;
  private readonly floor: WindowedMin;
  /** Mean lag above the floor (ms). */
  jitterMs = 0;
  /** Mean spacing of samples (ms). */
  intervalMs: number;
  /** Delay in use: local time minus render time (ms); NaN until the first sample. */
  offsetMs = NaN;
  private lastNowMs = NaN;
  private lastSampleMs = NaN;

  constructor(intervalMs: number, options: RenderDelayOptions = DEFAULT_RENDER_DELAY_OPTIONS) {
    this.options = options;
    this.intervalMs = intervalMs;
    this.floor = new WindowedMin(options.floorWindowMs);
  }

  /** A sample with timeline time `sampleMs` arrived at local time `nowMs`. */
  onSample(nowMs: number, sampleMs: number): void {
    const lag = nowMs - sampleMs;
    this.floor.push(nowMs, lag);
    const floor = this.floor.value(nowMs);
    this.jitterMs += (lag - floor - this.jitterMs) * EWMA_WEIGHT;
    if (Number.isFinite(this.lastSampleMs)) {
      const gap = sampleMs - this.lastSampleMs;
      // Gaps from lost samples would inflate the spacing: only gaps near the current estimate count.
      if (gap > 0.5 * this.intervalMs && gap < 1.5 * this.intervalMs)
        this.intervalMs += (gap - this.intervalMs) * EWMA_WEIGHT;
    }
    if (sampleMs > this.lastSampleMs || !Number.isFinite(this.lastSampleMs)) this.lastSampleMs = sampleMs;
    if (Number.isNaN(this.offsetMs)) this.offsetMs = this.targetMs(nowMs);
  }

  /** The delay the estimates ask for now (ms behind local time). */
  targetMs(nowMs: number): number {
    const o = this.options;
    let above = this.intervalMs + o.jitterFactor * this.jitterMs;
    if (above < o.minDelayMs) above = o.minDelayMs;
    if (above > o.maxDelayMs) above = o.maxDelayMs;
    return this.floor.value(nowMs) + above;
  }

  /** Moves the render time forward to `renderTimeMs` at once (skipping a gap nothing is known about). */
  skipTo(nowMs: number, renderTimeMs: number): void {
    const offset = nowMs - renderTimeMs;
    if (offset < this.offsetMs) this.offsetMs = offset;
  }

  /**
   * Render time (sample timeline) for local time `nowMs`. The delay first moves toward its target (bounded rate);
   * then, when the render time closes in on the newest sample (`newestSampleMs`), playback slows down smoothly so it
   * approaches that sample instead of running past it: a late sample costs a little delay, not a guess.
   */
  renderTime(nowMs: number, newestSampleMs = Infinity): number {
    if (Number.isNaN(this.offsetMs)) return -Infinity;
    if (!Number.isNaN(this.lastNowMs) && nowMs > this.lastNowMs) {
      const dt = nowMs - this.lastNowMs;
      const step = this.options.slewRate * dt;
      const target = this.targetMs(nowMs);
      const prevRender = this.lastNowMs - this.offsetMs;
      let offset = this.offsetMs;
      if (target > offset) offset = Math.min(target, offset + step);
      else offset = Math.max(target, offset - step);
      const guard = this.options.approachMs;
      if (Number.isFinite(newestSampleMs) && offset < this.floor.value(nowMs) + this.options.maxDelayMs) {
        const room = newestSampleMs + this.options.allowanceMs - prevRender;
        let advance = nowMs - offset - prevRender;
        const cap = room <= 0 ? 0 : guard > dt ? (room * dt) / guard : room;
        if (advance > cap) advance = cap;
        if (advance < 0) advance = 0;
        offset = nowMs - (prevRender + advance);
      }
      this.offsetMs = offset;
    }
    if (Number.isNaN(this.lastNowMs) || nowMs > this.lastNowMs) this.lastNowMs = nowMs;
    return nowMs - this.offsetMs;
  }
}
