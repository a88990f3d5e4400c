/** One client as the server sees it, and the hooks through which the layer above follows its life. */
import type { Connection, ConnectionHandler } from '../connection/connection.ts';
import type { ErrorCodeName } from '../errors.ts';
import type { HelloBody } from '../protocol/handshake.ts';
import type { PresenceStatus, PresenceUser } from '../protocol/session-messages.ts';
import type { PeerLimiter } from './rate-limiter.ts';

/**
 * Peer lifecycle: handshaking until a valid Hello (authorizing while an async `authorize` runs), then connected;
 * suspended while its link is lost and its session is kept; closed for good.
 */
export type PeerState = 'handshaking' | 'authorizing' | 'connected' | 'suspended' | 'closed';

/** Counters kept per peer on top of the connection's own. */
export interface PeerCounters {
  /** Writes of this client the server refused (permission, ownership, write gate). */
  rejectedWrites: number;
  /** Malformed packets and messages from this peer, in every layer. */
  decodeErrors: number;
  /** Messages from this client with a tag no layer handles (skipped, never fatal). */
  unknownTags: number;
  /** Times this client resumed its session on a new link. */
  resumes: number;
  /** Non-fatal Error replies not sent because the client's error-reply budget was spent. */
  suppressedErrors: number;
  /** Exceptions thrown while the server handled this client's messages (contained, see `maxHandlerErrors`). */
  handlerErrors: number;
}

/** Which peer a connection's callbacks act for; a resume points the new connection's binding at the resumed peer. */
export interface ConnectionBinding {
  peer: ServerPeer;
}

/** One client as the server sees it. Its identity (clientId, role, userId) survives suspension and resume. */
export class ServerPeer {
  /** The current connection (replaced when a suspended client resumes). */
  connection: Connection;
  /** The client's id in this session (> 0 once welcomed; 0 during the handshake). */
  clientId = 0;
  /** The client's role (default `participant`; `authorize` or an admin may change it). */
  role = 'participant';
  /** The user id `authorize` returned, if any. */
  userId: string | undefined = undefined;
  /** Where the client is in its lifecycle: handshaking, authorizing, connected, suspended or closed. */
  state: PeerState = 'handshaking';
  /** The Hello of the current connection. */
  hello: HelloBody | null = null;
  /** Capabilities both sides have (granted in the Welcome). */
  capabilities: string[] = [];
  /** The client's presence status: `active`, `idle` or `away`. */
  status: PresenceStatus = 'active';
  /** Server time of the first join (kept through resumes). */
  connectedAtMs = 0;
  /** Server time of the suspension, or -1. */
  suspendedAtMs = -1;
  /** Per-client counters kept on top of the connection's own. */
  readonly counters: PeerCounters = {
    rejectedWrites: 0,
    decodeErrors: 0,
    unknownTags: 0,
    resumes: 0,
    suppressedErrors: 0,
    handlerErrors: 0,
  };
  /** Remote address of the current link, where the transport tells it (WebSocket, in-memory test links). */
  remoteAddress: string | undefined = undefined;
  /** Slot for the replication layer's per-peer state. */
  replication: unknown = null;

  /** @internal Session bookkeeping. */
  binding: ConnectionBinding;
  /** @internal */
  readonly sink: ConnectionHandler;
  /** @internal */
  limiter: PeerLimiter;
  /** @internal Server time of the last packet received on the current connection. */
  lastHeardAtMs: number;
  /** @internal */
  lastPingAtMs = -Infinity;
  /** @internal Server time the current connection was accepted. */
  acceptedAtMs: number;
  /** @internal The current resume token ('' before Welcome). */
  resumeToken = '';
  /** @internal A fatal problem found while receiving; acted on once the connection's receive returns. */
  fatal: { code: ErrorCodeName; message: string } | null = null;
  /** @internal A control reply (Pong) is queued: flush after receiving. */
  needsFlush = false;

  constructor(
    connection: Connection,
    limiter: PeerLimiter,
    nowMs: number,
    sink: (peer: ServerPeer) => ConnectionHandler,
  ) {
    this.connection = connection;
    this.limiter = limiter;
    this.lastHeardAtMs = nowMs;
    this.acceptedAtMs = nowMs;
    this.binding = { peer: this };
    this.sink = sink(this);
  }

  /** This peer as a presence entry. */
  presence(): PresenceUser {
    const u: PresenceUser = {
      clientId: this.clientId,
      role: this.role,
      status: this.status,
      connectedAt: this.connectedAtMs,
      suspended: this.state === 'suspended',
    };
    if (this.userId !== undefined) u.userId = this.userId;
    if (this.hello?.clientPublicKey) u.publicKey = this.hello.clientPublicKey;
    return u;
  }
}

/** What the layer above the session receives. */
export interface PeerHandler {
  /** A new client completed the handshake (its Welcome is queued). */
  joined(peer: ServerPeer): void;
  /** The client's link was lost but its session is kept for the resume window (stop sending to it). */
  suspended?(peer: ServerPeer): void;
  /** A suspended client came back: `peer.connection` is its new connection; bring it up to date. */
  resumed?(peer: ServerPeer): void;
  /** The client is gone for good (goodbye, kick, refusal, or the resume window ran out). */
  left(peer: ServerPeer, reason: string): void;
  /** A non-session message; `packetSeq` is the carrying packet for unreliable messages, -1 for reliable ones. */
  message(peer: ServerPeer, tag: number, message: Uint8Array, packetSeq: number): void;
  acked(peer: ServerPeer, seq: number): void;
  lost(peer: ServerPeer, seq: number): void;
}
