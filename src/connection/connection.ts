/**
 * One peer connection over an unreliable `Link`: Gaffer-style packet acks, RTT / jitter / loss estimates,
 * reliable-ordered messages (resent until acked, fragmented, reassembled) and unreliable messages.
 *
 * A packet is a 10-byte header (protocol id, u16 seq, u16 ack, u32 ackBits, flags: packet-header.ts) followed by
 * entries framed by varuint(len * 4 + kind): unreliable, reliable (u16 id) or reliable fragment (u16 id, index,
 * count; 1,024 bytes each but the last). The full layout is in src/protocol/wire.md ("Packet header"). An unreliable
 * message of < 32 B costs 1 framing byte, so one costs <= 12 bytes of overhead per packet. A packet is validated
 * whole before any of it is applied; a packet that fails is dropped, counted and reported, and is not acked.
 */
import type { Clock } from '../clock.ts';
import { NetError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import { varUintSize } from '../codec/varint.ts';
import type { Link } from '../transport/transport.ts';
import { ReceivedKind, ReceivedPacketWindow, SentPacketWindow, SentState } from './ack-window.ts';
import { LossEstimator, RttEstimator } from './link-estimator.ts';
import { PacketAssembler } from './packet-assembler.ts';
import {
  HeaderResult,
  PACKET_HEADER_BYTES,
  PacketFlag,
  createPacketHeader,
  readPacketHeader,
  seqAdd,
} from './packet-header.ts';
import {
  EntryKind,
  createParsedEntry,
  parseEntry,
  unreliableEntryBytes,
  writeUnreliableEntry,
} from './packet-entries.ts';
import { EntryCheck, ReliableReceiver } from './reliable-receiver.ts';
import { ReliableSender } from './reliable-sender.ts';
import type { OutgoingFragment } from './reliable-sender.ts';
import { ConnectionCounters } from './connection-stats.ts';
import type { ConnectionStats } from './connection-stats.ts';
import { LOST_TIMEOUT_RTOS, MAX_INBOX_PACKETS, PROMPT_ACK_GAP_MS } from './connection-options.ts';
import { resolveConnectionLimits } from './connection-limits.ts';
import type { ConnectionHandler, ConnectionOptions } from './connection-options.ts';

export * from './connection-options.ts';

export type { ConnectionStats } from './connection-stats.ts';

/**
 * A connection over one link (it takes over the link's `onpacket` and `onclose`). Call `receive()` then
 * `flush()` once per tick: incoming packets are only copied into an inbox in between.
 * @example
 * const conn = new Connection(link, { clock });
 * conn.sendReliable(bytes);
 * conn.flush();
 * conn.receive({ reliable: (m) => onMessage(m), unreliable: (m, seq) => onState(m, seq) });
 */
export class Connection {
  /** Fires inside `receive()` once for each sent packet the peer acked (not for one already declared lost). */
  onPacketAcked: ((seq: number) => void) | null = null;
  /**
   * Fires inside `receive()` once for each sent packet declared lost: 3 later packets acked, fallen out of
   * the ack bits, or pending for LOST_TIMEOUT_RTOS x RTO. Its reliable data is resent at the next flush.
   */
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
  /** When the last packet was accepted (-Infinity before any): a late ack is a sample only when it is recent. */
  private lastAcceptedAtMs = -Infinity;
  private readonly loss = new LossEstimator();
  private readonly sender: ReliableSender;
  private readonly receiver: ReliableReceiver;
  private readonly maxMessageBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly maxQueueBytes: number;
  private readonly maxQueueMessages: number;
  private queueFull = false;
  private readonly unreliableBuf: Uint8Array;
  private unreliableUsed = 0;
  private readonly assembler: PacketAssembler;
  private handler: ConnectionHandler | null = null;
  private readonly deferredLost: number[] = [];
  private readonly header = createPacketHeader();
  private readonly entry = createParsedEntry();

  constructor(link: Link, options: ConnectionOptions) {
    this.link = link;
    this.clock = options.clock;
    this.onError = options.onError ?? (() => {});
    const mtu = link.mtuBytes;
    const limits = resolveConnectionLimits(options, mtu);
    const maxMessage = limits.maxMessageBytes;
    const window = limits.inFlightBytes;
    this.protocolId = limits.protocolId;
    this.budget = limits.budget;
    this.maxPackets = limits.maxPacketsPerFlush;
    this.maxQueueBytes = limits.maxQueueBytes;
    this.maxQueueMessages = limits.maxQueueMessages;
    this.sender = new ReliableSender(maxMessage, window);
    this.maxMessageBytes = maxMessage;
    this.maxBufferedBytes = 2 * window + ReliableReceiver.heldBytes(maxMessage);
    this.receiver = new ReliableReceiver(maxMessage, this.maxBufferedBytes);
    this.unreliableBuf = new Uint8Array(this.budget);
    this.assembler = new PacketAssembler(mtu, this.maxPackets);
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

  /**
   * True once the peer's reliable message `id` was handed to the handler here. Before the first delivery only
   * 0xffff (the sender's "nothing sent yet" id) counts as delivered; ids up to 32,767 behind the last one do.
   */
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

  /**
   * Lowers (or, with null, restores) the largest reliable message accepted from the peer and the receive buffer:
   * the server allows only a Hello-sized message until the handshake completes. The buffer limit becomes room
   * for two such messages.
   */
  limitIncoming(maxMessageBytes: number | null): void {
    if (maxMessageBytes === null) {
      this.receiver.setLimits(this.maxMessageBytes, this.maxBufferedBytes);
      return;
    }
    const max = Math.min(maxMessageBytes, this.maxMessageBytes);
    this.receiver.setLimits(max, Math.min(this.maxBufferedBytes, 2 * ReliableReceiver.heldBytes(max)));
  }

  /** Current resend timeout in ms. */
  get rtoMs(): number {
    return this.rtt.rtoMs;
  }

  /** True once a reliable message was refused because the send queue was at its cap (the peer does not ack). */
  get sendQueueFull(): boolean {
    return this.queueFull;
  }

  /**
   * Copies and queues a reliable message; returns its u16 id. Throws `Oversize` above maxReliableMessageBytes.
   * When the queue is at its cap (maxReliableQueueBytes / maxReliableQueueMessages) the message is refused and
   * counted, `SendQueueFull` is reported once, and the last id is returned: the stream to this peer is broken,
   * and the session disconnects it.
   */
  sendReliable(message: Uint8Array): number {
    const sender = this.sender;
    if (
      message.length <= this.maxMessageBytes &&
      (sender.pendingBytes + message.length > this.maxQueueBytes || sender.pendingMessages >= this.maxQueueMessages)
    ) {
      this.stats.sendQueueRefused++;
      if (!this.queueFull) {
        this.queueFull = true;
        this.onError(
          new NetError(
            'SendQueueFull',
            `peer has not acked ${sender.pendingBytes} reliable bytes in ${sender.pendingMessages} messages ` +
              `(caps ${this.maxQueueBytes} B, ${this.maxQueueMessages} messages)`,
            { fatal: true },
          ),
        );
      }
      return sender.lastId;
    }
    return sender.enqueue(message);
  }

  /** Puts a message into the next flushed packet only; false (dropped) when it does not fit the budget. */
  sendUnreliable(message: Uint8Array): boolean {
    if (!this.isOpen) return false;
    const need = unreliableEntryBytes(message.length);
    if (this.unreliableUsed + need > this.budget) return false;
    this.unreliableUsed = writeUnreliableEntry(this.unreliableBuf, this.unreliableUsed, message);
    return true;
  }

  /** Sequence of the next flush's first packet: the one that carries every unreliable message queued before it. */
  get nextPacketSeq(): number {
    return this.sent.next;
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
    const asm = this.assembler;
    asm.begin(this.unreliableBuf.subarray(0, this.unreliableUsed));
    this.unreliableUsed = 0;
    this.sender.collectDue(now, asm.take);
    const h = this.header;
    const hasAcks = this.received.hasAny;
    h.protocolId = this.protocolId;
    h.flags = hasAcks ? PacketFlag.HasAcks : 0;
    h.ack = hasAcks ? this.received.ack : 0;
    h.ackBits = hasAcks ? this.received.ackBits() : 0;
    const rto = this.rtt.rtoMs;
    const firstSeq = this.sent.next;
    for (let p = 0; p < asm.used; p++) {
      const seq = this.sent.next;
      h.seq = seq;
      const packet = asm.finish(p, h);
      const frags = asm.fragments(p);
      this.sent.add(now, packet.length, frags.length > 0 ? frags.slice() : null, this.onSlotReused);
      for (let i = 0; i < frags.length; i++) {
        if (frags[i].sendCount > 0) this.stats.resends++;
        this.sender.onSent(frags[i], seq, now, rto);
      }
      this.stats.packetsOut++;
      this.stats.bytesOut += packet.length;
      this.link.send(packet);
    }
    return firstSeq;
  }

  /** Processes every packet received since the last call, handing messages to `handler`; never throws on bad input. */
  receive(handler: ConnectionHandler): void {
    const now = this.clock.now();
    for (let i = 0; i < this.deferredLost.length; i++) this.reportLost(this.deferredLost[i]);
    this.deferredLost.length = 0;
    const inbox = this.inbox;
    this.handler = handler;
    try {
      for (let i = 0; i < inbox.length && this.open; i++) this.processPacket(inbox[i], now, handler);
    } finally {
      this.handler = null;
      inbox.length = 0;
    }
    this.sent.sweep(now, LOST_TIMEOUT_RTOS * this.rtt.rtoMs, this.onSweptLost);
  }

  /** Closes the link; `onClose` fires when the transport reports it. */
  close(reason = 'closed'): void {
    this.open = false;
    this.release();
    this.link.close(reason);
  }

  // A closed connection may stay referenced (a suspended session keeps its last one): let go of every buffer.
  private release(): void {
    this.inbox.length = 0;
    this.sender.release();
    this.receiver.release();
    this.sent.payload.fill(null);
  }

  // A packet still pending when its slot in the sent window is reused: lost; reported at the next receive().
  private readonly onSlotReused = (seq: number, slot: number): void => {
    const frags = this.sent.payload[slot];
    if (frags) this.sender.onPacketLost(frags, seq, this.clock.now());
    this.deferredLost.push(seq);
  };

  private readonly onSweptLost = (seq: number, slot: number): void => {
    const frags = this.sent.payload[slot];
    if (frags) this.sender.onPacketLost(frags, seq, this.clock.now());
    this.reportLost(seq);
  };

  private readonly deliverReliable = (message: Uint8Array): void => {
    this.handler!.reliable(message);
  };

  private enqueueIncoming(packet: Uint8Array): void {
    if (!this.open) return;
    if (packet.length > this.link.mtuBytes) {
      // The peer never sends above the MTU; refuse to copy what can only be garbage.
      this.decodeError(`packet of ${packet.length} bytes exceeds the link MTU ${this.link.mtuBytes}`);
      return;
    }
    if (this.inbox.length >= MAX_INBOX_PACKETS) {
      this.stats.inboxDropped++;
      return;
    }
    this.inbox.push(packet.slice());
  }

  private handleClose(reason: string): void {
    this.open = false;
    this.release();
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
    // 3. Accept: apply acks, then entries in order, then record the packet as received (to be acked). Recording
    //    last means a handler that throws leaves the packet unacked, so its reliable data comes again.
    if ((h.flags & PacketFlag.HasAcks) !== 0) this.applyAcks(h.ack, h.ackBits, now);
    this.lastAcceptedAtMs = now;
    for (let pos = PACKET_HEADER_BYTES; pos < length && this.open; pos = e.next) {
      parseEntry(packet, pos, length, e);
      if (e.kind === EntryKind.Unreliable) handler.unreliable(packet.subarray(e.start, e.start + e.length), seq);
      else receiver.apply(e, packet, this.deliverReliable);
    }
    this.received.record(seq);
  }

  private applyAcks(ack: number, ackBits: number, now: number): void {
    this.sent.noteAckField(ack);
    for (let i = 31; i >= 0; i--) {
      if ((ackBits >>> i) & 1) this.ackPacket(seqAdd(ack, -1 - i), now, false);
    }
    // A late ack (of a packet already declared lost) is a round trip only when the peer acked it promptly: the
    // header's own `ack` field, while the peer's packets keep arriving (its ack delay is at most that gap). An idle
    // peer's first packet after a pause acks old packets late by the pause, not by the path.
    const prompt = now - this.lastAcceptedAtMs <= PROMPT_ACK_GAP_MS;
    this.ackPacket(ack, now, prompt);
  }

  private ackPacket(seq: number, now: number, lateIsSample: boolean): void {
    const slot = this.sent.ack(seq);
    if (slot < 0) return;
    const frags = this.sent.payload[slot];
    if (frags) {
      for (let i = 0; i < frags.length; i++) this.sender.onAcked(frags[i]);
      this.sent.payload[slot] = null;
    }
    // Packet numbers are never reused, so even the ack of a packet already declared lost measures a round trip
    // (no Karn ambiguity). Sampling it is what lets the estimate follow a sudden rise of the RTT past the loss
    // timeout: otherwise every packet would time out before its ack, and the RTT and RTO would never move again.
    if (this.sent.state[slot] !== SentState.Acked) {
      if (lateIsSample) {
        this.rtt.sample(now - this.sent.sentAtMs[slot]);
        this.counters.update(this.rtt, this.loss);
      }
      return;
    }
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
