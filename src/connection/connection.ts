/**
 * One peer connection over an unreliable `Link`: Gaffer-style packet acks, RTT / jitter / loss estimates,
 * reliable-ordered messages (resent until acked, fragmented, reassembled) and unreliable messages.
 *
 * Wire layout of one packet (all multi-byte fixed fields little-endian):
 *
 *   header, 10 bytes (packet-header.ts)
 *     u8  protocolId       0xEC by default; anything else is dropped
 *     u16 seq              packet sequence, +1 per packet sent, wraps at 65536
 *     u16 ack              newest packet seq received from the peer
 *     u32 ackBits          bit i set = packet (ack - 1 - i) also received
 *     u8  flags            bit 0 HAS_ACKS (ack fields valid); bits 1-7 reserved, must be 0
 *   entries until the end of the packet, each starting with varuint(len * 4 + kind), len = payload bytes:
 *     kind 0 unreliable    varuint | payload[len]
 *     kind 1 reliable      varuint | u16 id | payload[len]                          a whole message, len <= 1024
 *     kind 2 fragment      varuint | u16 id | varuint index | varuint count | payload[len]
 *                          count >= 2; every fragment but the last carries exactly 1024 bytes, the last 1..1024;
 *                          message length = (count - 1) * 1024 + len(last)
 *     kind 3 reserved      decode error
 *   varuint = unsigned LEB128 (src/codec/varint.ts). Reliable ids are u16, +1 per message, starting at 0.
 *
 * Overhead: an unreliable message of < 32 B costs 1 framing byte, < 4,096 B 2 bytes, so one unreliable
 * message costs <= 12 bytes of ecsync overhead per packet. A packet is validated whole before any of it is
 * applied; a packet that fails is dropped, counted and reported, and is not acked.
 */
import type { Clock } from '../clock.ts';
import { NetError, usageError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import { varUintSize } from '../codec/varint.ts';
import type { Link } from '../transport/transport.ts';
import { ReceivedKind, ReceivedPacketWindow, SentPacketWindow, SentState } from './ack-window.ts';
import { LossEstimator, RttEstimator } from './link-estimator.ts';
import {
  HeaderResult,
  PACKET_HEADER_BYTES,
  PacketFlag,
  createPacketHeader,
  readPacketHeader,
  seqAdd,
  writePacketHeader,
} from './packet-header.ts';
import {
  EntryKind,
  createParsedEntry,
  parseEntry,
  writeReliableEntry,
  writeUnreliableEntry,
} from './packet-entries.ts';
import { RELIABLE_FRAGMENT_BYTES, fragmentEntryBytes, unreliableEntryBytes } from './packet-entries.ts';
import { EntryCheck, ReliableReceiver } from './reliable-receiver.ts';
import { ReliableSender } from './reliable-sender.ts';
import type { OutgoingFragment } from './reliable-sender.ts';
import { ConnectionCounters } from './connection-stats.ts';
import type { ConnectionStats } from './connection-stats.ts';

/** Default protocol id byte: "EC" for ecsync; change it to keep incompatible builds apart. */
export const DEFAULT_PROTOCOL_ID = 0xec;
/** Default unreliable payload budget per packet: WebRTC loses a whole datagram above ~1,163 B, so 1,100 keeps margin. */
export const DEFAULT_UNRELIABLE_BUDGET_BYTES = 1100;
/** Default largest reliable message (SPEC 3: 8 MiB); larger claims are rejected before allocating. */
export const DEFAULT_MAX_RELIABLE_MESSAGE_BYTES = 8 * 1024 * 1024;
/**
 * Default packets per flush, the first included: 8 x 1,200 B = 9.6 KB per tick (~576 KB/s at 60 Hz) streams a
 * snapshot quickly while staying under the ~16 KB send queue where WebRTC (werift) throughput collapses.
 */
export const DEFAULT_MAX_PACKETS_PER_FLUSH = 8;
/** Default flow-control window: 256 KiB of reliable data in flight covers ~0.5 s at the flush ceiling above. */
export const DEFAULT_MAX_RELIABLE_IN_FLIGHT_BYTES = 256 * 1024;
/** Packets waiting for `receive()` beyond this are dropped: a peer cannot grow our memory while we are busy. */
export const MAX_INBOX_PACKETS = 1024;
/** A pending packet older than this many RTOs is declared lost even if no later packet was acked. */
export const LOST_TIMEOUT_RTOS = 2;

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
  onError?: ErrorHandler;
}

