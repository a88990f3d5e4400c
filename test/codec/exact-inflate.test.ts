/** Inflating to exactly the declared length: more (a bomb claiming a small size), less, or garbage is refused. */
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { inflateExactly } from '../../src/codec/exact-inflate.ts';

describe('inflateExactly', () => {
  const raw = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
  const packed = deflateSync(raw);

  it('returns the raw bytes when the declared length is right', () => {
    expect(inflateExactly(packed, raw.length)).toEqual(raw);
  });

  it('refuses a stream longer than declared instead of cutting it (bounded by the declaration)', () => {
    expect(inflateExactly(packed, raw.length - 1)).toBe('inflates to the wrong size');
    expect(inflateExactly(deflateSync(new Uint8Array(1_000_000)), 100)).toBe('inflates to the wrong size');
  });

  it('refuses a stream shorter than declared, and bytes that are not deflate', () => {
    expect(inflateExactly(packed, raw.length + 1)).toBe('inflates to the wrong size');
    expect(inflateExactly(new Uint8Array(16).fill(0xff), 10)).toBe('does not inflate');
  });
});
