/**
 * Round-trip time, jitter and loss estimates of a connection, fed by packet acks and losses.
 * RTT smoothing follows RFC 6298 (srtt and rttvar with gains 1/8 and 1/4).
 */

/** RTO before the first RTT sample: a generous internet round trip, so early resends are not wasted. */
export const INITIAL_RTO_MS = 200;
/** Smallest RTO: below ~2 ticks at 60 Hz a resend races the ack that is already on its way. */
export const MIN_RTO_MS = 30;
/** Largest RTO: a reliable message is never held back more than a second by a bad estimate. */
export const MAX_RTO_MS = 1000;
/** Outcomes remembered by the loss estimate: ~4 s at 60 packets/s, recent enough to follow changes. */
export const LOSS_WINDOW_PACKETS = 256;

/** Smoothed RTT, RTT variation (reported as jitter) and the resend timeout derived from them. */
export class RttEstimator {
  /** Smoothed round trip in ms (0 until the first sample). */
  srttMs = 0;
  /** Mean deviation of the round trip in ms. */
  rttVarMs = 0;
  private sampled = false;

  /** Adds one round-trip sample in ms. */
  sample(rttMs: number): void {
    if (!(rttMs >= 0)) return;
    if (!this.sampled) {
      this.sampled = true;
      this.srttMs = rttMs;
      this.rttVarMs = rttMs / 2;
      return;
    }
    this.rttVarMs += (Math.abs(this.srttMs - rttMs) - this.rttVarMs) / 4;
    this.srttMs += (rttMs - this.srttMs) / 8;
  }

  /** Resend timeout: srtt + 4 rttvar, clamped to [MIN_RTO_MS, MAX_RTO_MS]; INITIAL_RTO_MS before any sample. */
  get rtoMs(): number {
    if (!this.sampled) return INITIAL_RTO_MS;
    return Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, this.srttMs + 4 * this.rttVarMs));
  }
}

/** Fraction of the last LOSS_WINDOW_PACKETS resolved packets that were lost. */
export class LossEstimator {
  private readonly outcomes = new Uint8Array(LOSS_WINDOW_PACKETS);
  private count = 0;
  private next = 0;
  private lost = 0;

  /** Records one resolved packet. */
  add(wasLost: boolean): void {
    if (this.count === LOSS_WINDOW_PACKETS) this.lost -= this.outcomes[this.next];
    else this.count++;
    const v = wasLost ? 1 : 0;
    this.outcomes[this.next] = v;
    this.lost += v;
    this.next = (this.next + 1) % LOSS_WINDOW_PACKETS;
  }

  /** Loss ratio in [0, 1]; 0 before any packet resolved. */
  get ratio(): number {
    return this.count === 0 ? 0 : this.lost / this.count;
  }
}
