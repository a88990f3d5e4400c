/**
 * The client side of sessions: opens the link, says Hello, waits for Welcome, keeps the link alive, syncs the
 * clock, follows presence, reconnects with backoff and resumes with its token when the link is lost, and hands
 * every other message to the layer above through a `ClientHandler`. Timers run inside `receive()`.
 */
import { readBody } from '../codec/msgpack-body.ts';
import { encodeControl, readMessageTag } from '../codec/message-frame.ts';
import { Connection, type ConnectionHandler } from '../connection/connection.ts';
import { type ErrorCodeName, errorCodeName, NetError, usageError } from '../errors.ts';
import { Emitter } from '../events.ts';
import {
  type ErrorBody,
  type HelloBody,
  parseChallenge,
  parseErrorBody,
  parseWelcome,
  PROTOCOL_VERSION,
  PUBLIC_KEY_BYTES,
  type WelcomeBody,
} from '../protocol/handshake.ts';
import {
  asPresenceStatus,
  parseFarewell,
  parseMove,
  parsePresence,
  parseTimeBody,
  type PresenceStatus,
  type PresenceUser,
} from '../protocol/session-messages.ts';
import { describeSchemaDifference } from '../protocol/schema-diff.ts';
import { Tag } from '../protocol/tags.ts';
import type { Link } from '../transport/transport.ts';
import { CLOCK_SAMPLES, ClockSync } from './clock-sync.ts';
import { Reconnector } from './client-reconnect.ts';
import { checkKeyPair, createKeyPair, type KeyPair, signResume } from './identity.ts';
import { DEFAULT_MAX_MEMBER_KEYS, MemberKeys } from './member-keys.ts';
import { ClientServerProof } from './client-server-proof.ts';
import {
  CLOCK_BURST_INTERVAL_MS,
  CLOCK_RESYNC_INTERVAL_MS,
  type ClientHandler,
  type ClientSessionOptions,
  DEFAULT_CLIENT_CAPABILITIES,
} from './client-session-options.ts';
import { type ClientState, IdleDetector, PresenceList, type SessionEvents } from './presence-list.ts';
import {
  checkHeartbeatMs,
  CLOSE_GOODBYE,
  CLOSE_SHUTDOWN,
  DEFAULT_HEARTBEAT_MS,
  HANDSHAKE_TIMEOUT_MS,
  SILENT_HEARTBEATS,
} from './session-options.ts';

export type { ClientState, SessionEvents } from './presence-list.ts';

export {
  DEFAULT_CLIENT_CAPABILITIES,
  CLOCK_BURST_INTERVAL_MS,
  CLOCK_RESYNC_INTERVAL_MS,
} from './client-session-options.ts';
export type { ClientHandler, ClientSessionOptions } from './client-session-options.ts';

/** Client half of the session layer. */
export class ClientSession {
  state: ClientState = 'idle';
  connection: Connection | null = null;
  /** The last Welcome (kept through reconnects: its token resumes the session). */
  welcome: WelcomeBody | null = null;
  /** The fatal error that ended the session, if any. */
  lastError: NetError | null = null;
  /** Why the session is 'closed', if it is. */
  closeReason: string | null = null;
  /** State changes and presence changes. */
  readonly events = new Emitter<SessionEvents>();
  readonly keyPair: KeyPair;
  readonly clockSync = new ClockSync();
  readonly heartbeatMs: number;
  /** Members' public keys from Presence (pinned per session), for verifying their command signatures. */
  readonly memberKeys: MemberKeys;
  /** The server's identity proof of the current handshake. */
  readonly serverProof: ClientServerProof;
  private handler: ClientHandler | null = null;
  private readonly options: ClientSessionOptions;
  private readonly reconnector: Reconnector;
  private readonly presenceList = new PresenceList();
  private readonly idle: IdleDetector | null;
  private status: PresenceStatus = 'active';
  private manualStatus = false;
  private lastHeardAtMs = 0;
  private lastPingAtMs = -Infinity;
  private helloSentAtMs = 0;
  private attachedAtMs = 0;
  private needsFlush = false;
  private lostAtMs = -1;
  private readonly sink: ConnectionHandler = {
    reliable: (msg) => this.dispatch(msg, -1),
    unreliable: (msg, seq) => this.dispatch(msg, seq),
  };

