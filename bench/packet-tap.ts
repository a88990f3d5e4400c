/**
 * Byte accounting for the bench: taps a link's incoming packets and splits every byte into packet header, entry
 * framing, Delta messages (their own header and their entity blocks, to the bit) and everything else.
 */
import { readMessageTag } from '../src/codec/message-frame.ts';
import { ShortStringCodec } from '../src/codec/short-string.ts';
import { EntryKind, createParsedEntry, parseEntry } from '../src/connection/packet-entries.ts';
import { PACKET_HEADER_BYTES } from '../src/connection/packet-header.ts';
import { Tag } from '../src/protocol/tags.ts';
import type { RegisteredComponent } from '../src/register.ts';
import { openDelta } from '../src/replication/delta-packer.ts';
import type { DeltaInfo } from '../src/replication/delta-packer.ts';
import { ClientBaselineDecoder } from '../src/replication/client-baseline-decoder.ts';
import { fieldOffsets, readEntityBlock } from '../src/replication/entity-block.ts';
import { BitReader } from '../src/replication/wire-bodies.ts';
import { readPositive } from '../src/replication/positive-code.ts';
import type { Link } from '../src/transport/transport.ts';

/** Bits of one Delta message, split. */
export interface DeltaBits {
  /** Entities in the message. */
  entities: number;
  /** u16 tag + tick + dependsOn + count: shared by every entity of the message. */
  headerBits: number;
  /** Network-id gaps, presence bits, field masks and field values of every entity. */
  entityBits: number;
  /** Zero bits padding the last byte. */
  paddingBits: number;
}

/** Receives each entity of a parsed Delta: its network id and the bits of its block (id gap included). */
export type DeltaEntityHook = (netId: number, bits: number) => void;

/**
 * Splits a framed Delta message (tag included) into its header, entity blocks and padding; null when malformed.
 * `onEntity`, when given, sees every entity of a well-formed message. `ackedBaseline`: BaselineDeltas may come
 * (server-to-client under the `ackedbase2` capability: Exp-Golomb id gaps, a mode bit per quantized component;
 * residuals are read past, not decoded, so their exact bits count).
 */
export function createDeltaParser(
  comps: readonly RegisteredComponent[],
  ackedBaseline = true,
): (message: Uint8Array, onEntity?: DeltaEntityHook | null) => DeltaBits | null {
  const dec = ackedBaseline ? new ClientBaselineDecoder(comps) : undefined;
  const r = new BitReader();
  const info: DeltaInfo = { tick: 0, dependsOn: 0, count: 0 };
  const { offsets, total } = fieldOffsets(comps);
  const present = new Uint8Array(comps.length);
  const masks = new Uint32Array(comps.length);
  const values = new Float64Array(Math.max(1, total));
  const text = { codec: new ShortStringCodec(), strings: new Array<string>(Math.max(1, total)).fill('') };
  return (message, onEntity) => {
    if (!openDelta(r, message, info)) return null;
    const headerEnd = r.bitPosition;
    // A CoarseDelta's entities carry a level code after their id gap (the code counts as the entity's bits).
    const shiftOf = () => (info.coarse !== true ? 0 : r.readBits(1) === 0 ? 0 : r.readBits(2) + 1);
    // A BaselineDelta: Exp-Golomb gaps after the first id, mode bits on residual-capable components.
    const baseline = info.baseline === true && dec !== undefined;
    const idOf = (i: number) => (baseline && i > 0 ? readPositive(r) : r.readVarUint());
    dec?.begin(info.refAge ?? 0);
    for (let i = 0; i < info.count; i++) {
      idOf(i);
      const shift = shiftOf();
      if (!readEntityBlock(r, comps, offsets, present, masks, values, text, shift, baseline ? dec : undefined))
        return null;
    }
    if (!r.ok) return null;
    if (onEntity) {
      // 2nd pass over a valid body: report each entity's id and size.
      r.seekBits(headerEnd);
      let netId = 0;
      for (let i = 0; i < info.count; i++) {
        const start = r.bitPosition;
        netId += idOf(i);
        const shift = shiftOf();
        readEntityBlock(r, comps, offsets, present, masks, values, text, shift, baseline ? dec : undefined);
        onEntity(netId, r.bitPosition - start);
      }
    }
    const bodyBits = (message.length - 2) * 8;
    return {
      entities: info.count,
      headerBits: 16 + headerEnd,
      entityBits: r.bitPosition - headerEnd,
      paddingBits: bodyBits - r.bitPosition,
    };
  };
}

