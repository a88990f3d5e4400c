/**
 * Client clock sync: estimates the offset between the server's clock and this one from Ping/Pong round trips.
 * Each sample assumes the Pong's server time was taken halfway through the round trip; queueing makes a round
 * trip longer and that guess wrong, so only the samples with the lowest round trips are trusted.
 */

/** Samples kept: 8 covers the first second's burst and ~40 s of periodic pings after it. */
export const CLOCK_SAMPLES = 8;

/** Fraction of the kept samples (lowest round trips) averaged into the offset; the rest are outliers. */
const TRUSTED_FRACTION = 1 / 3;

/** Server-time offset estimate from the last CLOCK_SAMPLES round trips. */
export class ClockSync {
  /** serverTime ≈ localTime + offsetMs. */
  offsetMs = 0;
  /** Lowest round trip among the kept samples, in ms (0 before any). */
  rttMs = 0;
  private readonly rtts = new Float64Array(CLOCK_SAMPLES);
  private readonly offsets = new Float64Array(CLOCK_SAMPLES);
  private readonly order: number[] = [];
  private next = 0;
  private size = 0;

  /** Samples kept so far. */
  get count(): number {
    return this.size;
  }

  /** Adds a round trip: sent at local `sentAtMs`, answered at server `serverTimeMs`, received at local `receivedAtMs`. */
  add(sentAtMs: number, serverTimeMs: number, receivedAtMs: number): void {
    const rtt = receivedAtMs - sentAtMs;
    if (!(rtt >= 0) || !Number.isFinite(serverTimeMs)) return;
    this.rtts[this.next] = rtt;
    this.offsets[this.next] = serverTimeMs + rtt / 2 - receivedAtMs;
    this.next = (this.next + 1) % CLOCK_SAMPLES;
    if (this.size < CLOCK_SAMPLES) this.size++;
    this.estimate();
  }

  /** Forgets every sample (a different server). */
  reset(): void {
    this.size = 0;
    this.next = 0;
    this.offsetMs = 0;
    this.rttMs = 0;
  }

  private estimate(): void {
    const order = this.order;
    order.length = 0;
    for (let i = 0; i < this.size; i++) order.push(i);
    order.sort((a, b) => this.rtts[a] - this.rtts[b]);
    const trusted = Math.max(1, Math.round(this.size * TRUSTED_FRACTION));
    let sum = 0;
    for (let i = 0; i < trusted; i++) sum += this.offsets[order[i]];
    this.offsetMs = sum / trusted;
    this.rttMs = this.rtts[order[0]];
  }
}
