/**
 * Maps the capture times an owner stamps on its pose stream (its own clock, in wrapping stream units) onto the
 * server clock. The offset is the windowed minimum of (arrival - capture), i.e. the owner's clock offset plus its
 * smallest transit: a constant that keeps sample spacing exact. A mapped time is clamped so a sample is never
 * placed in the future nor more than MAX_SAMPLE_AGE_MS in the past.
 */
import { STREAM_TIME_RANGE, STREAM_TIME_UNITS_PER_MS, type PoseStreamFrame } from './pose-stream-codec.ts';
import { WindowedMin } from './windowed-min.ts';

/** Window of the clock-mapping minimum: 10 s meets a jitter-free packet even on a bad link, and follows drift. */
export const CLOCK_WINDOW_MS = 10_000;
/** A sample is placed at most this far in the past (a lying or stalled clock cannot push it further). */
export const MAX_SAMPLE_AGE_MS = 2000;

/** What the server keeps per client. */
interface PeerClock {
  readonly offset: WindowedMin;
  lastUnits: number;
  lastClientMs: number;
}

/** The capture-clock mapping of every client that streams poses. */
export class StreamClockMap {
  private readonly clocks = new Map<number, PeerClock>();

  /** Offset (ms) mapping `clientId`'s capture clock onto the server clock at `now`; NaN before its first message. */
  offsetMs(clientId: number, now: number): number {
    const c = this.clocks.get(clientId);
    if (!c) return NaN;
    const v = c.offset.value(now);
    return Number.isFinite(v) ? v : NaN;
  }

  /** Forgets a client's clock (it joined anew or left). */
  forget(clientId: number): void {
    this.clocks.delete(clientId);
  }

  /** Writes the server time of each of `f`'s ticks (newest first) into `out`, learning from this arrival at `now`. */
  map(clientId: number, f: PoseStreamFrame, now: number, out: Float64Array): void {
    let c = this.clocks.get(clientId);
    let clientMs: number;
    if (!c) {
      c = { offset: new WindowedMin(CLOCK_WINDOW_MS), lastUnits: f.newestTimeUnits, lastClientMs: 0 };
      this.clocks.set(clientId, c);
      clientMs = f.newestTimeUnits / STREAM_TIME_UNITS_PER_MS;
    } else {
      let delta = (f.newestTimeUnits - c.lastUnits) % STREAM_TIME_RANGE;
      if (delta < 0) delta += STREAM_TIME_RANGE;
      if (delta >= STREAM_TIME_RANGE / 2) delta -= STREAM_TIME_RANGE;
      clientMs = c.lastClientMs + delta / STREAM_TIME_UNITS_PER_MS;
    }
    if (clientMs >= c.lastClientMs || c.offset.value(now) === Infinity) {
      c.lastUnits = f.newestTimeUnits;
      c.lastClientMs = clientMs;
    }
    c.offset.push(now, now - clientMs);
    const offset = c.offset.value(now);
    for (let i = 0; i < f.tickCount; i++) {
      let t = clientMs - f.ageUnits[i] / STREAM_TIME_UNITS_PER_MS + offset;
      if (!(t <= now)) t = now;
      if (t < now - MAX_SAMPLE_AGE_MS) t = now - MAX_SAMPLE_AGE_MS;
      out[i] = t;
    }
  }
}
