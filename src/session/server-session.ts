/**
 * The server side of sessions: one `ServerPeer` per client link, the Hello/Welcome handshake, errors, and
 * dispatch of every other message to the layer above (replication, authority) through a `PeerHandler`.
 */
import { decodeBody, encodeBody } from '../codec/msgpack-body.ts';
import type { Clock } from '../clock.ts';
import { Connection, type ConnectionOptions } from '../connection/connection.ts';
import { ErrorCode, type ErrorCodeName, type ErrorHandler, NetError } from '../errors.ts';
import { type HelloBody, parseHello, PROTOCOL_VERSION, type WelcomeBody } from '../protocol/handshake.ts';
import { Tag } from '../protocol/tags.ts';
import type { Link, ServerTransport } from '../transport/transport.ts';
import { encodeMessage, readMessageTag } from '../codec/message-frame.ts';

/** Peer lifecycle: handshaking until a valid Hello, then connected, then closed. */
export type PeerState = 'handshaking' | 'connected' | 'closed';

/** Counters kept per peer on top of the connection's own. */
export interface PeerCounters {
  rejectedWrites: number;
  decodeErrors: number;
  unknownTags: number;
}

/** One client as the server sees it. */
export class ServerPeer {
  /** The current connection (replaced when a suspended client resumes). */
  connection: Connection;
  clientId = 0;
  role = 'participant';
  state: PeerState = 'handshaking';
  hello: HelloBody | null = null;
  readonly counters: PeerCounters = { rejectedWrites: 0, decodeErrors: 0, unknownTags: 0 };
  /** Slot for the replication layer's per-peer state. */
  replication: unknown = null;

  constructor(connection: Connection) {
    this.connection = connection;
  }
}

/** What the layer above the session receives. */
export interface PeerHandler {
  /** A new client completed the handshake. */
  joined(peer: ServerPeer): void;
  /** The client's link was lost but its session is kept for the resume window (stop sending to it). */
  suspended?(peer: ServerPeer): void;
  /** A suspended client came back: `peer.connection` is its new connection; bring it up to date. */
  resumed?(peer: ServerPeer): void;
  /** The client is gone for good (goodbye, kick, or the resume window ran out). */
  left(peer: ServerPeer, reason: string): void;
  /** A non-session message; `packetSeq` is the carrying packet for unreliable messages, -1 for reliable ones. */
  message(peer: ServerPeer, tag: number, message: Uint8Array, packetSeq: number): void;
  acked(peer: ServerPeer, seq: number): void;
  lost(peer: ServerPeer, seq: number): void;
}

/** What `authorize` returns: accept with a role, or refuse. */
export type AuthorizeResult = { role?: string } | false;

/** Options of the server session. */
export interface ServerSessionOptions {
  transport: ServerTransport;
  clock: Clock;
  schemaHash: string;
  sendRateHz: number;
  /** Decides identity and role from the Hello; refusing answers `Unauthorized`. Default: accept as participant. */
  authorize?: (hello: HelloBody) => AuthorizeResult;
  onError?: ErrorHandler;
  connection?: Partial<Omit<ConnectionOptions, 'clock' | 'onError'>>;
}

/** Server half of the session layer. */
export class ServerSession {
  readonly peers = new Map<number, ServerPeer>();
  private readonly pendingPeers = new Set<ServerPeer>();
  private readonly options: ServerSessionOptions;
  private handler: PeerHandler | null = null;
  private nextClientId = 1;
  private readonly sessionId: string;

  constructor(options: ServerSessionOptions) {
    this.options = options;
    this.sessionId = `s${Math.floor(options.clock.now())}-${Math.random().toString(36).slice(2, 10)}`;
    options.transport.onconnection = (link) => this.accept(link);
  }

  /** Sets the layer that receives joins, leaves and messages. */
  setHandler(handler: PeerHandler): void {
    this.handler = handler;
  }

  private report(code: ErrorCodeName, message: string): void {
    this.options.onError?.(new NetError(code, message));
  }

  private accept(link: Link): void {
    const peer: ServerPeer = new ServerPeer(
      new Connection(link, {
        ...this.options.connection,
        clock: this.options.clock,
        onError: (e) => {
          peer.counters.decodeErrors++;
          this.options.onError?.(e);
        },
      }),
    );
    peer.connection.onPacketAcked = (seq) => this.handler?.acked(peer, seq);
    peer.connection.onPacketLost = (seq) => this.handler?.lost(peer, seq);
    peer.connection.onClose = (reason) => this.drop(peer, reason);
    this.pendingPeers.add(peer);
  }

