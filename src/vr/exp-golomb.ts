/**
 * Order-k Exp-Golomb codes of zigzagged integers, for residuals that are usually small: z + 2^k is written as
 * (n - k) zero bits then its n + 1 significant bits (n = floor(log2(z + 2^k))). Reading never throws: a prefix
 * longer than `MAX_EG_ZEROS` or a read past the end marks the reader failed.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';

/** Longest prefix accepted: residuals of 16-bit quantities never need more than 20 (< 2^17 once zigzagged). */
export const MAX_EG_ZEROS = 20;

/** 0, -1, 1, -2, ... -> 0, 1, 2, 3, ... */
export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** Inverse of `zigzag`. */
export function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

function bitLength(x: number): number {
  return 32 - Math.clz32(x);
}

/** Bits of a zigzagged value in Exp-Golomb order k. */
export function egBits(v: number, k: number): number {
  const n = bitLength(zigzag(v) + (1 << k));
  return 2 * n - 1 - k;
}

/** Writes `v` zigzagged in order-k Exp-Golomb. */
export function writeEg(w: BitWriter, v: number, k: number): void {
  const x = zigzag(v) + (1 << k);
  const n = bitLength(x);
  w.writeBits(0, n - 1 - k);
  w.writeBits(x, n);
}

/** Reads an order-k Exp-Golomb value written by `writeEg` (0 and a failed reader when malformed). */
export function readEg(r: BitReader, k: number): number {
  let zeros = 0;
  while (r.readBits(1) === 0) {
    if (++zeros > MAX_EG_ZEROS || !r.ok) {
      r.fail();
      return 0;
    }
  }
  const rest = zeros + k;
  const x = (rest >= 31 ? 0 : 1 << rest) + r.readBits(rest);
  return unzigzag(x - (1 << k));
}
