/**
 * Bit-level reader matching `BitWriter` (MSB-first: each byte from bit 7 down to bit 0, values most significant bit
 * first). Reading never throws: past the end it sets a sticky overflow flag and returns 0, so a decoder can read a
 * whole message and check `ok` once at the packet boundary.
 */

const TWO_POW_32 = 4294967296;

/** Most groups a bit-level varuint may have: 8 x 7 = 56 payload bits cover 2^53 - 1. */
export const MAX_VARUINT_GROUPS = 8;

const EMPTY = new Uint8Array(0);

/** Reusable MSB-first bit reader over a byte range; never throws, check `ok` after reading a message. */
export class BitReader {
  /** Scratch for float bit patterns; big-endian via DataView, as both ends read and write them. */
  private readonly scratch = new DataView(new ArrayBuffer(8));
  private buf: Uint8Array = EMPTY;
  private base = 0;
  private bitPos = 0;
  private bitEnd = 0;
  private overflowed = false;
  private malformed = false;

  /** Points the reader at `bytes[byteOffset .. byteOffset + byteLength)` and clears the error flags. */
  reset(bytes: Uint8Array, byteOffset = 0, byteLength = bytes.length - byteOffset): void {
    // Clamp a bad range instead of throwing: the reader then simply overflows.
    const offset = byteOffset > 0 ? Math.min(byteOffset, bytes.length) : 0;
    const length = byteLength > 0 ? Math.min(byteLength, bytes.length - offset) : 0;
    this.buf = bytes;
    this.base = offset;
    this.bitPos = 0;
    this.bitEnd = length * 8;
    this.overflowed = false;
    this.malformed = false;
  }

  /** False once any read went past the end or a value was malformed (sticky until `reset`). */
  get ok(): boolean {
    return !this.overflowed && !this.malformed;
  }

  /** True once a read went past the end (sticky until `reset`). */
  get overflow(): boolean {
    return this.overflowed;
  }

  /** Marks the message as malformed (e.g. a value out of its schema range), so `ok` turns false. */
  fail(): void {
    this.malformed = true;
  }

  /** Bits not read yet. */
  get remainingBits(): number {
    return this.bitEnd - this.bitPos;
  }

  /** Bits read so far, from the start of the range. */
  get bitPosition(): number {
    return this.bitPos;
  }

  /** Moves back (or forward) to bit `position` of the range, e.g. to read a validated body again to apply it. */
  seekBits(position: number): void {
    this.bitPos = position < 0 ? 0 : position > this.bitEnd ? this.bitEnd : position;
  }

  /** Reads `bits` (0..32) bits as an unsigned integer; 0 and overflow past the end. */
  readBits(bits: number): number {
    if (bits <= 0) return 0;
    if (this.bitPos + bits > this.bitEnd) {
      this.overflowed = true;
      this.bitPos = this.bitEnd;
      return 0;
    }
    const buf = this.buf;
    const base = this.base;
    let pos = this.bitPos;
    let remaining = bits;
    let result = 0;
    // Each pass takes the next unread high bits of one byte.
    while (remaining > 0) {
      const free = 8 - (pos & 7);
      const take = remaining < free ? remaining : free;
      const chunk = (buf[base + (pos >>> 3)] >>> (free - take)) & ((1 << take) - 1);
      result = (result << take) | chunk;
      remaining -= take;
      pos += take;
    }
    this.bitPos = pos;
    return result >>> 0;
  }

  /** Reads a non-negative integer of up to 53 bits (high word first, like `writeBitsWide`). */
  readBitsWide(bits: number): number {
    if (bits <= 32) return this.readBits(bits);
    const hi = this.readBits(bits - 32);
    return hi * TWO_POW_32 + this.readBits(32);
  }

  /** Reads one bit as a boolean. */
  readBool(): boolean {
    return this.readBits(1) === 1;
  }

  /** Reads a bit-level varuint; over 8 groups or a value above 2^53 - 1 marks the message malformed and gives 0. */
  readVarUint(): number {
    let value = 0;
    let scale = 1;
    for (let group = 0; group < MAX_VARUINT_GROUPS; group++) {
      const byte = this.readBits(8);
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (value > Number.MAX_SAFE_INTEGER) break;
        return value;
      }
      scale *= 128;
    }
    if (!this.overflowed) this.malformed = true;
    return 0;
  }

  /** Reads a zigzag-coded signed varint. */
  readVarInt(): number {
    const z = this.readVarUint();
    // z is even for v >= 0 (z = 2v) and odd for v < 0 (z = -2v - 1); arithmetic keeps 53-bit values exact.
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** Reads 8 bits. */
  readU8(): number {
    return this.readBits(8);
  }

  /** Reads 16 bits. */
  readU16(): number {
    return this.readBits(16);
  }

  /** Reads 32 bits as an unsigned integer. */
  readU32(): number {
    return this.readBits(32);
  }

  /** Reads a float32 from its exact 32-bit pattern. */
  readF32(): number {
    this.scratch.setUint32(0, this.readBits(32));
    return this.scratch.getFloat32(0);
  }

  /** Reads a float64 from its exact 64-bit pattern (high word first). */
  readF64(): number {
    const hi = this.readBits(32);
    const lo = this.readBits(32);
    this.scratch.setUint32(0, hi);
    this.scratch.setUint32(4, lo);
    return this.scratch.getFloat64(0);
  }

  /** Skips to the next byte boundary (the padding the writer added). */
  alignToByte(): void {
    const rem = this.bitPos & 7;
    if (rem !== 0) this.readBits(8 - rem);
  }

  /** Aligns, then returns a view of the next `n` bytes (empty and overflow if fewer remain); copy it to keep it. */
  readBytes(n: number): Uint8Array {
    this.alignToByte();
    if (!(n >= 0) || this.bitPos + n * 8 > this.bitEnd) {
      this.overflowed = true;
      this.bitPos = this.bitEnd;
      return EMPTY;
    }
    const start = this.base + (this.bitPos >>> 3);
    this.bitPos += n * 8;
    return this.buf.subarray(start, start + n);
  }
}
