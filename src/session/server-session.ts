/**
 * The server side of sessions: one `ServerPeer` per client, the Hello/Welcome handshake, heartbeats, suspension
 * and resume, presence, per-peer limits, and dispatch of every other message to the layer above (replication,
 * authority) through a `PeerHandler`. Timers run inside `receive()`, so a manual clock drives everything.
 *
 * The coordinator of its parts: new links and their connection events (server-links.ts), the receive pass and
 * message dispatch (server-intake.ts) with the timers (server-timers.ts), the handshake (server-hello.ts,
 * server-handshake.ts), the session's own messages (server-control.ts), presence (server-presence.ts), and how a
 * session pauses or ends (server-departures.ts). Each part gets a host of only what it needs.
 */
import { encodeControl } from '../codec/message-frame.ts';
import { type ErrorCodeName, NetError } from '../errors.ts';
import { Emitter } from '../events.ts';
import type { HelloBody } from '../protocol/handshake.ts';
import type { MoveNotice, PresenceUser } from '../protocol/session-messages.ts';
import { summarizeSchema } from '../protocol/schema-diff.ts';
import { Tag } from '../protocol/tags.ts';
import { Admission } from './server-handshake.ts';
import { checkKeyPair, createKeyPair, type KeyPair, randomHex, toHex } from './identity.ts';
import { ServerProofs } from './identity-proof.ts';
import type { SessionEvents } from './presence-list.ts';
import type { PeerHandler, ServerPeer } from './server-peer.ts';
import { ServerPresence } from './server-presence.ts';
import { createServerSessionStats, describeThrown, type ServerSessionStats } from './server-capacity.ts';
import { admitPeer, adoptLink, type ServerArrivalsHost } from './server-arrivals.ts';
import { ServerControl } from './server-control.ts';
import { ServerDepartures } from './server-departures.ts';
import { ServerHello } from './server-hello.ts';
import { ServerIntake } from './server-intake.ts';
import { ServerLinks } from './server-links.ts';
import { LingeringLinks } from './lingering-links.ts';
import { DEFAULT_SERVER_CAPABILITIES, type ServerSessionOptions } from './server-session-options.ts';
import {
  type CapacityOptions,
  checkHeartbeatMs,
  CLOSE_SHUTDOWN,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_RESUME_WINDOW_MS,
  type RateLimitOptions,
  resolveCapacity,
  resolveRateLimits,
} from './session-options.ts';

export { ServerPeer } from './server-peer.ts';
export type { PeerCounters, PeerHandler, PeerState } from './server-peer.ts';
export type { Authorize, AuthorizeResult } from './server-handshake.ts';
export type { ServerSessionStats } from './server-capacity.ts';
export { DEFAULT_SERVER_CAPABILITIES } from './server-session-options.ts';
export type { ServerSessionOptions } from './server-session-options.ts';

/** Server half of the session layer. */
export class ServerSession {
  /** Connected clients by id. */
  readonly peers = new Map<number, ServerPeer>();
  /** Clients whose link is lost, kept for the resume window, by id. */
  readonly suspended = new Map<number, ServerPeer>();
  /** User ids (from `authorize`) and client public keys (hex) refused with `Banned`. */
  readonly bannedIds = new Set<string>();
  /** Presence changes. */
  readonly events = new Emitter<SessionEvents>();
  readonly sessionId: string;
  readonly keyPair: KeyPair;
  readonly heartbeatMs: number;
  readonly resumeWindowMs: number;
  /** Set by the authority layer: false refuses a connected client's message (its role may not send `tag`). */
  messageGate: ((peer: ServerPeer, tag: number, message: Uint8Array) => boolean) | null = null;
  /** Counters of the capacity limits and contained exceptions. */
  readonly stats: ServerSessionStats = createServerSessionStats();
  private readonly pendingPeers = new Set<ServerPeer>();
  private readonly lingering: LingeringLinks;
  private readonly options: ServerSessionOptions;
  private readonly limits: Required<RateLimitOptions>;
  private readonly capacity: Required<CapacityOptions>;
  private readonly presence: ServerPresence;
  private readonly admission: Admission;
  /** @internal The handshake steps before Welcome. */
  readonly hello: ServerHello;
  /** @internal The session's own messages from connected clients. */
  readonly control: ServerControl;
  /** Key-possession proofs of the handshake (challenges sent, proven, refused). */
  readonly proofs: ServerProofs;
  private handler: PeerHandler | null = null;
  /** Suspend, leave, refuse and Error replies (server-departures.ts). */
  private readonly departures: ServerDepartures;
  /** The receive pass, message dispatch and timers (server-intake.ts, server-timers.ts). */
  private readonly intake: ServerIntake;
  /** What joining and resuming touch (server-arrivals.ts). */
  private readonly arrivals: ServerArrivalsHost;

