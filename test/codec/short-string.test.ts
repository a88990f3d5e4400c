import { describe, expect, it } from 'vitest';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { fitShortString, isWellFormedUtf8, ShortStringCodec, utf8ByteLength } from '../../src/codec/short-string.ts';
import { createRandom } from '../../src/random.ts';

const codec = new ShortStringCodec();
const fatal = new TextDecoder('utf-8', { fatal: true });

function readerOf(bytes: Uint8Array): BitReader {
  const r = new BitReader();
  r.reset(bytes);
  return r;
}

/** The platform's strict decoder as the oracle of well-formedness. */
function platformAccepts(bytes: Uint8Array): boolean {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

describe('short string codec', () => {
  const samples = ['', 'a', 'Alice', 'café', 'Ω≈ç√', '日本語のラベル', '🎉 party 🦄', 'x'.repeat(64)];

  it('round-trips ASCII, accents, CJK and astral code points after unaligned bits', () => {
    for (const s of samples) {
      const w = new BitWriter();
      w.writeBits(5, 3); // the field sits inside a bit-packed block
      const bytes = codec.encode(s, 255)!;
      codec.write(w, bytes);
      w.writeBits(1, 1);
      const r = readerOf(w.toBytes());
      expect(r.readBits(3)).toBe(5);
      expect(codec.read(r, 255)).toBe(s);
      expect(r.readBits(1)).toBe(1);
      expect(r.ok).toBe(true);
    }
  });

  it('counts UTF-8 bytes as TextEncoder does, lone surrogates included', () => {
    const enc = new TextEncoder();
    for (const s of [...samples, '\ud800', 'a\udc00b', '\ud83d']) expect(utf8ByteLength(s)).toBe(enc.encode(s).length);
  });

  it('refuses to encode over maxBytes, and fitShortString cuts on code point boundaries', () => {
    expect(codec.encode('abcd', 3)).toBeNull();
    expect(codec.encode('abc', 3)).not.toBeNull();
    expect(codec.encode('é', 1)).toBeNull();
    expect(fitShortString('abcdef', 4)).toBe('abcd');
    expect(fitShortString('aé', 2)).toBe('a');
    expect(fitShortString('🎉🎉', 7)).toBe('🎉');
    expect(fitShortString('🎉🎉', 8)).toBe('🎉🎉');
    for (const s of samples)
      for (let max = 0; max <= 30; max++) {
        const fit = fitShortString(s, max);
        expect(utf8ByteLength(fit)).toBeLessThanOrEqual(max);
        expect(s.startsWith(fit)).toBe(true);
      }
  });

  it('decodes as null, never throws, on over-length, truncation and malformed UTF-8', () => {
    const w = new BitWriter();
    codec.write(w, new TextEncoder().encode('hello'));
    const ok = w.toBytes();
    expect(codec.read(readerOf(ok), 5)).toBe('hello');
    expect(codec.read(readerOf(ok), 4)).toBeNull(); // longer than the schema allows
    expect(codec.read(readerOf(ok.subarray(0, 4)), 5)).toBeNull(); // truncated
    const bad = [
      [0xc0, 0x80], // overlong NUL
      [0xe0, 0x80, 0x80], // overlong
      [0xed, 0xa0, 0x80], // surrogate U+D800
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0x80], // stray continuation
      [0xe2, 0x82], // truncated sequence
      [0xff],
    ];
    for (const b of bad) {
      const bytes = new Uint8Array(b);
      expect(isWellFormedUtf8(bytes)).toBe(false);
      const bw = new BitWriter();
      codec.write(bw, bytes);
      expect(codec.read(readerOf(bw.toBytes()), 16)).toBeNull();
    }
  });

  it('fuzz: agrees with the platform fatal decoder on random bytes and never throws', () => {
    const rnd = createRandom(1414);
    let accepted = 0;
    for (let n = 0; n < 20000; n++) {
      const len = rnd.int(8);
      const bytes = new Uint8Array(len);
      // Bias towards the interesting lead and continuation ranges.
      for (let i = 0; i < len; i++) bytes[i] = rnd.int(3) === 0 ? 0x80 + rnd.int(0x40) : 0x70 + rnd.int(0x90);
      const mine = isWellFormedUtf8(bytes);
      expect(mine).toBe(platformAccepts(bytes));
      if (mine) accepted++;
      // The length prefix is random too: anything goes, nothing throws.
      const r = readerOf(bytes);
      const s = codec.read(r, 6);
      if (s !== null) expect(utf8ByteLength(s)).toBeLessThanOrEqual(6);
    }
    expect(accepted).toBeGreaterThan(100);
  });
});
