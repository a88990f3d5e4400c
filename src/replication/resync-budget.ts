/**
 * Budget of the server's resync work per client. A ResyncRequest (10 bytes) makes the server build and deflate a
 * snapshot of the requested hash buckets, so it is an amplifier: requests are coalesced into one pending bucket
 * mask per client, served at send time from token buckets (buckets and raw snapshot bytes per second), and a
 * bucket resent since the last StateHash is not rebuilt (the request predates the resend). An honest client asks
 * at most once per StateHash it received; requests beyond that are unsolicited: counted and reported
 * (`RateLimited`). An unsolicited request that finds the budget spent is a strike, and a client with too many
 * strikes in a window is disconnected like any other rate-limit offender.
 */
import { hasBucket, maskOf } from './bucket-mask.ts';
import { usageError } from '../errors.ts';
import { TokenBucket } from '../session/rate-limiter.ts';
import type { SnapshotFigures } from './snapshot-writer.ts';
import { HASH_BUCKETS } from './state-hash.ts';

/** Limits of resync work per client; every value must be positive (Infinity turns one off). */
export interface ResyncBudgetOptions {
  /** Buckets rebuilt per second, sustained (default 16: a whole-state resync every 4 s). */
  bucketsPerSecond?: number;
  /** Buckets that may be rebuilt at once (default 64: one whole-state resync). */
  burstBuckets?: number;
  /** Raw snapshot bytes rebuilt per second, sustained (default 256 KiB). */
  bytesPerSecond?: number;
  /** Raw snapshot bytes that may be rebuilt at once (default 1 MiB). */
  burstBytes?: number;
  /** Unsolicited requests finding the budget spent, tolerated within `overBudgetWindowMs` (default 20). */
  maxOverBudget?: number;
  /** Window of `maxOverBudget` in ms (default 10,000). */
  overBudgetWindowMs?: number;
}

/** Default buckets rebuilt per second per client: a quarter of the state per second repairs any honest divergence. */
export const DEFAULT_RESYNC_BUCKETS_PER_SECOND = 16;

/** Default burst: all 64 buckets, so one real whole-state divergence is repaired at once. */
export const DEFAULT_RESYNC_BURST_BUCKETS = HASH_BUCKETS;

/**
 * Default raw bytes per second: 256 KiB is ~8 whole snapshots a second of a 1,000-entity world (~30 KB each) and
 * caps a 100,000-entity world at a few buckets a second, so the deflate work per client stays ~1 ms/s.
 */
export const DEFAULT_RESYNC_BYTES_PER_SECOND = 256 * 1024;

/** Default burst of raw bytes: 1 MiB, one whole snapshot of a ~30,000-entity world. */
export const DEFAULT_RESYNC_BURST_BYTES = 1024 * 1024;

/**
 * Default strikes tolerated in the window: honest clients make none (one request per StateHash at most, and
 * within the budget), so 20 in 10 s leaves room for a corrupted hash or two while a flood (hundreds of requests a
 * second) is cut within a few ticks.
 */
export const DEFAULT_RESYNC_MAX_OVER_BUDGET = 20;

/** Default window of the strike count, in ms. */
export const DEFAULT_RESYNC_OVER_BUDGET_WINDOW_MS = 10_000;

/** Requests an honest client may have outstanding: one per StateHash, a few hashes may cross a request. */
const MAX_REQUEST_CREDITS = 4;

/** Limits with every value filled in. */
export function resolveResyncBudget(options: ResyncBudgetOptions | undefined): Required<ResyncBudgetOptions> {
  const r: Required<ResyncBudgetOptions> = {
    bucketsPerSecond: DEFAULT_RESYNC_BUCKETS_PER_SECOND,
    burstBuckets: DEFAULT_RESYNC_BURST_BUCKETS,
    bytesPerSecond: DEFAULT_RESYNC_BYTES_PER_SECOND,
    burstBytes: DEFAULT_RESYNC_BURST_BYTES,
    maxOverBudget: DEFAULT_RESYNC_MAX_OVER_BUDGET,
    overBudgetWindowMs: DEFAULT_RESYNC_OVER_BUDGET_WINDOW_MS,
    ...options,
  };
  for (const [key, value] of Object.entries(r))
    if (!(value > 0)) usageError(`resync.${key} must be positive, got ${value}`, 'pass a positive number or Infinity');
  if (r.burstBuckets < 1) usageError('resync.burstBuckets must be at least 1', 'e.g. 64');
  return r;
}

/** Counters of resync work, summed over clients (for stats and for tests that bound the work). */
export interface ResyncCounters {
  /** ResyncRequests received. */
  requests: number;
  /** Requests beyond one per StateHash sent (an honest client sends none). */
  unsolicited: number;
  /** Unsolicited requests that found the client's budget spent (strikes). */
  overBudget: number;
  /** Buckets asked for, summed over requests. */
  bucketsRequested: number;
  /** Buckets asked for that were already pending or resent since the last StateHash (not rebuilt again). */
  bucketsCoalesced: number;
  /** Buckets rebuilt and sent. */
  bucketsRebuilt: number;
  /** Raw bytes of the resync snapshots built (before deflate). */
  rawBytes: number;
  /** Bytes of the resync snapshots sent (after deflate). */
  sentBytes: number;
  /** Send ticks at which pending buckets waited for the budget. */
  deferred: number;
  /** Clients disconnected for unsolicited requests. */
  disconnects: number;
}

/** Resync state of one client. */
class PeerResync {
  pendingLo = 0;
  pendingHi = 0;
  resentLo = 0;
  resentHi = 0;
  credits = 0;
  unsolicitedCount = 0;
  readonly buckets: TokenBucket;
  readonly bytes: TokenBucket;
  readonly strikes: TokenBucket;