  constructor(options: ServerSessionOptions) {
    this.options = options;
    this.heartbeatMs = checkHeartbeatMs(options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.resumeWindowMs = options.resumeWindowMs ?? DEFAULT_RESUME_WINDOW_MS;
    this.limits = resolveRateLimits(options.rateLimits);
    this.capacity = resolveCapacity(options.capacity);
    this.keyPair = options.keyPair ? checkKeyPair(options.keyPair) : createKeyPair();
    this.sessionId = `s${randomHex(8)}`;
    this.presence = new ServerPresence(this.peers, this.suspended, this.events);
    this.proofs = new ServerProofs(this.sessionId, this.keyPair);
    this.admission = new Admission(this, {
      clock: options.clock,
      sendRateHz: options.sendRateHz,
      authorize: options.authorize,
      capabilities: options.capabilities ?? DEFAULT_SERVER_CAPABILITIES,
      onError: options.onError,
    });
    const schemaSummary = options.manifest ? summarizeSchema(options.manifest) : undefined;
    this.hello = new ServerHello(this, this.proofs, this.admission, options.schemaHash, schemaSummary);
    this.control = new ServerControl(this, this.presence);
    this.lingering = new LingeringLinks(this.capacity.maxPendingHandshakes, this.stats);
    const { peers, suspended, stats, heartbeatMs, resumeWindowMs, limits, capacity, lingering, hello } = this;
    const clock = options.clock;
    const common = {
      peers,
      suspended,
      pending: this.pendingPeers,
      stats,
      handler: () => this.handler,
      report: (code: ErrorCodeName, message: string) => this.report(code, message),
      contain: (peer: ServerPeer, e: unknown, what: string) => this.contain(peer, e, what),
      leave: (peer: ServerPeer, reason: string) => this.leave(peer, reason),
      suspend: (peer: ServerPeer, why: string) => this.departures.suspend(peer, why),
    };
    this.arrivals = { ...common, clock, presence: this.presence };
    this.departures = new ServerDepartures({
      ...common,
      clock,
      resumeWindowMs,
      maxSuspendedSessions: capacity.maxSuspendedSessions,
      presence: this.presence,
      lingering,
      forget: (peer) => this.admission.forget(peer),
    });
    this.intake = new ServerIntake({
      ...common,
      clock,
      limits,
      lingering,
      hello,
      control: this.control,
      heartbeatMs,
      resumeWindowMs,
      resendChallenge: (peer, now) => hello.resendChallenge(peer, now),
      permits: (peer, tag, msg) => this.messageGate === null || this.messageGate(peer, tag, msg),
      refuse: (peer, code, message) => this.refuse(peer, code, message),
      disconnect: (peer, code, message) => this.disconnect(peer, code, message),
    });
    const links = new ServerLinks({
      ...common,
      options,
      limits,
      capacity,
      dispatch: (peer, msg, packetSeq) => this.intake.dispatch(peer, msg, packetSeq),
    });
    options.transport.onconnection = (link) => links.accept(link);
  }

  /** Sets the layer that receives joins, leaves and messages. */
  setHandler(handler: PeerHandler): void {
    this.handler = handler;
  }

  /** Everyone in the session (connected and suspended), by client id. */
  users(): PresenceUser[] {
    return this.presence.list();
  }

  /** Tells every client that `peer`'s presence entry changed (e.g. its role). */
  presenceChanged(peer: ServerPeer): void {
    this.presence.changed(peer);
  }

  /** A connected or suspended client, or undefined. */
  peer(clientId: number): ServerPeer | undefined {
    return this.peers.get(clientId) ?? this.suspended.get(clientId);
  }

  /** @internal Reports a problem through `onError`. */
  report(code: ErrorCodeName, message: string): void {
    this.options.onError?.(new NetError(code, message));
  }

  /** Links that have not completed the handshake (a valid Hello still to come, or `authorize` running). */
  get pendingCount(): number {
    return this.pendingPeers.size;
  }

  /** Refused links kept open briefly so their fatal Error is delivered (at most `maxPendingHandshakes`). */
  get lingeringCount(): number {
    return this.lingering.count;
  }

  /** Bytes every connection (pending, connected, lingering) holds for reliable messages not yet delivered. */
  receiveBufferedBytes(): number {
    let n = 0;
    for (const p of this.pendingPeers) n += p.connection.reliableBufferedBytes;
    for (const p of this.peers.values()) n += p.connection.reliableBufferedBytes;
    return n + this.lingering.bufferedBytes();
  }

  /**
   * The containment boundary: an exception thrown while handling one peer's input is counted, reported as
   * `InternalError`, and never reaches the game loop; a peer that triggers it `maxHandlerErrors` times is
   * disconnected.
   */
  contain(peer: ServerPeer, e: unknown, what: string): void {
    this.stats.handlerErrors++;
    const n = ++peer.counters.handlerErrors;
    this.report('InternalError', `${what} of client ${peer.clientId || '(handshaking)'} threw: ${describeThrown(e)}`);
    if (n >= this.capacity.maxHandlerErrors && peer.state !== 'closed' && peer.state !== 'suspended')
      peer.fatal ??= { code: 'InternalError', message: `${n} of its messages made the server fail` };
  }

  /** Processes every packet received since the last call, on every peer, then runs the session's timers. */
  receive(): void {
    this.intake.receive();
  }

  /** True when `hello` (or the user id `authorize` gave it) is banned. */
  isBanned(hello: HelloBody, userId: string | undefined): boolean {
    if (userId !== undefined && this.bannedIds.has(userId)) return true;
    if (hello.clientPublicKey && this.bannedIds.has(toHex(hello.clientPublicKey))) return true;
    return this.options.isBanned?.(hello, userId) ?? false;
  }

  /** @internal Moves an admitted peer from pending to connected, after the admission queued its Welcome. */
  admitted(peer: ServerPeer, resumed: boolean): void {
    admitPeer(this.arrivals, peer, resumed);
  }

  /** @internal Takes a suspended or connected peer's session over for a new link (resume). */
  adopt(target: ServerPeer, shell: ServerPeer): void {
    adoptLink(this.arrivals, target, shell);
  }

  /** @internal The pending peers (for admission). */
  isPending(peer: ServerPeer): boolean {
    return this.pendingPeers.has(peer);
  }

  /** @internal Ends a peer's session for good (see `close`). */
  leave(peer: ServerPeer, reason: string, closeLink = true): void {
    this.departures.leave(peer, reason, closeLink);
  }

  /** Sends a fatal error, keeps the link open just long enough to deliver it, and ends the peer's session. */
  refuse(peer: ServerPeer, code: ErrorCodeName, message: string, detail?: Record<string, unknown>): void {
    this.departures.refuse(peer, code, message, detail);
  }

  /** Disconnects a client with a fatal error (kick; also used for limit offenders). */
  disconnect(peer: ServerPeer, code: ErrorCodeName, message: string): void {
    this.refuse(peer, code, message);
  }

  /** Sends `Error {code, message, fatal}` on the reliable lane; non-fatal ones within the peer's error-reply budget. */
  sendError(peer: ServerPeer, code: ErrorCodeName, message: string, fatal: boolean, detail?: object): void {
    this.departures.sendError(peer, code, message, fatal, detail);
  }

  /** Closes one peer's link and ends its session (no resume). */
  close(peer: ServerPeer, reason: string): void {
    this.leave(peer, reason);
  }

  /**
   * Sends one connected client a Move `{url, token, geckosUrl?}` (its room moved) at once; false when it is not
   * connected.
   */
  move(clientId: number, notice: MoveNotice): boolean {
    const peer = this.peers.get(clientId);
    if (!peer || !peer.connection.isOpen) return false;
    const body: Record<string, string> = { url: notice.url, token: notice.token };
    if (notice.geckosUrl !== undefined) body.geckosUrl = notice.geckosUrl;
    peer.connection.sendReliable(encodeControl(Tag.Move, body));
    peer.connection.flush();
    return true;
  }

  /** Says Shutdown to every client, ends every session and closes the transport. */
  async shutdown(): Promise<void> {
    for (const peer of [...this.peers.values()]) {
      const conn = peer.connection;
      conn.sendReliable(encodeControl(Tag.Shutdown, { reason: 'server shutting down' }));
      conn.flush();
      peer.state = 'closed';
      this.peers.delete(peer.clientId);
      conn.close(CLOSE_SHUTDOWN);
      this.handler?.left(peer, CLOSE_SHUTDOWN);
    }
    for (const peer of [...this.suspended.values()]) this.leave(peer, CLOSE_SHUTDOWN);
    for (const peer of [...this.pendingPeers]) this.leave(peer, CLOSE_SHUTDOWN);
    this.lingering.closeAll(CLOSE_SHUTDOWN);
    await this.options.transport.close();
  }
}
