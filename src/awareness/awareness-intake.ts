/**
 * The server's admission of one user's awareness message, cheapest checks first: a flood costs one token check per
 * message, an oversize body is never decoded, a malformed one is counted and reported, never thrown. What passes is
 * the decoded MessagePack value, for the schema checks of the caller.
 */
import { messageBody } from '../codec/message-frame.ts';
import type { BodyDecoder } from '../codec/msgpack-body.ts';
import { NetError, type ErrorHandler } from '../errors.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerPeer } from '../session/server-peer.ts';
import type { TokenBucket } from '../session/rate-limiter.ts';
import type { CompiledAwareness } from './awareness-schema.ts';
import { hasLongList } from './awareness-wire.ts';

/** What the intake knows of a sender: its peer, its rate bucket and its drops in the current one-second window. */
export interface IntakeSender {
  readonly peer: ServerPeer;
  readonly bucket: TokenBucket;
  windowStartMs: number;
  windowDrops: number;
}

/** The counters the intake raises (a subset of ServerAwarenessStats). */
export interface IntakeCounters {
  rateLimited: number;
  offences: number;
  oversize: number;
  malformed: number;
  listTooLong: number;
  invalid: number;
}

/** The intake's bounds. */
export interface IntakeLimits {
  maxBytes: number;
  rateHz: number;
  offenderDrops: number;
}

/** Admits or refuses awareness messages against the limits, raising `counters` and reporting to `onError`. */
export class AwarenessIntake {
  constructor(
    private readonly schema: CompiledAwareness,
    private readonly limits: IntakeLimits,
    private readonly decoder: BodyDecoder,
    private readonly counters: IntakeCounters,
    private readonly onError: ErrorHandler | undefined,
  ) {}

  /** The decoded body of `message`, or undefined when the rate, the size or the decoding refused it. */
  admit(u: IntakeSender, message: Uint8Array, now: number): unknown {
    const id = u.peer.clientId;
    if (!u.bucket.tryTake(1, now)) return this.drop(u, now);
    const bytes = messageBody(message);
    if (bytes.length > this.limits.maxBytes) {
      this.counters.oversize++;
      u.peer.counters.decodeErrors++;
      const why = `client ${id}: awareness body of ${bytes.length} bytes (max ${this.limits.maxBytes})`;
      this.onError?.(new NetError('Oversize', why));
      return undefined;
    }
    const decoded = this.decoder.decode(bytes);
    if (!decoded.ok) {
      this.counters.malformed++;
      u.peer.counters.decodeErrors++;
      this.onError?.(new NetError('DecodeError', `client ${id}: malformed awareness body (${decoded.error})`));
      return undefined;
    }
    return decoded.value;
  }

  /** Counts and reports a decoded body that does not fit the schema (a list too long, or values out of range). */
  refuse(u: IntakeSender, body: unknown, tag: number): void {
    const long = tag === Tag.AwarenessSet && hasLongList(body, this.schema);
    if (long) this.counters.listTooLong++;
    else this.counters.invalid++;
    u.peer.counters.decodeErrors++; // the session disconnects a peer that keeps sending bad data
    const why = long ? 'a list above its maxItems' : 'values that do not fit the awareness schema';
    this.onError?.(new NetError('AwarenessInvalid', `client ${u.peer.clientId} sent awareness with ${why}`));
  }

  private drop(u: IntakeSender, now: number): undefined {
    this.counters.rateLimited++;
    if (now - u.windowStartMs >= 1000) {
      u.windowStartMs = now;
      u.windowDrops = 0;
    }
    if (++u.windowDrops === this.limits.offenderDrops) {
      this.counters.offences++;
      const why = `client ${u.peer.clientId} sent awareness over ${this.limits.rateHz} messages/s`;
      this.onError?.(new NetError('RateLimited', why));
    }
    return undefined;
  }
}
