/**
 * The BaselineDelta's code for integers >= 1 that are usually small: its network-id gaps (ascending ids, so each
 * gap is at least 1) and its residuals' baseline ages (`age - refAge + 1`). `v` as an unsigned order-0
 * Exp-Golomb code of `v - 1` (`n - 1` zero bits, then `v` in its `n` significant bits): 1 costs one bit, 2-3
 * three bits, 4-7 five. A value past `MAX_DIRECT_POSITIVE` is the escape code of `MAX_DIRECT_POSITIVE + 1`
 * (16 zeros, 17 bits) followed by a varuint of the rest, so any value stays codable and a reader never loops long.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';

/** Largest value coded directly; larger ones take the escape code and a varuint. */
export const MAX_DIRECT_POSITIVE = 65535;

/** Zero bits before the escape code's significant bits; a longer prefix is malformed. */
const ESCAPE_ZEROS = 16;

/** Bits of `gap` (an integer >= 1). */
export function positiveBits(gap: number): number {
  if (gap > MAX_DIRECT_POSITIVE) {
    // The escape, then the rest as a varuint (8-bit groups of 7 value bits).
    let bits = 2 * ESCAPE_ZEROS + 1 + 8;
    for (let rest = gap - MAX_DIRECT_POSITIVE - 1; rest >= 128; rest = Math.floor(rest / 128)) bits += 8;
    return bits;
  }
  return 2 * (31 - Math.clz32(gap)) + 1;
}

/** Writes `gap` (an integer >= 1). */
export function writePositive(w: BitWriter, gap: number): void {
  if (gap > MAX_DIRECT_POSITIVE) {
    w.writeBits(0, ESCAPE_ZEROS);
    w.writeBits(MAX_DIRECT_POSITIVE + 1, ESCAPE_ZEROS + 1);
    w.writeVarUint(gap - MAX_DIRECT_POSITIVE - 1);
    return;
  }
  const n = 32 - Math.clz32(gap);
  w.writeBits(0, n - 1);
  w.writeBits(gap, n);
}

/** Reads a value written by `writePositive`: >= 1, or 0 with the reader failed when malformed or truncated. */
export function readPositive(r: BitReader): number {
  let zeros = 0;
  while (r.readBits(1) === 0) {
    if (++zeros > ESCAPE_ZEROS || !r.ok) {
      r.fail();
      return 0;
    }
  }
  const gap = zeros === 0 ? 1 : 2 ** zeros + r.readBits(zeros);
  if (zeros < ESCAPE_ZEROS) return r.ok ? gap : 0;
  // The escape: only MAX_DIRECT_POSITIVE + 1 is valid here, then the rest.
  if (gap !== MAX_DIRECT_POSITIVE + 1) {
    r.fail();
    return 0;
  }
  const rest = r.readVarUint();
  return r.ok ? gap + rest : 0;
}
