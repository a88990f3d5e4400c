/**
 * The server session's timers, run once per `receive()`: a pending handshake times out (or its Challenge is
 * resent), a silent client is pinged and then suspended, a suspended session past the resume window ends.
 */
import { encodeControl } from '../codec/message-frame.ts';
import type { ErrorCodeName } from '../errors.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerPeer } from './server-peer.ts';
import { HANDSHAKE_TIMEOUT_MS, SILENT_HEARTBEATS } from './session-options.ts';

/** What the timers need from the server session. */
export interface ServerTimersHost {
  readonly pending: Set<ServerPeer>;
  readonly peers: Map<number, ServerPeer>;
  readonly suspended: Map<number, ServerPeer>;
  readonly heartbeatMs: number;
  readonly resumeWindowMs: number;
  /** Resends a pending peer's unacked Challenge when due. */
  resendChallenge(peer: ServerPeer, now: number): void;
  refuse(peer: ServerPeer, code: ErrorCodeName, message: string): void;
  suspend(peer: ServerPeer, why: string): void;
  leave(peer: ServerPeer, reason: string): void;
}

/** One pass of every timer at `now`. */
export function runServerTimers(h: ServerTimersHost, now: number): void {
  const hb = h.heartbeatMs;
  for (const peer of h.pending) {
    if (now - peer.acceptedAtMs >= HANDSHAKE_TIMEOUT_MS)
      h.refuse(peer, 'Timeout', `no valid Hello within ${HANDSHAKE_TIMEOUT_MS} ms`);
    else h.resendChallenge(peer, now);
  }
  for (const peer of h.peers.values()) {
    const silent = now - peer.lastHeardAtMs;
    if (silent >= SILENT_HEARTBEATS * hb) h.suspend(peer, `silent for ${Math.round(silent)} ms`);
    else if (silent >= hb && now - peer.lastPingAtMs >= hb) {
      peer.lastPingAtMs = now;
      peer.connection.sendUnreliable(encodeControl(Tag.Ping, { serverTime: now }));
      peer.connection.flush();
    }
  }
  for (const peer of h.suspended.values()) {
    if (now - peer.suspendedAtMs >= h.resumeWindowMs) h.leave(peer, 'resume window expired');
  }
}
