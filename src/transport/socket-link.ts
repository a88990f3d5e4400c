/**
 * What the real-network links (geckos.io and WebSocket, both ends) share: the open/closed state with `onclose` fired
 * exactly once, the MTU and congestion checks of `send`, and the filter that turns incoming messages into packets
 * (binary only, at most one MTU) with counters of everything dropped.
 */
import { NetError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import { MAX_PACKET_BYTES } from './transport.ts';
import type { CloseReason, Link } from './transport.ts';

/** Counters of one link, or of every link of a server transport together (all since creation). */
export interface LinkCounters {
  /** Packets handed to the socket. */
  packetsSent: number;
  /** Packets received from the socket. */
  packetsReceived: number;
  /** Packets `send` dropped because the socket still held more than the buffer limit (congestion). */
  droppedCongested: number;
  /** Packets dropped for being empty or larger than the MTU, sent or received. */
  droppedOversize: number;
  /** Incoming messages that were not binary (text frames, geckos.io events), dropped. */
  droppedNonBinary: number;
}

/** Fresh zeroed counters. */
export function createLinkCounters(): LinkCounters {
  return { packetsSent: 0, packetsReceived: 0, droppedCongested: 0, droppedOversize: 0, droppedNonBinary: 0 };
}

/**
 * Views binary message data (ArrayBuffer, Buffer, any typed array) as a plain Uint8Array without copying; null when
 * not binary. A Node Buffer becomes a plain view too, so `packet.slice()` copies as it does everywhere else.
 */
export function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array && data.constructor === Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/**
 * Base of a link over a real socket. `send` takes ownership of the packet (as the in-memory transport does): the
 * caller must not modify it afterwards, so a socket that sends later needs no copy.
 */
export abstract class SocketLink implements Link {
  readonly mtuBytes = MAX_PACKET_BYTES;
  onpacket: ((packet: Uint8Array) => void) | null = null;
  onclose: ((reason: CloseReason) => void) | null = null;
  /** This link's counters. */
  readonly counters: LinkCounters = createLinkCounters();
  private closed = false;

  constructor(
    /** Counters shared by every link of one transport, or null. */
    private readonly total: LinkCounters | null,
    /** Above this many bytes waiting in the socket, `send` drops instead of queueing more. */
    private readonly maxBufferedBytes: number,
    private readonly onError: ErrorHandler | undefined,
  ) {}

  get isOpen(): boolean {
    return !this.closed;
  }

  send(packet: Uint8Array): void {
    if (this.closed) return;
    const length = packet.byteLength;
    if (length === 0 || length > this.mtuBytes) {
      this.counters.droppedOversize++;
      if (this.total) this.total.droppedOversize++;
      return;
    }
    if (this.bufferedBytes() > this.maxBufferedBytes || !this.write(packet)) {
      this.counters.droppedCongested++;
      if (this.total) this.total.droppedCongested++;
      return;
    }
    this.counters.packetsSent++;
    if (this.total) this.total.packetsSent++;
  }

  close(reason: CloseReason = 'closed'): void {
    if (this.closed) return;
    this.finish(reason);
    this.shutdown(reason);
  }

  /** Bytes accepted by the socket but not yet sent. */
  protected abstract bufferedBytes(): number;

  /** Hands one packet to the socket; false when the socket refused it. */
  protected abstract write(packet: Uint8Array): boolean;

  /** Closes the socket after a local `close(reason)`. */
  protected abstract shutdown(reason: CloseReason): void;

  /** Delivers one incoming message: binary data of 1..MTU bytes goes to `onpacket`, anything else is counted. */
  protected receive(data: unknown): void {
    if (this.closed) return;
    const bytes = toBytes(data);
    if (bytes === null) {
      this.dropNonBinary(typeof data);
      return;
    }
    if (bytes.byteLength === 0 || bytes.byteLength > this.mtuBytes) {
      this.counters.droppedOversize++;
      if (this.total) this.total.droppedOversize++;
      this.onError?.(new NetError('Oversize', `dropped a ${bytes.byteLength}-byte packet (MTU ${this.mtuBytes})`));
      return;
    }
    this.counters.packetsReceived++;
    if (this.total) this.total.packetsReceived++;
    this.onpacket?.(bytes);
  }

  /** Counts and reports one incoming message that was not binary (`kind` says what it was). */
  protected dropNonBinary(kind: string): void {
    if (this.closed) return;
    this.counters.droppedNonBinary++;
    if (this.total) this.total.droppedNonBinary++;
    this.onError?.(new NetError('DecodeError', `dropped a non-binary message (${kind})`));
  }

  /**
   * Marks the link closed and fires `onclose` once, in a microtask: never re-entrantly from inside `close()` or a
   * socket callback. Later calls (the other side's close arriving too) do nothing.
   */
  protected finish(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.released();
    queueMicrotask(() => this.onclose?.(reason));
  }

  /** Called once when the link closes, before `onclose`: lets an owner forget the link. */
  protected released(): void {}
}