  constructor(limits: Required<ResyncBudgetOptions>, nowMs: number) {
    this.buckets = new TokenBucket(limits.bucketsPerSecond, limits.burstBuckets, nowMs);
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.burstBytes, nowMs);
    this.strikes = new TokenBucket(
      (limits.maxOverBudget * 1000) / limits.overBudgetWindowMs,
      limits.maxOverBudget,
      nowMs,
    );
  }
}

/**
 * What `request` decided: 'report' is an unsolicited request worth reporting (a client's 1st, 2nd, 4th, 8th, ...
 * one: a flood costs a log line per doubling, not one per request), 'offender' one past the strike limit.
 */
export type ResyncVerdict = 'ok' | 'unsolicited' | 'report' | 'offender';

function popCount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}

/** Per-client resync budgets of one server replicator; keyed by an object per client (its PeerReplication). */
export class ResyncBudget {
  readonly counters: ResyncCounters = {
    requests: 0,
    unsolicited: 0,
    overBudget: 0,
    bucketsRequested: 0,
    bucketsCoalesced: 0,
    bucketsRebuilt: 0,
    rawBytes: 0,
    sentBytes: 0,
    deferred: 0,
    disconnects: 0,
  };
  readonly limits: Required<ResyncBudgetOptions>;
  private readonly peers = new WeakMap<object, PeerResync>();
  private readonly due: [number, number] = [0, 0];

  constructor(options: ResyncBudgetOptions | undefined) {
    this.limits = resolveResyncBudget(options);
  }

  private state(peer: object, nowMs: number): PeerResync {
    let s = this.peers.get(peer);
    if (!s) {
      s = new PeerResync(this.limits, nowMs);
      this.peers.set(peer, s);
    }
    return s;
  }

  /** A StateHash went to `peer`: it may answer it with one request, and resent buckets may be asked for again. */
  hashSent(peer: object, nowMs: number): void {
    const s = this.state(peer, nowMs);
    s.credits = Math.min(MAX_REQUEST_CREDITS, s.credits + 1);
    s.resentLo = 0;
    s.resentHi = 0;
  }

  /**
   * A ResyncRequest for buckets (lo, hi) arrived: they join the pending mask unless already pending or resent
   * since the last StateHash. 'offender' means the client went over `maxOverBudget` and should be disconnected.
   */
  request(peer: object, lo: number, hi: number, nowMs: number): ResyncVerdict {
    const s = this.state(peer, nowMs);
    const c = this.counters;
    c.requests++;
    const asked = popCount(lo) + popCount(hi);
    c.bucketsRequested += asked;
    const newLo = (lo & ~s.pendingLo & ~s.resentLo) >>> 0;
    const newHi = (hi & ~s.pendingHi & ~s.resentHi) >>> 0;
    c.bucketsCoalesced += asked - popCount(newLo) - popCount(newHi);
    s.pendingLo = (s.pendingLo | newLo) >>> 0;
    s.pendingHi = (s.pendingHi | newHi) >>> 0;
    if (s.credits > 0) {
      s.credits--;
      return 'ok';
    }
    c.unsolicited++;
    const n = ++s.unsolicitedCount;
    const quiet: ResyncVerdict = (n & (n - 1)) === 0 ? 'report' : 'unsolicited';
    s.buckets.take(0, nowMs);
    s.bytes.take(0, nowMs);
    const pending = popCount(s.pendingLo) + popCount(s.pendingHi);
    if (s.bytes.tokens > 0 && pending <= Math.floor(s.buckets.tokens)) return quiet;
    c.overBudget++;
    if (s.strikes.take(1, nowMs)) return quiet;
    c.disconnects++;
    return 'offender';
  }

  /**
   * The buckets to rebuild for `peer` now, as far as the budget allows (lowest buckets first), or null. The mask
   * returned is reused: copy it to keep it.
   */
  take(peer: object, nowMs: number): [number, number] | null {
    const s = this.peers.get(peer);
    if (!s || (s.pendingLo === 0 && s.pendingHi === 0)) return null;
    // Refill both buckets, then take as many buckets as there are whole tokens (and bytes left).
    s.buckets.take(0, nowMs);
    s.bytes.take(0, nowMs);
    const allowed = s.bytes.tokens > 0 ? Math.floor(s.buckets.tokens) : 0;
    if (allowed <= 0) {
      this.counters.deferred++;
      return null;
    }
    const due = maskOf((b) => hasBucket(s.pendingLo, s.pendingHi, b), allowed, this.due);
    s.pendingLo = (s.pendingLo & ~due[0]) >>> 0;
    s.pendingHi = (s.pendingHi & ~due[1]) >>> 0;
    if (s.pendingLo !== 0 || s.pendingHi !== 0) this.counters.deferred++;
    return due;
  }

  /** The snapshot of `buckets` was built and sent: charge it to `peer`'s budget and count it. */
  served(peer: object, buckets: readonly [number, number], figures: SnapshotFigures, nowMs: number): void {
    const s = this.state(peer, nowMs);
    const n = popCount(buckets[0]) + popCount(buckets[1]);
    s.buckets.take(n, nowMs);
    s.bytes.take(figures.rawBytes, nowMs);
    s.resentLo = (s.resentLo | buckets[0]) >>> 0;
    s.resentHi = (s.resentHi | buckets[1]) >>> 0;
    const c = this.counters;
    c.bucketsRebuilt += n;
    c.rawBytes += figures.rawBytes;
    c.sentBytes += figures.sentBytes;
  }

  /** Buckets of `peer` waiting for the budget. */
  pendingBuckets(peer: object): number {
    const s = this.peers.get(peer);
    return s ? popCount(s.pendingLo) + popCount(s.pendingHi) : 0;
  }
}
