/**
 * Bit-level writer for state bodies (snapshots, deltas, input poses).
 *
 * Bit order: MSB-first. Each byte is filled from its most significant bit (bit 7) down to bit 0, and a multi-bit value
 * is written most significant bit first. So `writeBits(0b101, 3)` then `writeBits(1, 1)` yields the byte `0b1011_0000`.
 * Multi-byte fixed-width values (u16, u32, f32, f64) therefore come out big-endian when the writer is byte-aligned.
 * The last byte is zero-padded. `BitReader` reads the same order.
 */

/** Default initial buffer size in bytes: one full MTU-sized packet (1,200 B) plus headroom, so a tick rarely grows. */
export const DEFAULT_WRITER_BYTES = 1536;

/** Largest value `writeVarUint` accepts: integers up to 2^53 - 1 stay exact in a JS number. */
export const MAX_VARUINT = Number.MAX_SAFE_INTEGER;

const TWO_POW_32 = 4294967296;

/** Reusable MSB-first bit writer over one growing Uint8Array; allocates only when it has to grow. */
export class BitWriter {
  /** Scratch for float bit patterns; big-endian via DataView, as both ends read and write them. */
  private readonly scratch = new DataView(new ArrayBuffer(8));
  private buf: Uint8Array;
  private bitPos = 0;

  constructor(initialBytes = DEFAULT_WRITER_BYTES) {
    this.buf = new Uint8Array(initialBytes > 0 ? initialBytes : 1);
  }

  /** Starts a new packet: back to 0 bits (the buffer is kept). */
  reset(): void {
    this.bitPos = 0;
  }

  /** Number of bits written so far. */
  get bitLength(): number {
    return this.bitPos;
  }

  /** Number of bytes the written bits occupy (the last one zero-padded). */
  get byteLength(): number {
    return (this.bitPos + 7) >>> 3;
  }

  /** Current capacity of the internal buffer in bytes (grows by doubling). */
  get capacity(): number {
    return this.buf.length;
  }

  /** Makes room for `bits` more bits, doubling (and copying) the buffer as often as needed. */
  private ensure(bits: number): void {
    const needBytes = (this.bitPos + bits + 7) >>> 3;
    if (needBytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needBytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.byteLength));
    this.buf = next;
  }

  /**
   * Writes the low `bits` (0..32) bits of `value` as an unsigned integer, MSB first. No loop: the bits already in
   * the current byte and the value are combined into one 32-bit word written as four bytes (the buffer keeps four
   * bytes of slack; bytes past the written bits get zeros, and a later write assigns them afresh).
   */
  writeBits(value: number, bits: number): void {
    if (bits <= 0) return;
    const pos = this.bitPos;
    const off = pos & 7;
    if (off + bits > 32) {
      // Rare (more than 24 bits at an unaligned position): the high part, then the low 16 bits.
      this.writeBits(value >>> 16, bits - 16);
      this.writeBits(value & 0xffff, 16);
      return;
    }
    if ((pos + bits + 39) >>> 3 > this.buf.length) this.ensure(bits + 32);
    const buf = this.buf;
    const index = pos >>> 3;
    const total = off + bits;
    // The top `off` bits of the current byte are written already; the rest of it is stale and dropped.
    const head = off === 0 ? 0 : (buf[index] >>> (8 - off)) << (32 - off);
    const masked = bits === 32 ? value >>> 0 : value & ((1 << bits) - 1);
    const word = head | (masked << (32 - total));
    buf[index] = word >>> 24;
    buf[index + 1] = word >>> 16;
    buf[index + 2] = word >>> 8;
    buf[index + 3] = word;
    this.bitPos = pos + bits;
  }

  /** Writes a non-negative integer of up to 53 bits (split arithmetically into high and low words). */
  writeBitsWide(value: number, bits: number): void {
    if (bits <= 32) {
      this.writeBits(value, bits);
      return;
    }
    const hi = Math.floor(value / TWO_POW_32);
    this.writeBits(hi, bits - 32);
    this.writeBits(value - hi * TWO_POW_32, 32);
  }

  /** Writes one bit: 1 for true. */
  writeBool(b: boolean): void {
    this.writeBits(b ? 1 : 0, 1);
  }

  /**
   * Writes a non-negative integer (<= 2^53 - 1) as a bit-level varint: 8-bit groups, each a continuation bit (1 = more
   * groups follow) then 7 payload bits, least significant group first. At most 8 groups.
   */
  writeVarUint(v: number): void {
    // 1. Groups above 31 bits need arithmetic, JS bit operators are 32-bit.
    while (v > 0x7fffffff) {
      const low = v % 128;
      this.writeBits(0x80 | low, 8);
      v = (v - low) / 128;
    }
    // 2. The rest fits in an int32.
    while (v > 0x7f) {
      this.writeBits(0x80 | (v & 0x7f), 8);
      v >>>= 7;
    }
    this.writeBits(v, 8);
  }

  /** Writes a signed integer in -2^52 .. 2^52 - 1 zigzag-coded (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...) as a varuint. */
  writeVarInt(v: number): void {
    this.writeVarUint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** Writes 8 bits (no alignment). */
  writeU8(v: number): void {
    this.writeBits(v, 8);
  }

  /** Writes 16 bits (no alignment). */
  writeU16(v: number): void {
    this.writeBits(v, 16);
  }

  /** Writes 32 bits (no alignment). */
  writeU32(v: number): void {
    this.writeBits(v, 32);
  }

  /** Writes the exact IEEE-754 single bit pattern of `v` (after rounding to float32), 32 bits. */
  writeF32(v: number): void {
    this.scratch.setFloat32(0, v);
    this.writeBits(this.scratch.getUint32(0), 32);
  }

  /** Writes the exact IEEE-754 double bit pattern of `v`, high word first, 64 bits. */
  writeF64(v: number): void {
    this.scratch.setFloat64(0, v);
    this.writeBits(this.scratch.getUint32(0), 32);
    this.writeBits(this.scratch.getUint32(4), 32);
  }

  /** Pads with zero bits up to the next byte boundary. */
  alignToByte(): void {
    const rem = this.bitPos & 7;
    if (rem !== 0) this.writeBits(0, 8 - rem);
  }

  /** Aligns to a byte boundary, then copies `bytes`. */
  writeBytes(bytes: Uint8Array): void {
    this.alignToByte();
    this.ensure(bytes.length * 8);
    this.buf.set(bytes, this.bitPos >>> 3);
    this.bitPos += bytes.length * 8;
  }

  /** A view of the written bytes, valid until the next reset or write (a write may grow and move the buffer). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.byteLength);
  }

  /** A copy of the written bytes that stays valid. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.byteLength);
  }
}