  constructor(options: ClientSessionOptions) {
    this.options = options;
    this.keyPair = options.keyPair ? checkKeyPair(options.keyPair) : createKeyPair();
    const expected = options.expectedServerKey;
    if (expected !== undefined && (!(expected instanceof Uint8Array) || expected.length !== PUBLIC_KEY_BYTES))
      usageError(
        'expectedServerKey is not an Ed25519 public key',
        'pass the 32-byte public key of the server key pair',
      );
    this.serverProof = new ClientServerProof(this.keyPair, expected);
    this.memberKeys = new MemberKeys(options.maxMemberKeys ?? DEFAULT_MAX_MEMBER_KEYS);
    this.heartbeatMs = checkHeartbeatMs(options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.reconnector = new Reconnector(options.transport, options.reconnect, options.clock, {
      attach: (link) => {
        if (this.ended) link.close('closed');
        else this.attach(link);
      },
      retrying: (why) => this.options.onError?.(new NetError('Timeout', `${why}; retrying`)),
      givenUp: (why) => this.fail('Timeout', why),
    });
    this.idle = options.idle ? new IdleDetector(options.idle, options.clock.now()) : null;
  }

  /** Exceptions thrown while handling server messages, caught and reported as `InternalError`. */
  containedErrors = 0;
  /** The id the server gave this client (0 before Welcome). */
  get clientId(): number {
    return this.welcome?.clientId ?? 0;
  }

  /** Everyone in the session, by client id (this client included). */
  get presence(): readonly PresenceUser[] {
    return this.presenceList.list;
  }

  /** This client's presence status. */
  get presenceStatus(): PresenceStatus {
    return this.status;
  }

  /** The server's clock now, in ms, as estimated from Ping/Pong round trips. */
  serverNow(): number {
    return this.options.clock.now() + this.clockSync.offsetMs;
  }

  /** Sets the layer that receives messages. */
  setHandler(handler: ClientHandler): void {
    this.handler = handler;
  }

  private setState(state: ClientState): void {
    const previous = this.state;
    if (previous === state) return;
    this.state = state;
    this.options.onStateChange?.(state, previous);
    this.events.emit('state', state, previous);
  }

  private get ended(): boolean {
    return this.state === 'closed' || this.state === 'error';
  }

  /** Opens the link (if needed) and sends Hello. */
  start(): void {
    if (this.state !== 'idle') return;
    this.setState('connecting');
    if (this.options.link) this.attach(this.options.link);
    else if (this.options.transport) this.reconnector.open();
    else this.fail('Timeout', 'no link and no transport to connect with');
  }

  private attach(link: Link): void {
    const conn = new Connection(link, {
      ...this.options.connection,
      clock: this.options.clock,
      onError: (e) => this.options.onError?.(e),
    });
    conn.onPacketAcked = (seq) => {
      if (conn === this.connection && this.state === 'connected') this.handler?.acked(seq);
    };
    conn.onPacketLost = (seq) => {
      if (conn === this.connection && this.state === 'connected') this.handler?.lost(seq);
    };
    conn.onClose = (reason) => {
      if (conn === this.connection) this.onLinkClosed(reason);
    };
    this.connection = conn;
    const now = this.options.clock.now();
    const hello: HelloBody = {
      protocolVersion: PROTOCOL_VERSION,
      schemaHash: this.options.schemaHash,
      capabilities: [...(this.options.capabilities ?? DEFAULT_CLIENT_CAPABILITIES)],
      clientPublicKey: this.keyPair.publicKey,
      clientNonce: this.serverProof.begin(),
    };
    if (this.options.auth !== undefined) hello.auth = this.options.auth;
    const w = this.welcome;
    if (w) {
      hello.resumeToken = w.resumeToken;
      hello.resumeProof = signResume(w.sessionId, w.resumeToken, this.keyPair.secretKey);
    }
    conn.sendReliable(encodeControl(Tag.Hello, hello));
    conn.flush();
    this.helloSentAtMs = now;
    this.attachedAtMs = now;
    this.lastHeardAtMs = now;
  }

  private onLinkClosed(reason: string): void {
    if (this.ended) return;
    if (reason === CLOSE_SHUTDOWN) {
      this.end('the server shut down');
      return;
    }
    this.linkLost(`link closed (${reason})`);
  }

  /** The link is gone: reconnect (and resume) when possible, else end in 'closed' and say why. */
  private linkLost(why: string): void {
    const conn = this.connection;
    this.connection = null;
    if (conn?.isOpen) conn.close('lost');
    if (this.ended) return;
    if (!this.reconnector.canReconnect) {
      const message = this.options.transport
        ? `${why}; reconnecting is turned off`
        : `${why}; this client was created with a bare link and cannot reconnect (pass a transport to reconnect)`;
      this.options.onError?.(new NetError('Timeout', message, { fatal: true }));
      this.end(message);
      return;
    }
    if (this.state === 'connected') {
      this.lostAtMs = this.options.clock.now();
      this.reconnector.succeeded();
      this.setState('reconnecting');
    }
    this.reconnector.failed(why);
  }

  private fail(code: ErrorCodeName, message: string): void {
    this.lastError = new NetError(code, message, { fatal: true });
    this.options.onError?.(this.lastError);
    this.stop();
    this.setState('error');
  }

  private end(reason: string): void {
    this.closeReason = reason;
    this.stop();
    this.setState('closed');
  }

  private stop(): void {
    this.reconnector.cancel();
    const conn = this.connection;
    this.connection = null;
    if (conn?.isOpen) conn.close('closed');
  }

  // ── receiving ───────────────────────────────────────────────────────────────────────────────────────

  /** Processes every packet received since the last call, then runs the session's timers. */
  receive(): void {
    const conn = this.connection;
    const now = this.options.clock.now();
    if (conn) {
      const packets = conn.stats.packetsIn;
      conn.receive(this.sink);
      if (conn === this.connection && conn.stats.packetsIn !== packets) this.lastHeardAtMs = now;
      if (this.needsFlush && conn === this.connection) conn.flush();
      this.needsFlush = false;
      // The server stopped acking: this stream already refused a message, so start over on a new link.
      if (conn === this.connection && conn.sendQueueFull) this.linkLost('the server does not ack (send queue full)');
    }
    this.timers(now);
  }

  private timers(now: number): void {
    switch (this.state) {
      case 'connecting':
      case 'reconnecting':
        if (!this.connection) this.reconnector.poll(now);
        else if (now - this.attachedAtMs >= HANDSHAKE_TIMEOUT_MS)
          this.linkLost(`no Welcome within ${HANDSHAKE_TIMEOUT_MS} ms`);
        if (this.state === 'reconnecting' && this.welcome && this.welcome.resumeWindowMs > 0) {
          const window = this.welcome.resumeWindowMs;
          if (now - this.lostAtMs > window)
            this.fail('Timeout', `could not resume within the server's resume window of ${window} ms`);
        }
        return;
      case 'connected':
        this.heartbeat(now);
        return;
    }
  }

  private heartbeat(now: number): void {
    const conn = this.connection;
    if (!conn) return;
    const silent = now - this.lastHeardAtMs;
    if (silent >= SILENT_HEARTBEATS * this.heartbeatMs) {
      this.linkLost(`nothing from the server for ${Math.round(silent)} ms`);
      return;
    }
    const sincePing = now - this.lastPingAtMs;
    const wantSample =
      sincePing >= (this.clockSync.count < CLOCK_SAMPLES ? CLOCK_BURST_INTERVAL_MS : CLOCK_RESYNC_INTERVAL_MS);
    if (wantSample || (silent >= this.heartbeatMs && sincePing >= this.heartbeatMs)) {
      this.lastPingAtMs = now;
      conn.sendUnreliable(encodeControl(Tag.Ping, { clientTime: now }));
      conn.flush();
    }
    if (this.idle && !this.manualStatus) this.applyStatus(this.idle.statusAt(now));
  }

  /** One message from the server, inside the containment boundary: a throw while handling it is reported, not raised. */
  private dispatch(msg: Uint8Array, packetSeq: number): void {
    try {
      this.dispatchMessage(msg, packetSeq);
    } catch (e) {
      this.containedErrors++;
      const why = e instanceof Error ? e.message : String(e);
      this.options.onError?.(
        new NetError('InternalError', `handling a server message (tag ${readMessageTag(msg)}) threw: ${why}`),
      );
    }
  }

  private dispatchMessage(msg: Uint8Array, packetSeq: number): void {
    const tag = readMessageTag(msg);
    if (tag < 0) {
      this.options.onError?.(new NetError('DecodeError', 'message shorter than its tag'));
      return;
    }
    switch (tag) {
      case Tag.Welcome: {
        const welcome = this.body(msg, parseWelcome, 'Welcome');
        if (welcome) this.onWelcome(welcome);
        return;
      }
      case Tag.Challenge:
        this.onChallenge(msg);
        return;
      case Tag.Error: {
        const body = this.body(msg, parseErrorBody, 'Error');
        if (!body) return;
        const name = errorCodeName(body.code) ?? 'DecodeError';
        const message = name === 'SchemaMismatch' ? this.schemaMessage(body.message, body.schema) : body.message;
        if (body.fatal) this.fail(name, message);
        else this.options.onError?.(new NetError(name, message));
        return;
      }
      case Tag.Shutdown: {
        const reason = this.body(msg, parseFarewell, 'Shutdown');
        this.end(reason ? `the server shut down: ${reason}` : 'the server shut down');
        return;
      }
      case Tag.Move: {
        const notice = this.body(msg, parseMove, 'Move');
        if (!notice || this.state !== 'connected') return;
        this.end('the room moved to another process');
        this.events.emit('moved', notice);
        return;
      }
      case Tag.Ping: {
        const body = this.body(msg, parseTimeBody, 'Ping');
        if (!body || body.serverTime === undefined || !this.connection) return;
        const now = this.options.clock.now();
        this.connection.sendUnreliable(encodeControl(Tag.Pong, { serverTime: body.serverTime, clientTime: now }));
        this.needsFlush = true;
        return;
      }
      case Tag.Pong: {
        const body = this.body(msg, parseTimeBody, 'Pong');
        const now = this.options.clock.now();
        // A sent time in the future cannot be one of our pings.
        if (body && body.clientTime !== undefined && body.serverTime !== undefined && body.clientTime <= now)
          this.clockSync.add(body.clientTime, body.serverTime, now);
        return;
      }
      case Tag.Presence: {
        const body = this.body(msg, parsePresence, 'Presence');
        if (!body) return;
        for (const id of this.memberKeys.learn(body))
          this.options.onError?.(new NetError('ForgedCommand', `the server tried to change the key of client ${id}`));
        if (this.presenceList.apply(body)) this.events.emit('presence', this.presenceList.list);
        return;
      }
      default:
        if (this.state === 'connected') this.handler?.message(tag, msg, packetSeq);
      // Before Welcome nothing else is meaningful; unknown tags are skipped.
    }
  }

  /** The server's SchemaMismatch message, with the first difference its summary shows against our manifest. */
  private schemaMessage(message: string, schema: ErrorBody['schema']): string {
    const local = this.options.manifest;
    if (!schema || !local) return message;
    let diff: string | null;
    try {
      diff = describeSchemaDifference(local, schema);
    } catch {
      diff = null; // a hostile summary (e.g. JSON nested too deep) never throws into the game loop
    }
    return diff === null ? message : `${message}; first difference: ${diff}`;
  }

  private body<T>(msg: Uint8Array, parse: (v: unknown) => T | null, name: string): T | null {
    const body = readBody(msg, parse);
    if (body === null) this.options.onError?.(new NetError('DecodeError', `malformed ${name}`));
    return body;
  }

  /** The server's Challenge: check its key and proof, then sign the transcript with this client's key. */
  private onChallenge(msg: Uint8Array): void {
    const conn = this.connection;
    if ((this.state !== 'connecting' && this.state !== 'reconnecting') || this.serverProof.challengeAnswered || !conn)
      return;
    const c = this.body(msg, parseChallenge, 'Challenge');
    if (!c) return;
    const answer = this.serverProof.answer(c);
    if ('refusal' in answer) {
      this.fail('ServerKeyMismatch', answer.refusal);
      return;
    }
    conn.sendReliable(encodeControl(Tag.ChallengeResponse, { signature: answer.signature }));
    conn.flush();
    // The Welcome answers this message: its round trip, not the Hello's two, is the first clock sample.
    this.helloSentAtMs = this.options.clock.now();
  }

  private onWelcome(welcome: WelcomeBody): void {
    if (this.state !== 'connecting' && this.state !== 'reconnecting') return; // a duplicate
    const refusal = this.serverProof.refuseWelcome(welcome);
    if (refusal !== null) {
      this.fail('ServerKeyMismatch', refusal);
      return;
    }
    const now = this.options.clock.now();
    if (this.welcome?.sessionId !== welcome.sessionId) this.memberKeys.clear();
    if (this.welcome && this.welcome.sessionId !== welcome.sessionId) this.clockSync.reset();
    this.clockSync.add(this.helloSentAtMs, welcome.serverTime, now);
    this.welcome = welcome;
    this.reconnector.succeeded();
    this.lostAtMs = -1;
    this.lastHeardAtMs = now;
    this.lastPingAtMs = -Infinity;
    this.setState('connected');
    this.handler?.welcomed(welcome);
    if (this.status !== 'active' || welcome.resumed) this.sendStatus();
  }

  // ── presence ────────────────────────────────────────────────────────────────────────────────────────

  /** Sets this client's presence status (it sticks until `noteActivity` when idle detection is on). */
  setPresenceStatus(status: PresenceStatus): void {
    if (asPresenceStatus(status) === undefined)
      usageError(`presence status '${String(status)}' is unknown`, "pass 'active', 'idle' or 'away'");
    this.manualStatus = true;
    this.applyStatus(status);
  }

  /** Records user input: the status goes back to 'active', and idle detection starts counting again. */
  noteActivity(): void {
    this.idle?.noteActivity(this.options.clock.now());
    this.manualStatus = false;
    this.applyStatus('active');
  }

  private applyStatus(status: PresenceStatus): void {
    if (status === this.status) return;
    this.status = status;
    if (this.state === 'connected') this.sendStatus();
  }

  private sendStatus(): void {
    this.connection?.sendReliable(encodeControl(Tag.Presence, { status: this.status }));
  }

  /** Says Goodbye and closes: the server ends this client's session at once (no resume). */
  close(): void {
    const conn = this.connection;
    if (conn?.isOpen) {
      conn.sendReliable(encodeControl(Tag.Goodbye, {}));
      conn.flush();
      this.connection = null;
      conn.close(CLOSE_GOODBYE);
    }
    if (!this.ended) this.end('closed by the application');
    else this.stop();
  }
}
