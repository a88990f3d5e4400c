/** Tunables of the session layer (heartbeats, resume, limits, reconnects, idle detection) with their defaults. */
import {
  DEFAULT_MAX_RELIABLE_QUEUE_BYTES,
  DEFAULT_MAX_RELIABLE_QUEUE_MESSAGES,
} from '../connection/connection-options.ts';
import { usageError } from '../errors.ts';

/**
 * Default heartbeat interval. A peer that heard nothing for one interval pings; one silent for
 * SILENT_HEARTBEATS intervals (3 s) is suspended. 1 s notices a dead link within 3 s, which a VR user whose
 * avatar froze still tolerates, while a GC pause, a Wi-Fi roam or a dropped frame burst (< 2 s) never triggers a
 * reconnect; an idle link costs one ~30-byte ping a second.
 */
export const DEFAULT_HEARTBEAT_MS = 1000;

/** A peer silent for this many heartbeat intervals is suspended (SPEC 4). */
export const SILENT_HEARTBEATS = 3;

/** Default resume window (SPEC 4): a phone locking its screen or a page reload comes back well within a minute. */
export const DEFAULT_RESUME_WINDOW_MS = 60_000;

/**
 * Time allowed between opening a link and the Welcome (client) or a valid Hello (server). The link is already up,
 * so this only covers resends of the Hello under loss and an async `authorize`; 10 s bounds half-open links.
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Largest reliable message a client may send before its Welcome: the Hello is all it may say, and the largest
 * valid Hello (auth of 4,096 characters, up to 12 KiB of UTF-8, plus schema hash, key, token, proof and
 * capabilities) fits in 16 KiB. Anything larger is refused with `Oversize` before a byte of it is buffered, so a
 * link that never completes the handshake holds at most two such messages (~36 KiB with bookkeeping).
 */
export const MAX_HELLO_BYTES = 16 * 1024;

/** Server capacity limits against floods of links and sessions; at each bound the oldest entry is dropped. */
export interface CapacityOptions {
  /**
   * Links still in the handshake (no valid Hello yet), in total (default 256); also the cap on refused links kept
   * open for a moment to deliver their fatal Error.
   */
  maxPendingHandshakes?: number;
  /** Links in the handshake from one remote address, where the transport tells it (default 16). */
  maxPendingPerSource?: number;
  /** Suspended sessions kept for a resume (default 256). */
  maxSuspendedSessions?: number;
  /** Exceptions thrown while handling one client's messages before it is disconnected (default 3). */
  maxHandlerErrors?: number;
  /** Reliable bytes queued for one client and not acked before it is disconnected with `SendQueueFull` (16 MiB). */
  maxSendQueueBytes?: number;
  /** Reliable messages queued for one client and not acked before it is disconnected (default 16,384). */
  maxSendQueueMessages?: number;
}

/**
 * Default capacity. 256 pending handshakes: an honest handshake takes one round trip (plus an async `authorize`),
 * so even 100 joins per second keep far fewer pending, while a pending link holds at most ~75 KB (~36 KB of
 * connection windows plus two Hello-sized messages), so a flood pins at most ~19 MB. 16 per
 * source lets a school or office behind one NAT join at once but stops one host from taking every slot. 256
 * suspended sessions cover a large room whose Wi-Fi drops at once; each holds its identity, entities and
 * delivery state for the resume window. 3 handler errors: a bug hit once is reported and survived; a client
 * that triggers it repeatedly is steering the server into it. Send queue caps: see DEFAULT_MAX_RELIABLE_QUEUE_BYTES.
 */
export const DEFAULT_CAPACITY: Readonly<Required<CapacityOptions>> = Object.freeze({
  maxPendingHandshakes: 256,
  maxPendingPerSource: 16,
  maxSuspendedSessions: 256,
  maxHandlerErrors: 3,
  maxSendQueueBytes: DEFAULT_MAX_RELIABLE_QUEUE_BYTES,
  maxSendQueueMessages: DEFAULT_MAX_RELIABLE_QUEUE_MESSAGES,
});

/** Capacity options with every value filled in and checked. */
export function resolveCapacity(options: CapacityOptions | undefined): Required<CapacityOptions> {
  const r = { ...DEFAULT_CAPACITY, ...options };
  for (const [key, value] of Object.entries(r)) {
    if (!(value >= 1) || (!Number.isInteger(value) && value !== Infinity))
      usageError(`capacity.${key} must be a positive integer, got ${value}`, 'pass e.g. 256, or Infinity');
  }
  return r;
}

/** Time allowed for `ClientTransport.connect()` (a WebRTC connect takes 1-3 s; beyond 10 s try again). */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * How long a refused peer's link stays open after its fatal Error so the Error is delivered and acked (closing at
 * once would drop it on datagram transports). 1 s covers resends at round trips up to ~300 ms; it is bounded so a
 * refused peer cannot hold server resources.
 */
export const FATAL_LINGER_MS = 1000;

/** Link close reason of a client saying Goodbye (the server ends its session at once, no resume). */
export const CLOSE_GOODBYE = 'goodbye';

/** Link close reason of a server shutting down (clients go to 'closed' and do not reconnect). */
export const CLOSE_SHUTDOWN = 'shutdown';

