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
import type { Link } from '../transport/transport.ts';
import type { ReceivedPacketWindow } from './ack-window.ts';
import type { SentPacketWindow } from './ack-window.ts';
import type { RttEstimator } from './link-estimator.ts';
import { PacketAssembler } from './packet-assembler.ts';
import { PacketFlag, createPacketHeader } from './packet-header.ts';
import { UnreliableStage } from './unreliable-stage.ts';
import { SendQueueCap } from './send-queue-cap.ts';
import { ReliableReceiver } from './reliable-receiver.ts';
import { ReliableSender } from './reliable-sender.ts';
import type { OutgoingFragment } from './reliable-sender.ts';
import { ConnectionCounters } from './connection-stats.ts';
import type { ConnectionStats } from './connection-stats.ts';
import { LOST_TIMEOUT_RTOS, MAX_INBOX_PACKETS } from './connection-options.ts';
import { SentPacketAcks } from './sent-packet-acks.ts';
import { PacketIntake } from './packet-intake.ts';
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
  private readonly received: ReceivedPacketWindow;
  private readonly intake: PacketIntake;
  private readonly acks: SentPacketAcks;
  private readonly sent: SentPacketWindow<OutgoingFragment[]>;
  private readonly rtt: RttEstimator;
  private readonly sender: ReliableSender;
  private readonly receiver: ReliableReceiver;
  private readonly maxMessageBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly queueCap: SendQueueCap;
  private readonly unreliable: UnreliableStage;
  private readonly assembler: PacketAssembler;
  private readonly header = createPacketHeader();

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
    this.sender = new ReliableSender(maxMessage, window);
    this.maxMessageBytes = maxMessage;
    this.maxBufferedBytes = 2 * window + ReliableReceiver.heldBytes(maxMessage);
    this.receiver = new ReliableReceiver(maxMessage, this.maxBufferedBytes);
    this.unreliable = new UnreliableStage(this.budget);
    this.assembler = new PacketAssembler(mtu, this.maxPackets);
    this.counters = new ConnectionCounters();
    this.stats = this.counters.stats;
    this.queueCap = new SendQueueCap(limits.maxQueueBytes, limits.maxQueueMessages, this.stats, this.onError);
    this.acks = new SentPacketAcks(this, this.sender, this.counters, this.clock);
    this.sent = this.acks.sent;
    this.rtt = this.acks.rtt;
    this.intake = new PacketIntake(this.protocolId, this.receiver, this.acks, this.stats, {
      isOpen: () => this.open,
      decodeError: (message, code) => this.decodeError(message, code),
    });
    this.received = this.intake.received;
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

  /** True once our reliable message `id` and every one before it were acked by the peer. */
  isReliableAcked(id: number): boolean {
    return this.sender.isReleased(id);
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
    return this.queueCap.full;
  }

  /**
   * Copies and queues a reliable message; returns its u16 id. Throws `Oversize` above maxReliableMessageBytes.
   * When the queue is at its cap (maxReliableQueueBytes / maxReliableQueueMessages) the message is refused and
   * counted, `SendQueueFull` is reported once, and the last id is returned: the stream to this peer is broken,
   * and the session disconnects it.
   */
  sendReliable(message: Uint8Array): number {
    const sender = this.sender;
    if (message.length <= this.maxMessageBytes && this.queueCap.refuses(sender, message.length)) return sender.lastId;
    return sender.enqueue(message);
  }

  /** Puts a message into the next flushed packet only; false (dropped) when it does not fit the budget. */
  sendUnreliable(message: Uint8Array): boolean {
    if (!this.isOpen) return false;
    return this.unreliable.add(message);
  }

  /** Sequence of the next flush's first packet: the one that carries every unreliable message queued before it. */
  get nextPacketSeq(): number {
    return this.sent.next;
  }

  /** Largest payload one more `sendUnreliable` accepts before the next flush (its framing already deducted). */
  unreliableSpaceBytes(): number {
    return this.unreliable.spaceBytes();
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
    asm.begin(this.unreliable.take());
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
      this.sent.add(now, packet.length, frags.length > 0 ? frags.slice() : null, this.acks.onSlotReused);
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
    this.acks.reportDeferred();
    const inbox = this.inbox;
    const intake = this.intake;
    intake.begin(handler);
    try {
      for (let i = 0; i < inbox.length && this.open; i++) intake.process(inbox[i], now, handler);
    } finally {
      intake.end();
      inbox.length = 0;
    }
    this.sent.sweep(now, LOST_TIMEOUT_RTOS * this.rtt.rtoMs, this.acks.onSweptLost);
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
}
