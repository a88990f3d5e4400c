/**
 * The client side of sessions: opens the link, says Hello, waits for Welcome, exposes the connection state,
 * and hands every other message to the layer above through a `ClientHandler`.
 */
import { decodeBody, encodeBody } from '../codec/msgpack-body.ts';
import { encodeMessage, readMessageTag } from '../codec/message-frame.ts';
import type { Clock } from '../clock.ts';
import { Connection, type ConnectionOptions } from '../connection/connection.ts';
import { type ErrorCodeName, errorCodeName, type ErrorHandler, NetError } from '../errors.ts';
import {
  type HelloBody,
  parseErrorBody,
  parseWelcome,
  PROTOCOL_VERSION,
  type WelcomeBody,
} from '../protocol/handshake.ts';
import { Tag } from '../protocol/tags.ts';
import type { ClientTransport, Link } from '../transport/transport.ts';

/** Connection states a client exposes. */
export type ClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed' | 'error';

/** What the layer above the client session receives. */
export interface ClientHandler {
  welcomed(welcome: WelcomeBody): void;
  /** A non-session message; `packetSeq` is the carrying packet for unreliable messages, -1 for reliable ones. */
  message(tag: number, message: Uint8Array, packetSeq: number): void;
  acked(seq: number): void;
  lost(seq: number): void;
}

/** Options of the client session. */
export interface ClientSessionOptions {
  /** An already open link (in-memory tests), or a transport to connect with. */
  link?: Link;
  transport?: ClientTransport;
  clock: Clock;
  schemaHash: string;
  auth?: string;
  onError?: ErrorHandler;
  onStateChange?: (state: ClientState) => void;
  connection?: Partial<Omit<ConnectionOptions, 'clock' | 'onError'>>;
}

/** Client half of the session layer. */
export class ClientSession {
  state: ClientState = 'idle';
  connection: Connection | null = null;
  welcome: WelcomeBody | null = null;
  /** The fatal error that ended the session, if any. */
  lastError: NetError | null = null;
  private handler: ClientHandler | null = null;
  private readonly options: ClientSessionOptions;

  constructor(options: ClientSessionOptions) {
    this.options = options;
  }

  /** The id the server gave this client (0 before Welcome). */
  get clientId(): number {
    return this.welcome?.clientId ?? 0;
  }

  /** Sets the layer that receives messages. */
  setHandler(handler: ClientHandler): void {
    this.handler = handler;
  }

  private setState(state: ClientState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onStateChange?.(state);
  }

  /** Opens the link (if needed) and sends Hello. */
  start(): void {
    if (this.state !== 'idle') return;
    this.setState('connecting');
    if (this.options.link) {
      this.attach(this.options.link);
      return;
    }
    if (!this.options.transport) {
      this.fail('Timeout', 'no link and no transport to connect with');
      return;
    }
    this.options.transport.connect().then(
      (link) => this.attach(link),
      (e: unknown) => this.fail('Timeout', `could not connect: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  private attach(link: Link): void {
    if (this.state === 'closed') {
      link.close('closed before connect');
      return;
    }
    const conn = new Connection(link, {
      ...this.options.connection,
      clock: this.options.clock,
      onError: (e) => this.options.onError?.(e),
    });
    conn.onPacketAcked = (seq) => this.handler?.acked(seq);
    conn.onPacketLost = (seq) => this.handler?.lost(seq);
    conn.onClose = () => {
      if (this.state !== 'error') this.setState('closed');
      this.connection = null;
    };
    this.connection = conn;
    const hello: HelloBody = {
      protocolVersion: PROTOCOL_VERSION,
      schemaHash: this.options.schemaHash,
      capabilities: ['deflate'],
    };
    if (this.options.auth !== undefined) hello.auth = this.options.auth;
    conn.sendReliable(encodeMessage(Tag.Hello, encodeBody(hello)));
  }

  private fail(code: ErrorCodeName, message: string): void {
    this.lastError = new NetError(code, message, { fatal: true });
    this.options.onError?.(this.lastError);
    this.setState('error');
    this.connection?.close();
    this.connection = null;
  }

  /** Processes every packet received since the last call. */
  receive(): void {
    const conn = this.connection;
    if (!conn) return;
    conn.receive({
      reliable: (msg) => this.dispatch(msg, -1),
      unreliable: (msg, seq) => this.dispatch(msg, seq),
    });
  }

  private dispatch(msg: Uint8Array, packetSeq: number): void {
    const tag = readMessageTag(msg);
    if (tag < 0) {
      this.options.onError?.(new NetError('DecodeError', 'message shorter than its tag'));
      return;
    }
    switch (tag) {
      case Tag.Welcome: {
        const decoded = decodeBody(msg.subarray(2));
        const welcome = decoded.ok ? parseWelcome(decoded.value) : null;
        if (!welcome) {
          this.options.onError?.(new NetError('DecodeError', 'malformed Welcome'));
          return;
        }
        this.welcome = welcome;
        this.setState('connected');
        this.handler?.welcomed(welcome);
        return;
      }
      case Tag.Error: {
        const decoded = decodeBody(msg.subarray(2));
        const body = decoded.ok ? parseErrorBody(decoded.value) : null;
        if (!body) {
          this.options.onError?.(new NetError('DecodeError', 'malformed Error'));
          return;
        }
        const name = errorCodeName(body.code) ?? 'DecodeError';
        if (body.fatal) this.fail(name, body.message);
        else this.options.onError?.(new NetError(name, body.message));
        return;
      }
      case Tag.Shutdown:
        this.setState('closed');
        this.connection?.close();
        this.connection = null;
        return;
      default:
        if (this.state === 'connected') this.handler?.message(tag, msg, packetSeq);
    }
  }

  /** Says Goodbye and closes. */
  close(): void {
    const conn = this.connection;
    if (conn) {
      conn.sendReliable(encodeMessage(Tag.Goodbye, encodeBody({})));
      conn.flush();
      conn.close();
    }
    this.connection = null;
    this.setState('closed');
  }
}
