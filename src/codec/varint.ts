/**
 * Byte-level unsigned LEB128 varints for the connection layer (message lengths, ids): 7 payload bits per byte, least
 * significant group first, the high bit set on every byte but the last. Values up to 2^53 - 1 (at most 8 bytes).
 */

/** Most bytes a varuint may take: 8 x 7 = 56 payload bits cover 2^53 - 1. */
export const MAX_VARUINT_BYTES = 8;

/** Out-parameter of `readVarUint`, reused by the caller so reading allocates nothing. */
export interface VarIntResult {
  value: number;
  pos: number;
}

/** Creates a reusable `VarIntResult`. */
export function createVarIntResult(): VarIntResult {
  return { value: 0, pos: 0 };
}

/** Number of bytes `writeVarUint` uses for `v` (a non-negative integer <= 2^53 - 1). */
export function varUintSize(v: number): number {
  let size = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

/** Writes `v` (non-negative integer <= 2^53 - 1) at `pos`; the caller guarantees room. Returns the new position. */
export function writeVarUint(buf: Uint8Array, pos: number, v: number): number {
  // 1. Groups above 31 bits need arithmetic, JS bit operators are 32-bit.
  while (v > 0x7fffffff) {
    const low = v % 128;
    buf[pos++] = 0x80 | low;
    v = (v - low) / 128;
  }
  // 2. The rest fits in an int32.
  while (v > 0x7f) {
    buf[pos++] = 0x80 | (v & 0x7f);
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/**
 * Reads a varuint from `buf[pos .. end)` into `out` (value and the position after it). Returns false, leaving `out`
 * unspecified, when the bytes run out, more than 8 bytes are used or the value exceeds 2^53 - 1. Never throws.
 */
export function readVarUint(buf: Uint8Array, pos: number, end: number, out: VarIntResult): boolean {
  if (!(pos >= 0)) return false;
  if (end > buf.length) end = buf.length;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARUINT_BYTES; i++) {
    if (pos >= end) return false;
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      if (value > Number.MAX_SAFE_INTEGER) return false;
      out.value = value;
      out.pos = pos;
      return true;
    }
    scale *= 128;
  }
  return false;
}
