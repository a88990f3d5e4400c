/**
 * The client side of sessions: opens the link, says Hello, waits for Welcome, keeps the link alive, syncs the
 * clock, follows presence, reconnects with backoff and resumes with its token when the link is lost, and hands
 * every other message to the layer above through a `ClientHandler`. Timers run inside `receive()`.
 *
 * The coordinator of its parts: the link's life (attach, loss, reconnect, end) stays here; the handshake
 * (client-handshake.ts), the server's messages (client-dispatch.ts), the timers (client-timers.ts) and the
 * presence status (client-status.ts) each get a host of only what they need.
 */
import { encodeControl } from '../codec/message-frame.ts';
import { Connection, type ConnectionHandler } from '../connection/connection.ts';
import { type ErrorCodeName, NetError, usageError } from '../errors.ts';
import { Emitter } from '../events.ts';
import { PUBLIC_KEY_BYTES, type WelcomeBody } from '../protocol/handshake.ts';
import type { PresenceStatus, PresenceUser } from '../protocol/session-messages.ts';
import { Tag } from '../protocol/tags.ts';
import type { Link } from '../transport/transport.ts';
import { ClockSync } from './clock-sync.ts';
import { ClientDispatch, readServerBody } from './client-dispatch.ts';
import { ClientHandshake } from './client-handshake.ts';
import { type ClientLinkTimes, createClientLinkTimes } from './client-link-times.ts';
import { Reconnector } from './client-reconnect.ts';
import { ClientStatus } from './client-status.ts';
import { type ClientTimersHost, runClientTimers } from './client-timers.ts';
import { checkKeyPair, createKeyPair, type KeyPair } from './identity.ts';
import { DEFAULT_MAX_MEMBER_KEYS, MemberKeys } from './member-keys.ts';
import { ClientServerProof } from './client-server-proof.ts';
import type { ClientHandler, ClientSessionOptions } from './client-session-options.ts';
import { type ClientState, IdleDetector, PresenceList, type SessionEvents } from './presence-list.ts';
import { checkHeartbeatMs, CLOSE_GOODBYE, CLOSE_SHUTDOWN, DEFAULT_HEARTBEAT_MS } from './session-options.ts';

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
  /** Link timing shared with the parts (client-link-times.ts). */
  private readonly times: ClientLinkTimes = createClientLinkTimes();
  private readonly status: ClientStatus;
  private readonly handshake: ClientHandshake;
  private readonly dispatcher: ClientDispatch;
  private readonly timers: ClientTimersHost;
  private readonly sink: ConnectionHandler = {
    reliable: (msg) => this.dispatcher.dispatch(msg, -1),
    unreliable: (msg, seq) => this.dispatcher.dispatch(msg, seq),
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
    const idle = options.idle ? new IdleDetector(options.idle, options.clock.now()) : null;
    const { keyPair, serverProof, memberKeys, clockSync, times, heartbeatMs } = this;
    const common = {
      options,
      clockSync,
      memberKeys,
      times,
      state: (): ClientState => this.state,
      connection: (): Connection | null => this.connection,
      handler: (): ClientHandler | null => this.handler,
      welcome: (): WelcomeBody | null => this.welcome,
      fail: (code: ErrorCodeName, message: string): void => this.fail(code, message),
    };
    this.status = new ClientStatus(
      { ...common, clock: options.clock, connected: () => this.state === 'connected' },
      idle,
    );
    this.handshake = new ClientHandshake({
      ...common,
      keyPair,
      serverProof,
      status: this.status,
      setState: (s) => this.setState(s),
      setWelcome: (welcome) => {
        this.welcome = welcome;
        this.reconnector.succeeded();
      },
      body: (msg, parse, name) => readServerBody(options, msg, parse, name),
    });
    this.dispatcher = new ClientDispatch({
      ...common,
      events: this.events,
      handshake: this.handshake,
      presenceList: this.presenceList,
      contained: () => void this.containedErrors++,
      end: (reason) => this.end(reason),
    });
    this.timers = {
      ...common,
      heartbeatMs,
      pollReconnect: (now) => this.reconnector.poll(now),
      idleTick: (now) => this.status.tick(now),
      linkLost: (why) => this.linkLost(why),
    };
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
    return this.status.status;
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
    this.handshake.hello(conn);
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
      this.times.lostAtMs = this.options.clock.now();
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

  /** Processes every packet received since the last call, then runs the session's timers. */
  receive(): void {
    const conn = this.connection;
    const now = this.options.clock.now();
    if (conn) {
      const packets = conn.stats.packetsIn;
      conn.receive(this.sink);
      if (conn === this.connection && conn.stats.packetsIn !== packets) this.times.lastHeardAtMs = now;
      if (this.times.needsFlush && conn === this.connection) conn.flush();
      this.times.needsFlush = false;
      // The server stopped acking: this stream already refused a message, so start over on a new link.
      if (conn === this.connection && conn.sendQueueFull) this.linkLost('the server does not ack (send queue full)');
    }
    runClientTimers(this.timers, now);
  }

  /** Sets this client's presence status (it sticks until `noteActivity` when idle detection is on). */
  setPresenceStatus(status: PresenceStatus): void {
    this.status.set(status);
  }

  /** Records user input: the status goes back to 'active', and idle detection starts counting again. */
  noteActivity(): void {
    this.status.noteActivity();
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
