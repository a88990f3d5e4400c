/**
 * Sets of the 64 state-hash buckets as the wire carries them: two u32 words, the low one for buckets 0-31 and the
 * high one for buckets 32-63 (StateHash, ResyncRequest, partial snapshots).
 */
import { HASH_BUCKETS } from './state-hash.ts';

/** A bucket mask: [low word, high word], both unsigned. */
export type BucketMask = [lo: number, hi: number];

/** Whether bucket `b` (0..63) is in the mask (lo, hi). */
export function hasBucket(lo: number, hi: number, b: number): boolean {
  return ((b < 32 ? lo >>> b : hi >>> (b - 32)) & 1) === 1;
}

/**
 * The mask of the buckets for which `include` holds, lowest first, at most `limit` of them; written into `out`
 * (returned) so a caller on a hot path can reuse one.
 */
export function maskOf(include: (b: number) => boolean, limit = HASH_BUCKETS, out: BucketMask = [0, 0]): BucketMask {
  let lo = 0;
  let hi = 0;
  let left = limit;
  for (let b = 0; b < HASH_BUCKETS && left > 0; b++) {
    if (!include(b)) continue;
    if (b < 32) lo |= 1 << b;
    else hi |= 1 << (b - 32);
    left--;
  }
  out[0] = lo >>> 0;
  out[1] = hi >>> 0;
  return out;
}
