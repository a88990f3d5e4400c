/**
 * The receiving side of a connection: validates each incoming packet whole (header, duplicate check, every entry)
 * before applying any of it, then applies its acks and entries in order and records it to be acked.
 */
import type { ConnectionStats } from './connection-stats.ts';
import type { ConnectionHandler } from './connection-options.ts';
import { ReceivedKind, ReceivedPacketWindow } from './ack-window.ts';
import {
  HeaderResult,
  PACKET_HEADER_BYTES,
  PacketFlag,
  createPacketHeader,
  readPacketHeader,
} from './packet-header.ts';
import { EntryKind, createParsedEntry, parseEntry } from './packet-entries.ts';
import { EntryCheck } from './reliable-receiver.ts';
import type { ReliableReceiver } from './reliable-receiver.ts';
import type { SentPacketAcks } from './sent-packet-acks.ts';

/** What the intake needs from its connection: whether it is still open, and where decode errors go. */
export interface PacketIntakeHost {
  isOpen(): boolean;
  decodeError(message: string, code?: 'DecodeError' | 'Oversize'): void;
}

/** Processes one connection's received packets. */
export class PacketIntake {
  /** Received packet sequences, the source of the acks this side sends. */
  readonly received = new ReceivedPacketWindow();

  private readonly protocolId: number;
  private readonly receiver: ReliableReceiver;
  private readonly acks: SentPacketAcks;
  private readonly stats: ConnectionStats;
  private readonly host: PacketIntakeHost;
  private readonly header = createPacketHeader();
  private readonly entry = createParsedEntry();
  private handler: ConnectionHandler | null = null;

  constructor(
    protocolId: number,
    receiver: ReliableReceiver,
    acks: SentPacketAcks,
    stats: ConnectionStats,
    host: PacketIntakeHost,
  ) {
    this.protocolId = protocolId;
    this.receiver = receiver;
    this.acks = acks;
    this.stats = stats;
    this.host = host;
  }

  /** Sets the handler that reliable messages are delivered to until `end()`. */
  begin(handler: ConnectionHandler): void {
    this.handler = handler;
  }

  /** Lets go of the handler after a `receive()`. */
  end(): void {
    this.handler = null;
  }

  private readonly deliverReliable = (message: Uint8Array): void => {
    this.handler!.reliable(message);
  };

  /** Validates one received packet whole, then applies it: acks, entries in order, then records it for acking. */
  process(packet: Uint8Array, now: number, handler: ConnectionHandler): void {
    const length = packet.length;
    this.stats.packetsIn++;
    this.stats.bytesIn += length;
    // 1. Header.
    const h = this.header;
    const view = new DataView(packet.buffer, packet.byteOffset, length);
    const headerResult = readPacketHeader(view, length, this.protocolId, h);
    if (headerResult !== HeaderResult.Ok) {
      this.host.decodeError(
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
        this.host.decodeError(`bad entry framing at byte ${pos} of packet ${seq}`);
        return;
      }
      if (e.kind === EntryKind.Unreliable) continue;
      const verdict = receiver.check(e);
      if (verdict === EntryCheck.Bad) {
        this.host.decodeError(`bad reliable entry (id ${e.id}, fragment ${e.index}/${e.count}) in packet ${seq}`);
        return;
      }
      if (verdict === EntryCheck.Oversize) {
        this.host.decodeError(`reliable message ${e.id} claims more than the size limit`, 'Oversize');
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
    if ((h.flags & PacketFlag.HasAcks) !== 0) this.acks.applyAcks(h.ack, h.ackBits, now);
    this.acks.noteAccepted(now);
    for (let pos = PACKET_HEADER_BYTES; pos < length && this.host.isOpen(); pos = e.next) {
      parseEntry(packet, pos, length, e);
      if (e.kind === EntryKind.Unreliable) handler.unreliable(packet.subarray(e.start, e.start + e.length), seq);
      else receiver.apply(e, packet, this.deliverReliable);
    }
    this.received.record(seq);
  }
}
