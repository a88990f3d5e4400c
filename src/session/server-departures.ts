/**
 * How a server peer's session ends or pauses: suspension when its link is lost (kept for the resume window, the
 * oldest ended past `maxSuspendedSessions`), leaving for good, and refusal with a fatal Error kept lingering just
 * long enough to be delivered. The layer above hears of each inside the containment boundary.
 */
import { encodeControl } from '../codec/message-frame.ts';
import type { Clock } from '../clock.ts';
import { ErrorCode, type ErrorCodeName } from '../errors.ts';
import type { LingeringLinks } from './lingering-links.ts';
import type { ServerSessionStats } from './server-capacity.ts';
import type { PeerHandler, ServerPeer } from './server-peer.ts';
import type { ServerPresence } from './server-presence.ts';
import { FATAL_LINGER_MS } from './session-options.ts';
import { Tag } from '../protocol/tags.ts';

/** What the departures need from the server session. */
export interface ServerDeparturesHost {
  readonly peers: Map<number, ServerPeer>;
  readonly suspended: Map<number, ServerPeer>;
  readonly pending: Set<ServerPeer>;
  readonly stats: ServerSessionStats;
  readonly clock: Clock;
  readonly resumeWindowMs: number;
  readonly maxSuspendedSessions: number;
  readonly presence: ServerPresence;
  readonly lingering: LingeringLinks;
  /** The layer above, if set yet. */
  handler(): PeerHandler | null;
  /** Admission's per-peer state (an `authorize` in flight) is dropped. */
  forget(peer: ServerPeer): void;
  report(code: ErrorCodeName, message: string): void;
  contain(peer: ServerPeer, e: unknown, what: string): void;
}

/** Suspend, leave, refuse and the Error replies of a server session. */
export class ServerDepartures {
  constructor(private readonly h: ServerDeparturesHost) {}

  /** Link lost: keep the session for the resume window; the layer above stops sending to it. */
  suspend(peer: ServerPeer, why: string): void {
    const h = this.h;
    if (peer.state !== 'connected') return;
    peer.state = 'suspended';
    peer.suspendedAtMs = h.clock.now();
    h.peers.delete(peer.clientId);
    h.suspended.set(peer.clientId, peer);
    if (peer.connection.isOpen) peer.connection.close('suspended');
    h.report('Timeout', `client ${peer.clientId} suspended: ${why}; kept for ${h.resumeWindowMs} ms`);
    try {
      h.handler()?.suspended?.(peer);
    } catch (e) {
      h.contain(peer, e, 'the suspension');
    }
    h.presence.changed(peer);
    const cap = h.maxSuspendedSessions;
    while (h.suspended.size > cap) {
      const oldest = h.suspended.values().next().value!;
      h.stats.suspendedEvicted++;
      h.report('Overloaded', `ended the session of client ${oldest.clientId}: more than ${cap} suspended`);
      this.leave(oldest, `Overloaded: more than ${cap} suspended sessions`);
    }
  }

  /** Ends a peer's session for good: no resume; `left` for a peer that had joined. */
  leave(peer: ServerPeer, reason: string, closeLink = true): void {
    const h = this.h;
    const was = peer.state;
    if (was === 'closed') return;
    peer.state = 'closed';
    h.pending.delete(peer);
    h.peers.delete(peer.clientId);
    h.suspended.delete(peer.clientId);
    h.forget(peer);
    if (closeLink && peer.connection.isOpen) peer.connection.close(reason);
    if (was === 'connected' || was === 'suspended') {
      try {
        h.handler()?.left(peer, reason);
      } catch (e) {
        h.contain(peer, e, 'the leave');
      }
      h.presence.left(peer);
    }
  }

  /** Sends a fatal error, keeps the link open just long enough to deliver it, and ends the peer's session. */
  refuse(peer: ServerPeer, code: ErrorCodeName, message: string, detail?: Record<string, unknown>): void {
    const h = this.h;
    if (peer.state === 'closed') return;
    h.report(code, `refused client${peer.clientId ? ` ${peer.clientId}` : ''}: ${message}`);
    const conn = peer.connection;
    if (conn.isOpen && peer.state !== 'suspended') {
      // A full queue (the peer does not ack) refuses even the Error, and could not start sending it: unreliable.
      if (conn.sendQueueFull)
        conn.sendUnreliable(encodeControl(Tag.Error, { ...detail, code: ErrorCode[code], message, fatal: true }));
      else this.sendError(peer, code, message, true, detail);
      conn.flush();
      h.lingering.add(conn, h.clock.now() + FATAL_LINGER_MS);
    }
    this.leave(peer, `${code}: ${message}`, false);
  }

  /** Sends `Error {code, message, fatal}` on the reliable lane; non-fatal ones within the peer's error-reply budget. */
  sendError(peer: ServerPeer, code: ErrorCodeName, message: string, fatal: boolean, detail?: object): void {
    if (!peer.connection.isOpen) return;
    if (!fatal && !peer.limiter.errorReplies.tryTake(1, this.h.clock.now())) {
      peer.counters.suppressedErrors++;
      return;
    }
    peer.connection.sendReliable(encodeControl(Tag.Error, { ...detail, code: ErrorCode[code], message, fatal }));
  }
}