/** Receives the messages of `Connection.receive`; the views are valid only during the call. */
export interface ConnectionHandler {
  reliable(message: Uint8Array): void;
  unreliable(message: Uint8Array, packetSeq: number): void;
}

export type { ConnectionStats } from './connection-stats.ts';

/**
 * A connection over one link. Call `receive()` then `flush()` once per tick; nothing happens in between.
 * @example
 * const conn = new Connection(link, { clock });
 * conn.sendReliable(bytes);
 * conn.flush();
 * conn.receive({ reliable: (m) => onMessage(m), unreliable: (m, seq) => onState(m, seq) });
 */
export class Connection {
  /** Fires inside `receive()` once for each sent packet the peer acked (not for one already declared lost). */
  onPacketAcked: ((seq: number) => void) | null = null;
  /** Fires inside `receive()` once for each sent packet declared lost (3 later packets acked, out of the ack window, or timed out). */
  onPacketLost: ((seq: number) => void) | null = null;
  /** Fires once when the link closes, from either side. */
  onClose: ((reason: string) => void) | null = null;
  /** Live counters and estimates. */
  readonly stats: ConnectionStats;

  private readonly link: Link;
  private readonly clock: Clock;
  private readonly protocolId: number;
  private readonly budget: number;
  private readonly maxPackets: number;
  private readonly onError: ErrorHandler;
  private readonly counters: ConnectionCounters;
  private open = true;
  private readonly inbox: Uint8Array[] = [];
  private readonly received = new ReceivedPacketWindow();
  private readonly sent = new SentPacketWindow<OutgoingFragment[]>();
  private readonly rtt = new RttEstimator();
  private readonly loss = new LossEstimator();
  private readonly sender: ReliableSender;
  private readonly receiver: ReliableReceiver;
  private readonly unreliableBuf: Uint8Array;
  private unreliableUsed = 0;
  private readonly packetBufs: Uint8Array[] = [];
  private readonly packetViews: DataView[] = [];
  private readonly packetPos: number[] = [];
  private readonly packetFrags: OutgoingFragment[][] = [];
  private readonly deferredLost: number[] = [];
  private readonly header = createPacketHeader();
  private readonly entry = createParsedEntry();