/** Per-peer limits enforced by the server; a peer over any of them gets a fatal Error and is disconnected. */
export interface RateLimitOptions {
  /** Messages per second, sustained (default 1,000). */
  messagesPerSecond?: number;
  /** Bytes per second of packets, sustained (default 1 MiB). */
  bytesPerSecond?: number;
  /** Bursts allowed above the sustained rates, in seconds of them (default 2). */
  burstSeconds?: number;
  /** Decode errors tolerated within `decodeErrorWindowMs` (default 10). */
  maxDecodeErrors?: number;
  /** Window of `maxDecodeErrors` in ms (default 10,000). */
  decodeErrorWindowMs?: number;
  /** Non-fatal Error replies per second to one client, sustained (default 5); bursts of `burstSeconds` of it. */
  errorRepliesPerSecond?: number;
}

/**
 * Default limits. A default client sends at most 8 packets of 1,200 B per tick (576 KB/s at 60 Hz), so 1 MiB/s is
 * never reached by ecsync itself; 1,000 messages/s is ~16 per tick at 60 Hz, far above a delta plus pose and
 * command streams; a 2 s burst absorbs a reconnect's catch-up. Real clients never produce decode errors (the
 * transports check integrity), so 10 in 10 s means a broken or hostile peer. Error replies tell a client what went
 * wrong; 5 a second (10 in a burst) say it plainly, while a client sending a forbidden write every message could
 * otherwise make the server answer each one (the rest are counted in `suppressedErrors`, and still reported).
 */
export const DEFAULT_RATE_LIMITS: Readonly<Required<RateLimitOptions>> = Object.freeze({
  messagesPerSecond: 1000,
  bytesPerSecond: 1024 * 1024,
  burstSeconds: 2,
  maxDecodeErrors: 10,
  decodeErrorWindowMs: 10_000,
  errorRepliesPerSecond: 5,
});

/** Limits with every value filled in; `false` turns every limit off (tests, trusted links). */
export function resolveRateLimits(options: RateLimitOptions | false | undefined): Required<RateLimitOptions> {
  if (options === false) {
    return {
      messagesPerSecond: Infinity,
      bytesPerSecond: Infinity,
      burstSeconds: 1,
      maxDecodeErrors: Infinity,
      decodeErrorWindowMs: 1,
      errorRepliesPerSecond: Infinity,
    };
  }
  const r = { ...DEFAULT_RATE_LIMITS, ...options };
  for (const [key, value] of Object.entries(r)) {
    if (!(value > 0))
      usageError(`rateLimits.${key} must be positive, got ${value}`, 'pass a positive number or Infinity');
  }
  return r;
}

/** How a client reconnects after losing its link: exponential backoff with jitter. */
export interface ReconnectOptions {
  /** Delay before the first attempt (default 250 ms). */
  initialDelayMs?: number;
  /** Largest delay between attempts (default 8,000 ms). */
  maxDelayMs?: number;
  /** Fraction of each delay drawn at random, 0..1 (default 0.5: a delay d becomes a value in [d/2, d]). */
  jitter?: number;
  /** Attempts before giving up (default: unlimited within the server's resume window). */
  maxAttempts?: number;
  /** Seed of the jitter; default random, so clients of a restarted server spread out. */
  seed?: number;
}

/**
 * Default backoff: 250 ms, 500 ms, 1 s, ... capped at 8 s. The first retry comes fast (most drops are brief), and
 * the cap keeps a returning network from waiting long while thousands of clients still spread their retries.
 */
export const DEFAULT_RECONNECT: Readonly<Required<Omit<ReconnectOptions, 'seed'>>> = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 8000,
  jitter: 0.5,
  maxAttempts: Infinity,
});

/** Reconnect options with every value filled in (the seed stays optional). */
export function resolveReconnect(options: ReconnectOptions | undefined): Required<Omit<ReconnectOptions, 'seed'>> {
  const r = { ...DEFAULT_RECONNECT, ...options };
  if (!(r.initialDelayMs >= 0) || !(r.maxDelayMs >= r.initialDelayMs))
    usageError(
      'reconnect delays must satisfy 0 <= initialDelayMs <= maxDelayMs',
      'e.g. { initialDelayMs: 250, maxDelayMs: 8000 }',
    );
  if (!(r.jitter >= 0 && r.jitter <= 1)) usageError(`reconnect.jitter must be in [0, 1], got ${r.jitter}`, 'e.g. 0.5');
  if (!(r.maxAttempts >= 1))
    usageError(`reconnect.maxAttempts must be >= 1, got ${r.maxAttempts}`, 'e.g. 10 or Infinity');
  return r;
}

/** Delay before reconnect attempt `attempt` (0-based): min(max, initial * 2^attempt), jittered down by `random`. */
export function backoffDelayMs(attempt: number, r: Required<Omit<ReconnectOptions, 'seed'>>, random: number): number {
  const d = Math.min(r.maxDelayMs, r.initialDelayMs * 2 ** Math.min(attempt, 30));
  return d * (1 - r.jitter * random);
}

/** Idle detection from input inactivity (client presence). */
export interface IdleOptions {
  /** No activity for this long makes the user 'idle' (default 60 s). */
  idleAfterMs?: number;
  /** No activity for this long makes the user 'away' (default 5 min). */
  awayAfterMs?: number;
}

/** Defaults of idle detection: a minute without input is idle, five minutes is away (chat-app conventions). */
export const DEFAULT_IDLE: Readonly<Required<IdleOptions>> = Object.freeze({
  idleAfterMs: 60_000,
  awayAfterMs: 300_000,
});

/** Checks a heartbeat interval. */
export function checkHeartbeatMs(ms: number): number {
  if (!(ms >= 10 && ms <= 60_000)) usageError(`heartbeatMs ${ms} is out of range`, 'pass 10..60000 ms, e.g. 1000');
  return ms;
}
