/**
 * The 10-byte header every ecsync packet starts with, and u16 sequence arithmetic.
 *
 * Layout (little-endian):
 *   offset 0  u8   protocolId   rejects traffic of other protocols/versions (default 0xEC)
 *   offset 1  u16  seq          this packet's sequence number, +1 per packet, wraps at 65536
 *   offset 3  u16  ack          newest packet sequence received from the peer
 *   offset 5  u32  ackBits      bit i set = packet (ack - 1 - i) was received too
 *   offset 9  u8   flags        bit 0 HAS_ACKS (ack/ackBits are meaningful); bits 1-7 reserved, must be 0
 */

/** Bytes of the packet header. */
export const PACKET_HEADER_BYTES = 10;

/** Header flag bits (bit layout above). */
export const PacketFlag = {
  /** The sender has received at least one packet, so `ack` and `ackBits` are meaningful. */
  HasAcks: 1,
} as const;

/** Mask of the flag bits this version understands; any other bit set is a decode error. */
export const KNOWN_PACKET_FLAGS = PacketFlag.HasAcks;

/** A decoded packet header (reused by readers to avoid allocation). */
export interface PacketHeader {
  protocolId: number;
  seq: number;
  ack: number;
  ackBits: number;
  flags: number;
}

/** Creates a zeroed header to reuse across reads. */
export function createPacketHeader(): PacketHeader {
  return { protocolId: 0, seq: 0, ack: 0, ackBits: 0, flags: 0 };
}

/** Writes `header` at offset 0 of `view` (which must have room for `PACKET_HEADER_BYTES`). */
export function writePacketHeader(view: DataView, header: PacketHeader): void {
  view.setUint8(0, header.protocolId);
  view.setUint16(1, header.seq, true);
  view.setUint16(3, header.ack, true);
  view.setUint32(5, header.ackBits >>> 0, true);
  view.setUint8(9, header.flags);
}

/** Result of `readPacketHeader`. */
export const HeaderResult = {
  Ok: 0,
  TooShort: 1,
  WrongProtocol: 2,
  UnknownFlags: 3,
} as const;

/** One of the `HeaderResult` values. */
export type HeaderResultValue = (typeof HeaderResult)[keyof typeof HeaderResult];

/**
 * Reads and validates the header of a packet of `length` bytes into `out`; never throws.
 * Returns `HeaderResult.Ok` or the reason the packet must be dropped.
 */
export function readPacketHeader(
  view: DataView,
  length: number,
  protocolId: number,
  out: PacketHeader,
): HeaderResultValue {
  if (length < PACKET_HEADER_BYTES) return HeaderResult.TooShort;
  const id = view.getUint8(0);
  if (id !== protocolId) return HeaderResult.WrongProtocol;
  const flags = view.getUint8(9);
  if ((flags & ~KNOWN_PACKET_FLAGS) !== 0) return HeaderResult.UnknownFlags;
  out.protocolId = id;
  out.seq = view.getUint16(1, true);
  out.ack = view.getUint16(3, true);
  out.ackBits = view.getUint32(5, true);
  out.flags = flags;
  return HeaderResult.Ok;
}

/** Signed distance `a - b` between two u16 sequence numbers, in [-32768, 32767]. */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}

/** True when u16 sequence `a` is newer than `b`, wrap-around included. */
export function seqGreaterThan(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

/** `seq + n` wrapped to u16. */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) & 0xffff;
}
