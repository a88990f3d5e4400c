/**
 * The transport layer moves opaque byte packets between two peers and knows nothing above that.
 * Every adapter (in-memory, WebSocket, geckos.io) implements these interfaces.
 */

/** Largest packet ecsync hands a transport: WebRTC leaves ~1,163 B per SCTP message, so 1,200 keeps margin. */
export const MAX_PACKET_BYTES = 1200;

/** A STUN or TURN server, as WebRTC's `RTCIceServer`; declared here so that Node code needs no DOM types. */
export interface IceServer {
  /** The server's URL or URLs, e.g. `stun:stun.example.com:3478`. */
  urls: string | string[];
  /** User name for a TURN server. */
  username?: string;
  /** Credential (password) for a TURN server. */
  credential?: string;
}

/** Why a link closed, as seen by the side that observes it. */
export type CloseReason = string;

/**
 * One bidirectional link to one peer. `send` is unreliable and unordered: a packet may be dropped,
 * duplicated or reordered (a stream transport such as WebSocket simply never does). Incoming packets
 * are pushed to `onpacket`; the receiver must copy a packet it keeps past the callback.
 */
export interface Link {
  /** Largest packet `send` accepts, in bytes. */
  readonly mtuBytes: number;
  /** True until the link closes, from either side. */
  readonly isOpen: boolean;
  /**
   * The peer's address where the transport knows it (WebSocket: the socket's remote IP; geckos.io does not expose
   * one); the server caps pending handshakes per address.
   */
  readonly remoteAddress?: string;
  /** Sends one packet and takes ownership of it (the caller must not reuse it); dropped when closed or congested. */
  send(packet: Uint8Array): void;
  /** Closes the link; `onclose` fires on both sides (once each). */
  close(reason?: CloseReason): void;
  /** Receives each incoming packet. */
  onpacket: ((packet: Uint8Array) => void) | null;
  /** Fires once when the link closes, with the reason. */
  onclose: ((reason: CloseReason) => void) | null;
}

/** The server side of a transport: accepts links from clients. */
export interface ServerTransport {
  /** Fires for each new client link. */
  onconnection: ((link: Link) => void) | null;
  /** Stops accepting and closes every link. */
  close(): void | Promise<void>;
}

/** The client side of a transport: opens a link to the server (again, for each reconnect). */
export interface ClientTransport {
  /** Opens a new link to the server; rejects when it cannot be opened. */
  connect(): Promise<Link>;
}