  constructor(link: Link, options: ConnectionOptions) {
    this.link = link;
    this.clock = options.clock;
    this.protocolId = options.protocolId ?? DEFAULT_PROTOCOL_ID;
    this.budget = options.unreliableBudgetBytes ?? DEFAULT_UNRELIABLE_BUDGET_BYTES;
    this.maxPackets = options.maxPacketsPerFlush ?? DEFAULT_MAX_PACKETS_PER_FLUSH;
    this.onError = options.onError ?? (() => {});
    const maxMessage = options.maxReliableMessageBytes ?? DEFAULT_MAX_RELIABLE_MESSAGE_BYTES;
    const window = options.maxReliableInFlightBytes ?? DEFAULT_MAX_RELIABLE_IN_FLIGHT_BYTES;
    const mtu = link.mtuBytes;
    const body = mtu - PACKET_HEADER_BYTES;
    const maxFragments = Math.ceil(maxMessage / RELIABLE_FRAGMENT_BYTES);
    const fragmentEntry = fragmentEntryBytes(RELIABLE_FRAGMENT_BYTES, maxFragments - 1, maxFragments);
    if (body < fragmentEntry) {
      usageError(
        `link MTU ${mtu} is too small for a reliable fragment`,
        `use a link MTU >= ${fragmentEntry + PACKET_HEADER_BYTES} bytes`,
      );
    }
    if (!Number.isInteger(this.protocolId) || this.protocolId < 0 || this.protocolId > 255) {
      usageError(`protocolId must be a byte, got ${this.protocolId}`, 'pass an integer in 0..255');
    }
    if (!Number.isInteger(this.budget) || this.budget < 1 || this.budget > body) {
      usageError(`unreliableBudgetBytes ${this.budget} must be in 1..${body}`, 'lower unreliableBudgetBytes');
    }
    if (!Number.isInteger(this.maxPackets) || this.maxPackets < 1) {
      usageError(`maxPacketsPerFlush must be >= 1, got ${this.maxPackets}`, 'pass a positive integer');
    }
    if (!(maxMessage >= 0) || !(window > 0)) {
      usageError('maxReliableMessageBytes and maxReliableInFlightBytes must be positive', 'fix the options');
    }
    this.sender = new ReliableSender(maxMessage, window);
    this.receiver = new ReliableReceiver(maxMessage, 2 * window + maxMessage);
    this.unreliableBuf = new Uint8Array(this.budget);
    this.counters = new ConnectionCounters();
    this.stats = this.counters.stats;
    link.onpacket = (packet) => this.enqueueIncoming(packet);
    link.onclose = (reason) => this.handleClose(reason);
  }

  /** True until the link closes. */
  get isOpen(): boolean {
    return this.open && this.link.isOpen;
  }

  /** Id of the last message given to `sendReliable`; 0xffff before the first (the first id is 0). */
  get lastReliableIdSent(): number {
    return this.sender.lastId;
  }

  /** Id of the last reliable message handed to the handler in order; 0xffff before the first. */
  get lastReliableIdDelivered(): number {
    return this.receiver.lastDelivered;
  }

  /** True once the peer's reliable message `id` was delivered here (0xffff, "none sent yet", is always true). */
  isReliableDelivered(id: number): boolean {
    return this.receiver.isDelivered(id);
  }

  /** Reliable bytes queued or in flight and not yet acked in order. */
  get reliablePendingBytes(): number {
    return this.sender.pendingBytes;
  }

  /** Reliable bytes of messages that started sending and are not yet acked in order (<= the flow-control window). */
  get reliableInFlightBytes(): number {
    return this.sender.startedBytes;
  }

  /** Bytes held for peer reliable messages that arrived but cannot be delivered yet (out of order or partial). */
  get reliableBufferedBytes(): number {
    return this.receiver.bufferedBytes;
  }

  /** Current resend timeout in ms. */
  get rtoMs(): number {
    return this.rtt.rtoMs;
  }

  /** Copies and queues a reliable message; returns its u16 id. Throws `Oversize` above maxReliableMessageBytes. */
  sendReliable(message: Uint8Array): number {
    return this.sender.enqueue(message);
  }

  /** Puts a message into the next flushed packet only; false (dropped) when it does not fit the budget. */
  sendUnreliable(message: Uint8Array): boolean {
    if (!this.isOpen) return false;
    const need = unreliableEntryBytes(message.length);
    if (this.unreliableUsed + need > this.budget) return false;
    this.unreliableUsed = writeUnreliableEntry(this.unreliableBuf, this.unreliableUsed, message);
    return true;
  }

  /** Largest payload one more `sendUnreliable` accepts before the next flush (its framing already deducted). */
  unreliableSpaceBytes(): number {
    const room = this.budget - this.unreliableUsed;
    for (let framing = 1; framing <= 3; framing++) {
      const length = room - framing;
      if (length >= 0 && varUintSize(length * 4) <= framing) return length;
    }
    return 0;
  }

