/**
 * Presence on the server: who is in the session (connected and suspended clients), sent to every connected
 * client as Presence messages: the full list to a client that (re)joins, changes to everyone else.
 */
import { encodeControl } from '../codec/message-frame.ts';
import type { Emitter } from '../events.ts';
import type { PresenceBody, PresenceStatus, PresenceUser } from '../protocol/session-messages.ts';
import { Tag } from '../protocol/tags.ts';
import type { SessionEvents } from './presence-list.ts';
import type { ServerPeer } from './server-peer.ts';

/** Builds and sends Presence messages from the session's peers. */
export class ServerPresence {
  constructor(
    private readonly peers: Map<number, ServerPeer>,
    private readonly suspended: Map<number, ServerPeer>,
    private readonly events: Emitter<SessionEvents>,
  ) {}

  /** Everyone in the session, by client id. */
  list(): PresenceUser[] {
    const out: PresenceUser[] = [];
    for (const p of this.peers.values()) out.push(p.presence());
    for (const p of this.suspended.values()) out.push(p.presence());
    return out.sort((a, b) => a.clientId - b.clientId);
  }

  /** A client joined or resumed: it gets the whole list, everyone else its entry. */
  admitted(peer: ServerPeer): void {
    const users = this.list();
    const full: PresenceBody = { full: true, users, left: [] };
    peer.connection.sendReliable(encodeControl(Tag.Presence, full));
    this.broadcast({ full: false, users: [peer.presence()], left: [] }, peer);
    this.events.emit('presence', users);
  }

  /** A client's entry changed (status, suspension): everyone connected gets it. */
  changed(peer: ServerPeer): void {
    this.broadcast({ full: false, users: [peer.presence()], left: [] }, null);
    this.events.emit('presence', this.list());
  }

  /** A client left for good. */
  left(peer: ServerPeer): void {
    this.broadcast({ full: false, users: [], left: [peer.clientId] }, null);
    this.events.emit('presence', this.list());
  }

  /** A client set its own status. */
  setStatus(peer: ServerPeer, status: PresenceStatus): void {
    if (peer.status === status) return;
    peer.status = status;
    this.changed(peer);
  }

  private broadcast(body: PresenceBody, except: ServerPeer | null): void {
    const msg = encodeControl(Tag.Presence, body);
    for (const p of this.peers.values()) if (p !== except) p.connection.sendReliable(msg);
  }
}
