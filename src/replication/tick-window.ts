/**
 * Bounds the tick a peer may claim. Field ordering keeps the highest tick applied per field, so one update with
 * a far-future tick would block the field for good (even a snapshot skips older ticks). A peer's tick can only
 * run ahead of the highest one accepted from it by the time since then at a plausible send rate, plus a margin
 * for jitter and held messages; anything beyond is refused (and counted by the caller).
 */

/** Ticks a peer may run ahead of its highest accepted tick besides elapsed time: 10 s at 60 Hz of jitter and held messages. */
export const DEFAULT_MAX_TICK_LEAD_TICKS = 600;

/** Fastest a peer's tick may advance, in Hz: the plugin's highest allowed send rate, so no honest peer is refused. */
export const MAX_PEER_TICK_RATE_HZ = 1000;

/** The highest tick accepted from one peer and when, and the bound derived from it. */
export class TickWindow {
  private last = -1;
  private lastAtMs = 0;

  constructor(private readonly leadTicks: number = DEFAULT_MAX_TICK_LEAD_TICKS) {}

  /**
   * True when `tick` is plausible at `nowMs` (and it becomes the reference when it is the highest so far).
   * The first tick after `reset` sets the reference: a connection's ticks start wherever the peer's count is.
   */
  accept(tick: number, nowMs: number): boolean {
    if (this.last < 0) {
      this.last = tick;
      this.lastAtMs = nowMs;
      return true;
    }
    if (tick <= this.last) return true;
    const elapsedMs = Math.max(0, nowMs - this.lastAtMs);
    if (tick > this.last + this.leadTicks + Math.ceil((elapsedMs * MAX_PEER_TICK_RATE_HZ) / 1000)) return false;
    this.last = tick;
    this.lastAtMs = nowMs;
    return true;
  }

  /** Forgets the reference (a new connection). */
  reset(): void {
    this.last = -1;
  }
}