  /**
   * Sends this tick's packets: the first holds every queued unreliable message, then reliable data (resends
   * first, oldest first) fills it and up to maxPacketsPerFlush - 1 more. Always sends at least one packet (it
   * carries the acks). Returns the first packet's sequence, or -1 when the connection is closed.
   */
  flush(): number {
    if (!this.isOpen) return -1;
    const now = this.clock.now();
    const rto = this.rtt.rtoMs;
    const mtu = this.link.mtuBytes;
    let used = 1;
    this.packet(0).set(this.unreliableBuf.subarray(0, this.unreliableUsed), PACKET_HEADER_BYTES);
    this.packetPos[0] = PACKET_HEADER_BYTES + this.unreliableUsed;
    this.unreliableUsed = 0;
    this.sender.collectDue(now, (f) => {
      let p = 0;
      while (p < used && this.packetPos[p] + f.entryBytes > mtu) p++;
      if (p === used) {
        if (used === this.maxPackets) return false;
        this.packet(used);
        this.packetPos[used++] = PACKET_HEADER_BYTES;
      }
      const msg = f.message;
      this.packetPos[p] = writeReliableEntry(this.packetBufs[p], this.packetPos[p], msg.id, f.index, msg.count, f.data);
      this.packetFrags[p].push(f);
      return true;
    });
    const h = this.header;
    h.protocolId = this.protocolId;
    h.flags = this.received.hasAny ? PacketFlag.HasAcks : 0;
    h.ack = this.received.hasAny ? this.received.ack : 0;
    h.ackBits = this.received.hasAny ? this.received.ackBits() : 0;
    const firstSeq = this.sent.next;
    for (let p = 0; p < used; p++) {
      const frags = this.packetFrags[p];
      const length = this.packetPos[p];
      const seq = this.sent.next;
      h.seq = seq;
      writePacketHeader(this.packetViews[p], h);
      this.sent.add(now, length, frags.length > 0 ? frags.slice() : null, (lostSeq, slot) => {
        const lostFrags = this.sent.payload[slot];
        if (lostFrags) this.sender.onPacketLost(lostFrags, lostSeq, now);
        this.deferredLost.push(lostSeq);
      });
      for (let i = 0; i < frags.length; i++) {
        if (frags[i].sendCount > 0) this.stats.resends++;
        this.sender.onSent(frags[i], seq, now, rto);
      }
      frags.length = 0;
      this.stats.packetsOut++;
      this.stats.bytesOut += length;
      this.link.send(this.packetBufs[p].slice(0, length));
    }
    return firstSeq;
  }

  /** Processes every packet received since the last call, handing messages to `handler`; never throws on bad input. */
  receive(handler: ConnectionHandler): void {
    const now = this.clock.now();
    for (let i = 0; i < this.deferredLost.length; i++) this.reportLost(this.deferredLost[i]);
    this.deferredLost.length = 0;
    const inbox = this.inbox;
    for (let i = 0; i < inbox.length && this.open; i++) this.processPacket(inbox[i], now, handler);
    inbox.length = 0;
    this.sent.sweep(now, LOST_TIMEOUT_RTOS * this.rtt.rtoMs, (seq, slot) => {
      const frags = this.sent.payload[slot];
      if (frags) this.sender.onPacketLost(frags, seq, now);
      this.reportLost(seq);
    });
  }

  /** Closes the link; `onClose` fires when the transport reports it. */
  close(reason = 'closed'): void {
    this.open = false;
    this.inbox.length = 0;
    this.link.close(reason);
  }

  private packet(p: number): Uint8Array {
    if (p === this.packetBufs.length) {
      const buf = new Uint8Array(this.link.mtuBytes);
      this.packetBufs.push(buf);
      this.packetViews.push(new DataView(buf.buffer));
      this.packetPos.push(0);
      this.packetFrags.push([]);
    }
    return this.packetBufs[p];
  }

  private enqueueIncoming(packet: Uint8Array): void {
    if (!this.open) return;
    if (this.inbox.length >= MAX_INBOX_PACKETS) {
      this.stats.inboxDropped++;
      return;
    }
    this.inbox.push(packet.slice());
  }