/** Running totals of a tapped link. */
export interface TapCounts {
  packets: number;
  bytes: number;
  /** 10-byte packet headers (protocol id, seq, ack, ack bits, flags). */
  packetHeaderBytes: number;
  /** Entry framing (length varuints, reliable ids and fragment indexes). */
  framingBytes: number;
  deltaMessages: number;
  deltaBytes: number;
  deltaEntities: number;
  deltaHeaderBits: number;
  deltaEntityBits: number;
  deltaPaddingBits: number;
  /** Payload bytes of every other message (reliable or not). */
  otherMessageBytes: number;
}

function zeroCounts(): TapCounts {
  return {
    packets: 0,
    bytes: 0,
    packetHeaderBytes: 0,
    framingBytes: 0,
    deltaMessages: 0,
    deltaBytes: 0,
    deltaEntities: 0,
    deltaHeaderBits: 0,
    deltaEntityBits: 0,
    deltaPaddingBits: 0,
    otherMessageBytes: 0,
  };
}

/** A tap on a link's incoming packets. */
export interface PacketTap {
  /** Counts since the last `reset`. */
  readonly counts: TapCounts;
  /** Counting on or off (packets are always passed on). */
  enabled: boolean;
  /** Sees every Delta entity counted. */
  onEntity: DeltaEntityHook | null;
  reset(): void;
}

/**
 * Wraps `link.onpacket` (set it up after the connection took the link) so every incoming packet is counted before
 * the connection sees it. Malformed packets are counted as bytes only.
 */
export function tapIncoming(link: Link, comps: readonly RegisteredComponent[]): PacketTap {
  const inner = link.onpacket;
  if (inner === null) throw new Error('tapIncoming: the link has no packet handler yet');
  const parseDelta = createDeltaParser(comps);
  const entry = createParsedEntry();
  const tap: PacketTap = {
    counts: zeroCounts(),
    enabled: true,
    onEntity: null,
    reset() {
      Object.assign(tap.counts, zeroCounts());
    },
  };
  link.onpacket = (packet) => {
    if (tap.enabled) count(tap.counts, packet);
    inner(packet);
  };
  function count(c: TapCounts, packet: Uint8Array): void {
    c.packets++;
    c.bytes += packet.length;
    if (packet.length < PACKET_HEADER_BYTES) return;
    c.packetHeaderBytes += PACKET_HEADER_BYTES;
    for (let pos = PACKET_HEADER_BYTES; pos < packet.length; pos = entry.next) {
      if (!parseEntry(packet, pos, packet.length, entry)) return;
      c.framingBytes += entry.start - pos;
      const message = packet.subarray(entry.start, entry.start + entry.length);
      const delta =
        entry.kind === EntryKind.Unreliable &&
        (readMessageTag(message) === Tag.Delta ||
          readMessageTag(message) === Tag.CoarseDelta ||
          readMessageTag(message) === Tag.BaselineDelta)
          ? parseDelta(message, tap.onEntity)
          : null;
      if (delta === null) {
        c.otherMessageBytes += entry.length;
        continue;
      }
      c.deltaMessages++;
      c.deltaBytes += entry.length;
      c.deltaEntities += delta.entities;
      c.deltaHeaderBits += delta.headerBits;
      c.deltaEntityBits += delta.entityBits;
      c.deltaPaddingBits += delta.paddingBits;
    }
  }
  return tap;
}
