import { describe, expect, it } from 'vitest';
import { hasBucket, maskOf } from '../../src/replication/bucket-mask.ts';

describe('bucket masks', () => {
  it('put buckets 0-31 in the low word and 32-63 in the high word, unsigned', () => {
    const m = maskOf((b) => b === 0 || b === 31 || b === 33 || b === 63);
    expect(m).toEqual([0x8000_0001, 0x8000_0002]);
    for (let b = 0; b < 64; b++) expect(hasBucket(m[0], m[1], b), `bucket ${b}`).toBe([0, 31, 33, 63].includes(b));
  });

  it('take at most `limit` buckets, lowest first, into the array given', () => {
    const out: [number, number] = [7, 7];
    const m = maskOf(() => true, 34, out);
    expect(m).toBe(out);
    expect(m).toEqual([0xffff_ffff, 0b11]);
    expect(maskOf(() => true, 0)).toEqual([0, 0]);
  });
});
