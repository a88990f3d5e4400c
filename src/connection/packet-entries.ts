/**
 * Framing of the entries that follow the packet header (layout documented at the top of connection.ts).
 * Every entry starts with varuint(payloadLength * 4 + kind).
 */
import { readVarUint, varUintSize, writeVarUint } from '../codec/varint.ts';

/** Entry kinds, the low 2 bits of the entry's first varuint. */
export const EntryKind = {
  /** varuint(len*4+0) | payload[len] */
  Unreliable: 0,
  /** varuint(len*4+1) | id u16 | payload[len]: a whole reliable message */
  Reliable: 1,
  /** varuint(len*4+2) | id u16 | varuint index | varuint count | payload[len]: one fragment of a reliable message */
  Fragment: 2,
  // 3 is reserved: a decode error in this version.
} as const;

/**
 * Payload bytes of every fragment but the last: a fragment entry (<= 1,032 B) plus the header fits a 1,200 B
 * packet with ~150 B to spare, so a fragment can share the first packet with a little unreliable data.
 */
export const RELIABLE_FRAGMENT_BYTES = 1024;

/** Framing bytes of an unreliable entry of `length` payload bytes: 1 below 32 B, 2 below 4,096 B. */
export function unreliableFramingBytes(length: number): number {
  return varUintSize(length * 4);
}

/** Framing bytes of an unreliable entry for any payload that fits a packet (< 4,096 B). */
export const UNRELIABLE_FRAMING_BYTES_MAX = 2;

/** Total bytes of an unreliable entry (framing + payload). */
export function unreliableEntryBytes(length: number): number {
  return varUintSize(length * 4) + length;
}

/** Total bytes of a whole reliable message entry. */
export function reliableEntryBytes(length: number): number {
  return varUintSize(length * 4 + EntryKind.Reliable) + 2 + length;
}

/** Total bytes of a fragment entry. */
export function fragmentEntryBytes(length: number, index: number, count: number): number {
  return varUintSize(length * 4 + EntryKind.Fragment) + 2 + varUintSize(index) + varUintSize(count) + length;
}

/** Writes an unreliable entry; returns the new position. The caller checked the room. */
export function writeUnreliableEntry(buf: Uint8Array, pos: number, data: Uint8Array): number {
  pos = writeVarUint(buf, pos, data.length * 4 + EntryKind.Unreliable);
  buf.set(data, pos);
  return pos + data.length;
}

/** Writes a whole reliable message or one fragment of it (`count` 0 = whole); returns the new position. */
export function writeReliableEntry(
  buf: Uint8Array,
  pos: number,
  id: number,
  index: number,
  count: number,
  data: Uint8Array,
): number {
  pos = writeVarUint(buf, pos, data.length * 4 + (count === 0 ? EntryKind.Reliable : EntryKind.Fragment));
  buf[pos] = id & 0xff;
  buf[pos + 1] = (id >>> 8) & 0xff;
  pos += 2;
  if (count !== 0) {
    pos = writeVarUint(buf, pos, index);
    pos = writeVarUint(buf, pos, count);
  }
  buf.set(data, pos);
  return pos + data.length;
}

/** One parsed entry (reused; fields are valid only until the next parse). */
export interface ParsedEntry {
  kind: number;
  /** Reliable message id (Reliable, Fragment). */
  id: number;
  /** Fragment index and count (Fragment only). */
  index: number;
  count: number;
  /** Payload position and length in the packet. */
  start: number;
  length: number;
  /** Position of the next entry. */
  next: number;
}

/** Creates a reusable parse target. */
export function createParsedEntry(): ParsedEntry {
  return { kind: 0, id: 0, index: 0, count: 0, start: 0, length: 0, next: 0 };
}

// Out-parameter of readVarUint; parsing is synchronous, so one shared instance is safe and allocation-free.
const scratch = { value: 0, pos: 0 };

/**
 * Parses the entry at `pos` of `buf[0..end)` into `out`; false when its framing is bad (truncated varuint or
 * payload, reserved kind). Checks framing only: ids, indexes and sizes are the reliable receiver's job.
 */
export function parseEntry(buf: Uint8Array, pos: number, end: number, out: ParsedEntry): boolean {
  if (!readVarUint(buf, pos, end, scratch)) return false;
  const kind = scratch.value & 3;
  const length = Math.floor(scratch.value / 4);
  pos = scratch.pos;
  out.kind = kind;
  out.id = 0;
  out.index = 0;
  out.count = 0;
  if (kind === EntryKind.Reliable || kind === EntryKind.Fragment) {
    if (pos + 2 > end) return false;
    out.id = buf[pos] | (buf[pos + 1] << 8);
    pos += 2;
    if (kind === EntryKind.Fragment) {
      if (!readVarUint(buf, pos, end, scratch)) return false;
      out.index = scratch.value;
      if (!readVarUint(buf, scratch.pos, end, scratch)) return false;
      out.count = scratch.value;
      pos = scratch.pos;
    }
  } else if (kind !== EntryKind.Unreliable) {
    return false;
  }
  if (length > end - pos) return false;
  out.start = pos;
  out.length = length;
  out.next = pos + length;
  return true;
}