  private handleClose(reason: string): void {
    this.open = false;
    this.inbox.length = 0;
    this.onClose?.(reason);
  }

  private decodeError(message: string, code: 'DecodeError' | 'Oversize' = 'DecodeError'): void {
    this.stats.decodeErrors++;
    if (code === 'Oversize') this.stats.oversizeRejected++;
    this.onError(new NetError(code, message));
  }

  private processPacket(packet: Uint8Array, now: number, handler: ConnectionHandler): void {
    const length = packet.length;
    this.stats.packetsIn++;
    this.stats.bytesIn += length;
    // 1. Header.
    const h = this.header;
    const view = new DataView(packet.buffer, packet.byteOffset, length);
    const headerResult = readPacketHeader(view, length, this.protocolId, h);
    if (headerResult !== HeaderResult.Ok) {
      this.decodeError(
        `bad packet header (${headerResult === HeaderResult.TooShort ? 'too short' : 'wrong protocol or flags'})`,
      );
      return;
    }
    const seq = h.seq;
    if (this.received.classify(seq) !== ReceivedKind.New) {
      this.stats.duplicatesDropped++;
      return;
    }
    // 2. Check every entry before applying any.
    const e = this.entry;
    const receiver = this.receiver;
    receiver.beginPacket();
    for (let pos = PACKET_HEADER_BYTES; pos < length; pos = e.next) {
      if (!parseEntry(packet, pos, length, e)) {
        this.decodeError(`bad entry framing at byte ${pos} of packet ${seq}`);
        return;
      }
      if (e.kind === EntryKind.Unreliable) continue;
      const verdict = receiver.check(e);
      if (verdict === EntryCheck.Bad) {
        this.decodeError(`bad reliable entry (id ${e.id}, fragment ${e.index}/${e.count}) in packet ${seq}`);
        return;
      }
      if (verdict === EntryCheck.Oversize) {
        this.decodeError(`reliable message ${e.id} claims more than the size limit`, 'Oversize');
        return;
      }
    }
    if (!receiver.fits()) {
      // Not acked, so the peer resends it once we delivered what we hold.
      this.stats.receiveWindowDrops++;
      return;
    }
    // 3. Accept: record, apply acks, then entries in order.
    this.received.record(seq);
    if ((h.flags & PacketFlag.HasAcks) !== 0) this.applyAcks(h.ack, h.ackBits, now);
    const deliver = (m: Uint8Array): void => handler.reliable(m);
    for (let pos = PACKET_HEADER_BYTES; pos < length && this.open; pos = e.next) {
      parseEntry(packet, pos, length, e);
      if (e.kind === EntryKind.Unreliable) handler.unreliable(packet.subarray(e.start, e.start + e.length), seq);
      else receiver.apply(e, packet, deliver);
    }
  }

  private applyAcks(ack: number, ackBits: number, now: number): void {
    this.sent.noteAckField(ack);
    for (let i = 31; i >= 0; i--) {
      if ((ackBits >>> i) & 1) this.ackPacket(seqAdd(ack, -1 - i), now);
    }
    this.ackPacket(ack, now);
  }

  private ackPacket(seq: number, now: number): void {
    const slot = this.sent.ack(seq);
    if (slot < 0) return;
    const frags = this.sent.payload[slot];
    if (frags) {
      for (let i = 0; i < frags.length; i++) this.sender.onAcked(frags[i]);
      this.sent.payload[slot] = null;
    }
    if (this.sent.state[slot] !== SentState.Acked) return;
    this.rtt.sample(now - this.sent.sentAtMs[slot]);
    this.loss.add(false);
    this.counters.update(this.rtt, this.loss);
    this.onPacketAcked?.(seq);
  }

  private reportLost(seq: number): void {
    this.loss.add(true);
    this.counters.update(this.rtt, this.loss);
    this.onPacketLost?.(seq);
  }
}