  private drop(peer: ServerPeer, reason: string): void {
    if (peer.state === 'closed') return;
    const wasConnected = peer.state === 'connected';
    peer.state = 'closed';
    this.pendingPeers.delete(peer);
    if (wasConnected) {
      this.peers.delete(peer.clientId);
      this.handler?.left(peer, reason);
    }
  }

  /** Processes every packet received since the last call, on every peer. */
  receive(): void {
    for (const peer of this.pendingPeers) this.receivePeer(peer);
    for (const peer of this.peers.values()) this.receivePeer(peer);
  }

  private receivePeer(peer: ServerPeer): void {
    peer.connection.receive({
      reliable: (msg) => this.dispatch(peer, msg, -1),
      unreliable: (msg, seq) => this.dispatch(peer, msg, seq),
    });
  }

  private dispatch(peer: ServerPeer, msg: Uint8Array, packetSeq: number): void {
    if (peer.state === 'closed') return;
    const tag = readMessageTag(msg);
    if (tag < 0) {
      peer.counters.decodeErrors++;
      this.report('DecodeError', `client ${peer.clientId}: message shorter than its tag`);
      return;
    }
    if (peer.state === 'handshaking') {
      if (tag === Tag.Hello) this.onHello(peer, msg);
      // Anything before a valid Hello is ignored: the client may still be sending a previous session's traffic.
      return;
    }
    switch (tag) {
      case Tag.Hello:
        return; // duplicate Hello on an established peer: ignore
      case Tag.Goodbye:
        this.close(peer, 'goodbye');
        return;
      default:
        this.handler?.message(peer, tag, msg, packetSeq);
    }
  }

  private onHello(peer: ServerPeer, msg: Uint8Array): void {
    const decoded = decodeBody(msg.subarray(2));
    const hello = decoded.ok ? parseHello(decoded.value) : null;
    if (hello === null) {
      peer.counters.decodeErrors++;
      this.refuse(peer, 'DecodeError', 'malformed Hello');
      return;
    }
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      this.refuse(
        peer,
        'VersionMismatch',
        `client speaks ecsync protocol ${hello.protocolVersion}, server speaks ${PROTOCOL_VERSION}`,
      );
      return;
    }
    if (hello.schemaHash !== this.options.schemaHash) {
      this.refuse(
        peer,
        'SchemaMismatch',
        `client schema ${hello.schemaHash} differs from server schema ${this.options.schemaHash}: both must import the same protocol module`,
      );
      return;
    }
    const verdict = this.options.authorize ? this.options.authorize(hello) : {};
    if (verdict === false) {
      this.refuse(peer, 'Unauthorized', 'the server refused these credentials');
      return;
    }
    peer.hello = hello;
    peer.role = verdict.role ?? 'participant';
    peer.clientId = this.nextClientId++;
    peer.state = 'connected';
    this.pendingPeers.delete(peer);
    this.peers.set(peer.clientId, peer);
    const welcome: WelcomeBody = {
      clientId: peer.clientId,
      sessionId: this.sessionId,
      role: peer.role,
      capabilities: [],
      serverTime: this.options.clock.now(),
      resumeToken: '',
      sendRateHz: this.options.sendRateHz,
    };
    peer.connection.sendReliable(encodeMessage(Tag.Welcome, encodeBody(welcome)));
    this.handler?.joined(peer);
  }

  /** Sends a fatal error, flushes it, and closes the link. */
  refuse(peer: ServerPeer, code: ErrorCodeName, message: string): void {
    this.report(code, `refused client: ${message}`);
    this.sendError(peer, code, message, true);
    peer.connection.flush();
    this.close(peer, message);
  }

  /** Sends `Error {code, message, fatal}` on the reliable lane. */
  sendError(peer: ServerPeer, code: ErrorCodeName, message: string, fatal: boolean): void {
    peer.connection.sendReliable(encodeMessage(Tag.Error, encodeBody({ code: ErrorCode[code], message, fatal })));
  }

  /** Closes one peer's link. */
  close(peer: ServerPeer, reason: string): void {
    peer.connection.close();
    this.drop(peer, reason);
  }

  /** Closes every peer and the transport. */
  async shutdown(): Promise<void> {
    for (const peer of [...this.peers.values()]) {
      peer.connection.sendReliable(encodeMessage(Tag.Shutdown, encodeBody({})));
      peer.connection.flush();
      this.close(peer, 'shutdown');
    }
    for (const peer of [...this.pendingPeers]) this.close(peer, 'shutdown');
    await this.options.transport.close();
  }
}
