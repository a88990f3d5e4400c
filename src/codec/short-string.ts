/**
 * Short strings on the wire (the `short string` field kind of SPEC §2): UTF-8, at most a schema-given number of
 * bytes, validated before anything is kept. Layout: varuint byteLength (8-bit groups of the bit writer), then
 * byte-aligned `byteLength` bytes of well-formed UTF-8. Decoding never throws: a bad length, a truncated body or
 * malformed UTF-8 (overlong forms, surrogates, code points above U+10FFFF, stray continuation bytes) gives null.
 */
import type { BitReader } from './bit-reader.ts';
import type { BitWriter } from './bit-writer.ts';

/** Largest `maxBytes` a short string field may declare: a label or name, never a document; 1 KiB keeps one
 * change far below a snapshot chunk and the reliable lane's fragment budget. */
export const MAX_SHORT_STRING_BYTES = 1024;

/** Number of UTF-8 bytes `s` encodes to (a lone surrogate counts as U+FFFD, 3 bytes, as TextEncoder writes it). */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * The longest prefix of `s` that fits `maxBytes` UTF-8 bytes, cut on a code point boundary (never inside a
 * surrogate pair), so an application can fit user input to a field before writing it.
 */
export function fitShortString(s: string, maxBytes: number): string {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let units = 1;
    let bytes = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        units = 2;
        bytes = 4;
      }
    }
    if (n + bytes > maxBytes) return s.slice(0, i);
    n += bytes;
    i += units - 1;
  }
  return s;
}

/** True when `bytes` is well-formed UTF-8 (RFC 3629: shortest form, no surrogates, at most U+10FFFF). */
export function isWellFormedUtf8(bytes: Uint8Array): boolean {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    // 1. lead byte: sequence length and the allowed range of the second byte (excludes overlongs, surrogates,
    //    and code points above U+10FFFF)
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return false;
    if (i + len > n) return false;
    // 2. continuation bytes
    const b1 = bytes[i + 1];
    if (b1 < lo || b1 > hi) return false;
    for (let k = 2; k < len; k++) {
      const bk = bytes[i + k];
      if (bk < 0x80 || bk > 0xbf) return false;
    }
    i += len;
  }
  return true;
}

/**
 * 32-bit FNV-1a hash of the UTF-16 code units of `s` (0 for the empty string, the value a cleared shadow holds):
 * the number a short-string field stands for in the shadow copy and the state hash. Allocates nothing.
 */
export function shortStringHash(s: string): number {
  if (s.length === 0) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Bits a short string of `byteLength` bytes takes at most in a bit-packed block: varuint, alignment, bytes. */
export function shortStringMaxBits(byteLength: number): number {
  let groups = 1;
  for (let v = byteLength; v >= 128; v = Math.floor(v / 128)) groups++;
  return groups * 8 + 7 + byteLength * 8;
}

/** Encoder and decoder of short strings; one per replicator, reused (TextEncoder/TextDecoder hold no per-call state). */
export class ShortStringCodec {
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder('utf-8');

  /** UTF-8 bytes of `s`, or null when they exceed `maxBytes` (the caller reports a Usage / InvalidWrite). */
  encode(s: string, maxBytes: number): Uint8Array | null {
    if (utf8ByteLength(s) > maxBytes) return null;
    return this.encoder.encode(s);
  }

  /** Writes `bytes` (from `encode`) as a short string: 1. varuint length, 2. aligned bytes. */
  write(w: BitWriter, bytes: Uint8Array): void {
    w.writeVarUint(bytes.length);
    w.writeBytes(bytes);
  }

  /**
   * Reads a short string of at most `maxBytes`: 1. varuint length, checked against `maxBytes` and what remains
   * before reading; 2. the aligned bytes, validated as UTF-8. Null when anything is wrong (nothing thrown).
   */
  read(r: BitReader, maxBytes: number): string | null {
    const len = r.readVarUint();
    if (!r.ok || len > maxBytes || len * 8 > r.remainingBits) return null;
    const bytes = r.readBytes(len);
    if (!r.ok || !isWellFormedUtf8(bytes)) return null;
    return this.decoder.decode(bytes);
  }
}
