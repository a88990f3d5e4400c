/** The speaking flag from a level: on above a threshold, off only after the level stayed below it for a hold time. */

/** RMS of time-domain samples in -1..1 (what an AnalyserNode's getFloatTimeDomainData gives). */
export function rmsLevel(samples: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}

/** Debounces a level into a speaking flag. */
export class SpeakingGate {
  private loudAtMs = -Infinity;
  /** The debounced flag: true while the level passed the threshold within the last `holdMs` ms. */
  speaking = false;

  constructor(
    private readonly threshold: number,
    private readonly holdMs: number,
  ) {}

  /** Feeds the level at `nowMs`; returns true when the flag changed. */
  update(level: number, nowMs: number): boolean {
    if (level > this.threshold) this.loudAtMs = nowMs;
    const speaking = nowMs - this.loudAtMs <= this.holdMs;
    if (speaking === this.speaking) return false;
    this.speaking = speaking;
    return true;
  }

  /** Turns the flag off at once (muted); returns true when it changed. */
  reset(): boolean {
    this.loudAtMs = -Infinity;
    const changed = this.speaking;
    this.speaking = false;
    return changed;
  }
}
