/** Token buckets for the server's per-peer limits: messages, bytes and decode errors. */
import type { RateLimitOptions } from './session-options.ts';

/** A token bucket: `capacity` tokens, refilled at `ratePerSec`; an infinite rate never runs out. */
export class TokenBucket {
  tokens: number;
  private lastMs: number;

  constructor(
    readonly ratePerSec: number,
    readonly capacity: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.lastMs = nowMs;
  }

  /** Takes `n` tokens at `nowMs`; false when the bucket went below zero (the limit is exceeded). */
  take(n: number, nowMs: number): boolean {
    if (this.ratePerSec === Infinity) return true;
    const dt = nowMs - this.lastMs;
    if (dt > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (dt / 1000) * this.ratePerSec);
      this.lastMs = nowMs;
    }
    this.tokens -= n;
    return this.tokens >= 0;
  }

  /** Takes `n` tokens at `nowMs` only if there are that many (no debt); false when there are not. */
  tryTake(n: number, nowMs: number): boolean {
    if (this.ratePerSec === Infinity) return true;
    if (!this.take(0, nowMs) || this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

/** The limits of one peer. */
export class PeerLimiter {
  readonly messages: TokenBucket;
  readonly bytes: TokenBucket;
  readonly decodeErrors: TokenBucket;
  /** Non-fatal Error replies the server may still send this peer. */
  readonly errorReplies: TokenBucket;
  /** Decode errors already counted (the peer's counter grows in several layers; the difference is taken). */
  seenDecodeErrors = 0;

  constructor(limits: Required<RateLimitOptions>, nowMs: number) {
    const burst = limits.burstSeconds;
    this.messages = new TokenBucket(limits.messagesPerSecond, limits.messagesPerSecond * burst, nowMs);
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.bytesPerSecond * burst, nowMs);
    this.decodeErrors = new TokenBucket(
      (limits.maxDecodeErrors * 1000) / limits.decodeErrorWindowMs,
      limits.maxDecodeErrors,
      nowMs,
    );
    this.errorReplies = new TokenBucket(limits.errorRepliesPerSecond, limits.errorRepliesPerSecond * burst, nowMs);
  }

  /** Counts decode errors up to `total`; false when more than the allowed number fell within the window. */
  noteDecodeErrors(total: number, nowMs: number): boolean {
    const fresh = total - this.seenDecodeErrors;
    if (fresh <= 0) return true;
    this.seenDecodeErrors = total;
    return this.decodeErrors.take(fresh, nowMs);
  }
}
