/**
 * What a server peer's input says about it: the fatal verdict of a connection error (an unacked send queue, an
 * oversize message) and of its intake limits (bytes per second, malformed messages per window). A verdict is
 * set on `peer.fatal` and carried out once, after the peer's packets are read.
 */
import { NetError } from '../errors.ts';
import type { ServerSessionStats } from './server-capacity.ts';
import type { ServerPeer } from './server-peer.ts';
import type { RateLimitOptions } from './session-options.ts';

/** Counts a connection's error against its peer, reports it, and sets the fatal verdict it calls for. */
export function judgeConnectionError(
  peer: ServerPeer,
  e: NetError,
  stats: ServerSessionStats,
  report: (e: NetError) => void,
): void {
  if (e.code === 'SendQueueFull') {
    report(new NetError('SendQueueFull', `client ${peer.clientId}: ${e.message}`, { fatal: true }));
    peer.fatal ??= { code: 'SendQueueFull', message: 'reliable data not acked: send queue full' };
    return;
  }
  peer.counters.decodeErrors++;
  report(e);
  if (e.code === 'Oversize') {
    if (peer.state === 'handshaking' || peer.state === 'authorizing') stats.preHandshakeOversize++;
    peer.fatal ??= { code: 'Oversize', message: `sent ${e.message}` };
  }
}

/** Charges `bytesIn` new bytes and the peer's decode errors against its limits; over one sets the verdict. */
export function judgeIntake(peer: ServerPeer, bytesIn: number, limits: Required<RateLimitOptions>, now: number): void {
  if (bytesIn !== 0 && !peer.limiter.bytes.take(bytesIn, now))
    peer.fatal ??= { code: 'RateLimited', message: `more than ${limits.bytesPerSecond} bytes per second` };
  if (!peer.limiter.noteDecodeErrors(peer.counters.decodeErrors, now))
    peer.fatal ??= {
      code: 'DecodeError',
      message: `more than ${limits.maxDecodeErrors} malformed packets or messages within ${limits.decodeErrorWindowMs} ms`,
    };
}
