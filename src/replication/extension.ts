/**
 * Extensions let higher layers (VR pose streams, authority, application messages) add their own messages to a
 * peer's traffic without touching the replication core: they see every message the core does not handle, and
 * may queue messages for each peer just before its packet is flushed.
 */
import type { Connection } from '../connection/connection.ts';
import type { ServerPeer } from '../session/server-session.ts';

/** A server-side extension. Every hook is optional. */
export interface ServerExtension {
  /** A client joined (after Welcome and its snapshot were queued). */
  joined?(peer: ServerPeer): void;
  /** A client left. */
  left?(peer: ServerPeer, reason: string): void;
  /** A message the core did not handle; return true when this extension handled it. */
  message?(peer: ServerPeer, tag: number, message: Uint8Array, packetSeq: number): boolean;
  /** Runs once per send tick before change detection (e.g. to apply validated inputs). */
  beforeDetect?(tick: number): void;
  /** Queue messages for `peer` on its connection; called each send tick before the flush. */
  send?(peer: ServerPeer, connection: Connection, tick: number): void;
  /** Packet `seq` to `peer` was acked / lost (for extensions that track their own delivery). */
  acked?(peer: ServerPeer, seq: number): void;
  /** Packet `seq` to `peer` was declared lost. */
  lost?(peer: ServerPeer, seq: number): void;
}

/** A client-side extension. Every hook is optional. */
export interface ClientExtension {
  /** A message the core did not handle; return true when this extension handled it. */
  message?(tag: number, message: Uint8Array, packetSeq: number): boolean;
  /** Queue messages for the server; called each send tick before the flush. */
  send?(connection: Connection, tick: number): void;
  /** Packet `seq` was acked / lost (for extensions that track their own delivery). */
  acked?(seq: number): void;
  /** Packet `seq` was declared lost. */
  lost?(seq: number): void;
}
