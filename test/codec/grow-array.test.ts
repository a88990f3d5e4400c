import { describe, expect, it } from 'vitest';
import { capacityFor, grown } from '../../src/codec/grow-array.ts';

describe('typed-array growth', () => {
  it('doubles the capacity until the index fits', () => {
    expect(capacityFor(64, 63)).toBe(64);
    expect(capacityFor(64, 64)).toBe(128);
    expect(capacityFor(64, 1000)).toBe(1024);
    expect(capacityFor(0, 0)).toBe(1);
  });

  it('copies into a longer array of the same type, zero past the old end, and keeps one that is long enough', () => {
    const a = Float32Array.of(1.5, -2, 3);
    const b = grown(a, 8);
    expect(b).toBeInstanceOf(Float32Array);
    expect([...b]).toEqual([1.5, -2, 3, 0, 0, 0, 0, 0]);
    expect(grown(b, 8)).toBe(b);
    expect(grown(Uint16Array.of(65535), 2)).toEqual(Uint16Array.of(65535, 0));
  });
});
