/**
 * How a handshaking peer enters the session once admission queued its Welcome: joined (a new client) or resumed
 * (its link adopted by the suspended or connected peer whose session it resumes). The layer above hears of each
 * inside the containment boundary.
 */
import type { Clock } from '../clock.ts';
import type { PeerHandler, ServerPeer } from './server-peer.ts';
import type { ServerPresence } from './server-presence.ts';

/** What an arrival needs from the server session. */
export interface ServerArrivalsHost {
  readonly peers: Map<number, ServerPeer>;
  readonly suspended: Map<number, ServerPeer>;
  readonly pending: Set<ServerPeer>;
  readonly clock: Clock;
  readonly presence: ServerPresence;
  /** The layer above, if set yet. */
  handler(): PeerHandler | null;
  contain(peer: ServerPeer, e: unknown, what: string): void;
  suspend(peer: ServerPeer, why: string): void;
}

/** Moves an admitted peer from pending to connected and tells the layer above and everyone's presence. */
export function admitPeer(h: ServerArrivalsHost, peer: ServerPeer, resumed: boolean): void {
  h.pending.delete(peer);
  h.suspended.delete(peer.clientId);
  h.peers.set(peer.clientId, peer);
  peer.connection.limitIncoming(null);
  peer.lastHeardAtMs = h.clock.now();
  peer.lastPingAtMs = -Infinity;
  try {
    const handler = h.handler();
    if (resumed) handler?.resumed?.(peer);
    else handler?.joined(peer);
  } catch (e) {
    // Also reached from an async `authorize`: a throw here would otherwise be an unhandled rejection.
    h.contain(peer, e, resumed ? 'the resume' : 'the join');
  }
  h.presence.admitted(peer);
}

/** Hands the link of `shell` (a pending peer resuming) to `target`, the peer whose session it resumes. */
export function adoptLink(h: ServerArrivalsHost, target: ServerPeer, shell: ServerPeer): void {
  if (target.state === 'connected') h.suspend(target, 'replaced by a resumed link');
  h.pending.delete(shell);
  shell.state = 'closed';
  const conn = shell.connection;
  target.connection = conn;
  shell.binding.peer = target;
  target.binding = shell.binding;
  target.fatal = null;
  target.needsFlush = false;
  target.acceptedAtMs = shell.acceptedAtMs;
  target.counters.decodeErrors += shell.counters.decodeErrors;
  target.counters.resumes++;
}
