/**
 * The server side of sessions: one `ServerPeer` per client, the Hello/Welcome handshake, heartbeats, suspension
 * and resume, presence, per-peer limits, and dispatch of every other message to the layer above (replication,
 * authority) through a `PeerHandler`. Timers run inside `receive()`, so a manual clock drives everything.
 */
import { encodeControl, readMessageTag } from '../codec/message-frame.ts';
import { Connection } from '../connection/connection.ts';
import { ErrorCode, type ErrorCodeName, NetError } from '../errors.ts';
import { Emitter } from '../events.ts';
import type { HelloBody } from '../protocol/handshake.ts';
import type { MoveNotice, PresenceUser } from '../protocol/session-messages.ts';
import { summarizeSchema } from '../protocol/schema-diff.ts';
import { Tag } from '../protocol/tags.ts';
import type { Link } from '../transport/transport.ts';
import { Admission } from './server-handshake.ts';
import { checkKeyPair, createKeyPair, type KeyPair, randomHex, toHex } from './identity.ts';
import { ServerProofs } from './identity-proof.ts';
import type { SessionEvents } from './presence-list.ts';
import { PeerLimiter } from './rate-limiter.ts';
import { ServerPeer } from './server-peer.ts';
import type { PeerHandler } from './server-peer.ts';
import { ServerPresence } from './server-presence.ts';
import {
  createServerSessionStats,
  describeThrown,
  makeRoomForPending,
  type ServerSessionStats,
} from './server-capacity.ts';
import { ServerControl } from './server-control.ts';
import { judgeConnectionError, judgeIntake } from './peer-verdicts.ts';
import { ServerHello } from './server-hello.ts';
import { LingeringLinks } from './lingering-links.ts';
import { DEFAULT_SERVER_CAPABILITIES, type ServerSessionOptions } from './server-session-options.ts';
import {
  type CapacityOptions,
  checkHeartbeatMs,
  CLOSE_GOODBYE,
  CLOSE_SHUTDOWN,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_RESUME_WINDOW_MS,
  FATAL_LINGER_MS,
  HANDSHAKE_TIMEOUT_MS,
  MAX_HELLO_BYTES,
  type RateLimitOptions,
  resolveCapacity,
  resolveRateLimits,
  SILENT_HEARTBEATS,
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
  private now = 0;

  constructor(options: ServerSessionOptions) {
    this.options = options;
    this.heartbeatMs = checkHeartbeatMs(options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.resumeWindowMs = options.resumeWindowMs ?? DEFAULT_RESUME_WINDOW_MS;
    this.limits = resolveRateLimits(options.rateLimits);
    this.capacity = resolveCapacity(options.capacity);
    this.keyPair = options.keyPair ? checkKeyPair(options.keyPair) : createKeyPair();
    this.sessionId = `s${randomHex(8)}`;
    this.now = options.clock.now();
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
    options.transport.onconnection = (link) => this.accept(link);
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

  private accept(link: Link): void {
    const now = this.options.clock.now();
    makeRoomForPending(this.pendingPeers, link.remoteAddress, this.capacity, (p, why) => this.evictPending(p, why));
    const connection: Connection = new Connection(link, {
      maxReliableQueueBytes: this.capacity.maxSendQueueBytes,
      maxReliableQueueMessages: this.capacity.maxSendQueueMessages,
      ...this.options.connection,
      clock: this.options.clock,
      // After a resume the binding names the resumed peer, so errors count against it.
      onError: (e) => this.onConnectionError(peer.binding.peer, connection, e),
    });
    const peer: ServerPeer = new ServerPeer(connection, new PeerLimiter(this.limits, now), now, (p) => ({
      reliable: (msg) => this.dispatch(p, msg, -1),
      unreliable: (msg, seq) => this.dispatch(p, msg, seq),
    }));
    peer.remoteAddress = link.remoteAddress;
    // Until the Welcome, the Hello is all a client may send: nothing larger is ever buffered for it.
    connection.limitIncoming(MAX_HELLO_BYTES);
    this.wire(connection, peer.binding);
    this.pendingPeers.add(peer);
  }

  private evictPending(peer: ServerPeer, why: string): void {
    this.stats.pendingEvicted++;
    this.report('Overloaded', `dropped the oldest pending handshake: ${why}`);
    this.leave(peer, `Overloaded: ${why}`);
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

  /** Routes a connection's callbacks to whatever peer its binding names, ignoring stale connections. */
  private wire(connection: Connection, binding: { peer: ServerPeer }): void {
    connection.onPacketAcked = (seq) => {
      const p = binding.peer;
      if (p.connection !== connection || p.state !== 'connected') return;
      try {
        this.handler?.acked(p, seq);
      } catch (e) {
        this.contain(p, e, 'an ack');
      }
    };
    connection.onPacketLost = (seq) => {
      const p = binding.peer;
      if (p.connection !== connection || p.state !== 'connected') return;
      try {
        this.handler?.lost(p, seq);
      } catch (e) {
        this.contain(p, e, 'a loss');
      }
    };
    connection.onClose = (reason) => {
      const p = binding.peer;
      if (p.connection === connection) this.onLinkClosed(p, reason);
    };
  }

  private onConnectionError(peer: ServerPeer, connection: Connection, e: NetError): void {
    if (peer.connection !== connection || peer.state === 'closed') return;
    judgeConnectionError(peer, e, this.stats, (err) => this.options.onError?.(err));
  }

  private onLinkClosed(peer: ServerPeer, reason: string): void {
    if (peer.state === 'handshaking' || peer.state === 'authorizing') {
      peer.state = 'closed';
      this.pendingPeers.delete(peer);
    } else if (peer.state === 'connected') {
      if (reason === CLOSE_GOODBYE) this.leave(peer, 'goodbye');
      else this.suspend(peer, `link closed (${reason})`);
    }
  }

  // ── receiving ───────────────────────────────────────────────────────────────────────────────────────

  /** Processes every packet received since the last call, on every peer, then runs the session's timers. */
  receive(): void {
    this.now = this.options.clock.now();
    for (const peer of this.pendingPeers) this.receivePeer(peer);
    for (const peer of this.peers.values()) this.receivePeer(peer);
    this.lingering.pass(this.now);
    this.timerPass();
  }

  private receivePeer(peer: ServerPeer): void {
    const conn = peer.connection;
    const stats = conn.stats;
    const packets = stats.packetsIn;
    const bytes = stats.bytesIn;
    try {
      conn.receive(peer.sink);
    } catch (e) {
      this.contain(peer, e, 'a packet');
    }
    if (peer.connection !== conn || peer.state === 'closed') return;
    if (stats.packetsIn !== packets) peer.lastHeardAtMs = this.now;
    judgeIntake(peer, stats.bytesIn - bytes, this.limits, this.now);
    if (peer.fatal) {
      if (peer.fatal.code === 'SendQueueFull') this.stats.sendQueueDisconnects++;
      this.disconnect(peer, peer.fatal.code, peer.fatal.message);
      return;
    }
    if (peer.needsFlush) {
      peer.needsFlush = false;
      conn.flush();
    }
  }

  /** One message from one peer, inside the containment boundary (one try per message, none per entity). */
  private dispatch(peer: ServerPeer, msg: Uint8Array, packetSeq: number): void {
    try {
      this.dispatchMessage(peer, msg, packetSeq);
    } catch (e) {
      this.contain(peer, e, `a message (tag ${readMessageTag(msg)})`);
    }
  }

  private dispatchMessage(peer: ServerPeer, msg: Uint8Array, packetSeq: number): void {
    if (peer.state === 'closed' || peer.fatal) return;
    if (!peer.limiter.messages.take(1, this.now)) {
      peer.fatal = { code: 'RateLimited', message: `more than ${this.limits.messagesPerSecond} messages per second` };
      return;
    }
    const tag = readMessageTag(msg);
    if (tag < 0) {
      this.control.decodeError(peer, 'message shorter than its tag');
      return;
    }
    // Anything before a valid Hello is ignored: the client may still be sending a previous session's traffic.
    if (peer.state === 'handshaking') return this.hello.message(peer, tag, msg, this.now);
    if (peer.state !== 'connected') return;
    // The permission table (authority layer): a role may send only the tags allowed to it, core ones included.
    if (this.messageGate !== null && !this.messageGate(peer, tag, msg)) return;
    if (!this.control.message(peer, tag, msg, this.now)) this.handler?.message(peer, tag, msg, packetSeq);
  }

  /** True when `hello` (or the user id `authorize` gave it) is banned. */
  isBanned(hello: HelloBody, userId: string | undefined): boolean {
    if (userId !== undefined && this.bannedIds.has(userId)) return true;
    if (hello.clientPublicKey && this.bannedIds.has(toHex(hello.clientPublicKey))) return true;
    return this.options.isBanned?.(hello, userId) ?? false;
  }

  /** @internal Moves an admitted peer from pending to connected, after the admission queued its Welcome. */
  admitted(peer: ServerPeer, resumed: boolean): void {
    this.pendingPeers.delete(peer);
    this.suspended.delete(peer.clientId);
    this.peers.set(peer.clientId, peer);
    peer.connection.limitIncoming(null);
    peer.lastHeardAtMs = this.options.clock.now();
    peer.lastPingAtMs = -Infinity;
    try {
      if (resumed) this.handler?.resumed?.(peer);
      else this.handler?.joined(peer);
    } catch (e) {
      // Also reached from an async `authorize`: a throw here would otherwise be an unhandled rejection.
      this.contain(peer, e, resumed ? 'the resume' : 'the join');
    }
    this.presence.admitted(peer);
  }

  /** @internal Takes a suspended or connected peer's session over for a new link (resume). */
  adopt(target: ServerPeer, shell: ServerPeer): void {
    if (target.state === 'connected') this.suspend(target, 'replaced by a resumed link');
    this.pendingPeers.delete(shell);
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

  /** @internal The pending peers (for admission). */
  isPending(peer: ServerPeer): boolean {
    return this.pendingPeers.has(peer);
  }

  // ── timers ──────────────────────────────────────────────────────────────────────────────────────────

  private timerPass(): void {
    const now = this.now;
    const hb = this.heartbeatMs;
    for (const peer of this.pendingPeers) {
      if (now - peer.acceptedAtMs >= HANDSHAKE_TIMEOUT_MS)
        this.refuse(peer, 'Timeout', `no valid Hello within ${HANDSHAKE_TIMEOUT_MS} ms`);
      else this.hello.resendChallenge(peer, now);
    }
    for (const peer of this.peers.values()) {
      const silent = now - peer.lastHeardAtMs;
      if (silent >= SILENT_HEARTBEATS * hb) this.suspend(peer, `silent for ${Math.round(silent)} ms`);
      else if (silent >= hb && now - peer.lastPingAtMs >= hb) {
        peer.lastPingAtMs = now;
        peer.connection.sendUnreliable(encodeControl(Tag.Ping, { serverTime: now }));
        peer.connection.flush();
      }
    }
    for (const peer of this.suspended.values()) {
      if (now - peer.suspendedAtMs >= this.resumeWindowMs) this.leave(peer, 'resume window expired');
    }
  }

  // ── leaving ─────────────────────────────────────────────────────────────────────────────────────────

  /** Link lost: keep the session for the resume window; the layer above stops sending to it. */
  private suspend(peer: ServerPeer, why: string): void {
    if (peer.state !== 'connected') return;
    peer.state = 'suspended';
    peer.suspendedAtMs = this.options.clock.now();
    this.peers.delete(peer.clientId);
    this.suspended.set(peer.clientId, peer);
    if (peer.connection.isOpen) peer.connection.close('suspended');
    this.report('Timeout', `client ${peer.clientId} suspended: ${why}; kept for ${this.resumeWindowMs} ms`);
    try {
      this.handler?.suspended?.(peer);
    } catch (e) {
      this.contain(peer, e, 'the suspension');
    }
    this.presence.changed(peer);
    const cap = this.capacity.maxSuspendedSessions;
    while (this.suspended.size > cap) {
      const oldest = this.suspended.values().next().value!;
      this.stats.suspendedEvicted++;
      this.report('Overloaded', `ended the session of client ${oldest.clientId}: more than ${cap} suspended`);
      this.leave(oldest, `Overloaded: more than ${cap} suspended sessions`);
    }
  }

  /** Ends a peer's session for good: no resume; `left` for a peer that had joined. */
  /** @internal Ends a peer's session for good (see `close`). */
  leave(peer: ServerPeer, reason: string, closeLink = true): void {
    const was = peer.state;
    if (was === 'closed') return;
    peer.state = 'closed';
    this.pendingPeers.delete(peer);
    this.peers.delete(peer.clientId);
    this.suspended.delete(peer.clientId);
    this.admission.forget(peer);
    if (closeLink && peer.connection.isOpen) peer.connection.close(reason);
    if (was === 'connected' || was === 'suspended') {
      try {
        this.handler?.left(peer, reason);
      } catch (e) {
        this.contain(peer, e, 'the leave');
      }
      this.presence.left(peer);
    }
  }

  /** Sends a fatal error, keeps the link open just long enough to deliver it, and ends the peer's session. */
  refuse(peer: ServerPeer, code: ErrorCodeName, message: string, detail?: Record<string, unknown>): void {
    if (peer.state === 'closed') return;
    this.report(code, `refused client${peer.clientId ? ` ${peer.clientId}` : ''}: ${message}`);
    const conn = peer.connection;
    if (conn.isOpen && peer.state !== 'suspended') {
      // A full queue (the peer does not ack) refuses even the Error, and could not start sending it: unreliable.
      if (conn.sendQueueFull)
        conn.sendUnreliable(encodeControl(Tag.Error, { ...detail, code: ErrorCode[code], message, fatal: true }));
      else this.sendError(peer, code, message, true, detail);
      conn.flush();
      this.lingering.add(conn, this.options.clock.now() + FATAL_LINGER_MS);
    }
    this.leave(peer, `${code}: ${message}`, false);
  }

  /** Disconnects a client with a fatal error (kick; also used for limit offenders). */
  disconnect(peer: ServerPeer, code: ErrorCodeName, message: string): void {
    this.refuse(peer, code, message);
  }

  /** Sends `Error {code, message, fatal}` on the reliable lane; non-fatal ones within the peer's error-reply budget. */
  sendError(peer: ServerPeer, code: ErrorCodeName, message: string, fatal: boolean, detail?: object): void {
    if (!peer.connection.isOpen) return;
    if (!fatal && !peer.limiter.errorReplies.tryTake(1, this.options.clock.now())) {
      peer.counters.suppressedErrors++;
      return;
    }
    peer.connection.sendReliable(encodeControl(Tag.Error, { ...detail, code: ErrorCode[code], message, fatal }));
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
