/** Options, defaults and the handler type of `Connection`. */
import type { Clock } from '../clock.ts';
import type { ErrorHandler } from '../errors.ts';

/** Default protocol id byte: "EC" for ecsync; change it to keep incompatible builds apart. */
export const DEFAULT_PROTOCOL_ID = 0xec;
/** Default unreliable payload budget per packet: WebRTC loses a whole datagram above ~1,163 B, so 1,100 keeps margin. */
export const DEFAULT_UNRELIABLE_BUDGET_BYTES = 1100;
/** Default largest reliable message (SPEC 3: 8 MiB); larger claims are rejected before allocating. */
export const DEFAULT_MAX_RELIABLE_MESSAGE_BYTES = 8 * 1024 * 1024;
/**
 * Default packets per flush, the first included: 8 x 1,200 B = 9.6 KB per tick (~576 KB/s at 60 Hz) streams a
 * snapshot quickly while keeping a data channel's send queue shallow (unreliable data queued behind it goes stale).
 */
export const DEFAULT_MAX_PACKETS_PER_FLUSH = 8;
/** Default flow-control window: 256 KiB of reliable data in flight covers ~0.5 s at the flush ceiling above. */
export const DEFAULT_MAX_RELIABLE_IN_FLIGHT_BYTES = 256 * 1024;
/**
 * Default cap on reliable bytes queued for one peer and not yet acked: twice the largest message, so a join
 * snapshot of the maximum size plus as much again of ordinary traffic fits, while a peer that never acks cannot
 * make the server hold more than this for it.
 */
export const DEFAULT_MAX_RELIABLE_QUEUE_BYTES = 2 * DEFAULT_MAX_RELIABLE_MESSAGE_BYTES;
/**
 * Default cap on reliable messages queued for one peer and not yet acked (each costs ~200 B of bookkeeping even
 * when tiny): 4x the id window the peer can have in flight, far above what an acking peer ever has waiting.
 */
export const DEFAULT_MAX_RELIABLE_QUEUE_MESSAGES = 16_384;
/** Packets waiting for `receive()` beyond this are dropped: a peer cannot grow our memory while we are busy. */
export const MAX_INBOX_PACKETS = 1024;
/** A pending packet older than this many RTOs is declared lost even if no later packet was acked. */
export const LOST_TIMEOUT_RTOS = 2;
/**
 * A late ack (of a packet already declared lost) counts as an RTT sample only when the peer's previous packet came
 * at most this long before: the peer is sending steadily, so it acked promptly. 50 ms is three ticks at 60 Hz.
 */
export const PROMPT_ACK_GAP_MS = 50;

/** Options of `new Connection`. */
export interface ConnectionOptions {
  clock: Clock;
  protocolId?: number;
  /** Unreliable bytes (framing included) per packet; default 1,100. */
  unreliableBudgetBytes?: number;
  maxReliableMessageBytes?: number;
  /** Packets one `flush()` may send, the first included; default 8 (see DEFAULT_MAX_PACKETS_PER_FLUSH). */
  maxPacketsPerFlush?: number;
  /** Reliable bytes in flight before new messages wait; the receiver buffers up to 2x this + one message. */
  maxReliableInFlightBytes?: number;
  /**
   * Reliable bytes queued and not yet acked (default 16 MiB): past it `sendReliable` refuses the message and
   * reports `SendQueueFull` once; the session disconnects such a peer.
   */
  maxReliableQueueBytes?: number;
  /** Reliable messages queued and not yet acked (default 16,384); past it, as for maxReliableQueueBytes. */
  maxReliableQueueMessages?: number;
  onError?: ErrorHandler;
}

/** Receives the messages of `Connection.receive`; the views are valid only during the call. */
export interface ConnectionHandler {
  /** Receives one reliable message, in order. */
  reliable(message: Uint8Array): void;
  /** Receives one unreliable message and the sequence number of the packet it came in. */
  unreliable(message: Uint8Array, packetSeq: number): void;
}
