import { describe, expect, it } from 'vitest';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { createRandom } from '../../src/random.ts';

describe('BitWriter layout', () => {
  it('fills each byte from its most significant bit, values MSB first', () => {
    const w = new BitWriter();
    w.writeBits(0b101, 3);
    w.writeBits(1, 1);
    expect(w.bitLength).toBe(4);
    expect(w.byteLength).toBe(1);
    expect([...w.finish()]).toEqual([0b1011_0000]);
  });

  it('writes aligned u16/u32 big-endian and spans bytes correctly', () => {
    const w = new BitWriter();
    w.writeU16(0x1234);
    w.writeU32(0xdeadbeef);
    w.writeBits(0b1, 1);
    w.writeBits(0x1ff, 9); // crosses a byte boundary: 1 | 1111 1111 1
    expect([...w.finish()]).toEqual([0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xc0]);
  });

  it('only writes the low `bits` of the value', () => {
    const w = new BitWriter();
    w.writeBits(0xff, 4);
    w.writeBits(0, 4);
    expect([...w.finish()]).toEqual([0xf0]);
  });

  it('writes 0 bits as nothing', () => {
    const w = new BitWriter();
    w.writeBits(123, 0);
    expect(w.bitLength).toBe(0);
    expect(w.finish().length).toBe(0);
  });

  it('reuses its buffer after reset without stale bits leaking into padding', () => {
    const w = new BitWriter(4);
    w.writeU32(0xffffffff);
    w.reset();
    expect(w.bitLength).toBe(0);
    w.writeBits(1, 1);
    expect([...w.finish()]).toEqual([0x80]);
    w.writeBits(0, 7);
    w.writeBits(0b01, 2);
    expect([...w.finish()]).toEqual([0x80, 0x40]);
  });

  it('aligns with zero bits and copies bytes after aligning', () => {
    const w = new BitWriter();
    w.writeBits(1, 1);
    w.writeBytes(new Uint8Array([0xaa, 0xbb]));
    expect(w.bitLength).toBe(24);
    expect([...w.finish()]).toEqual([0x80, 0xaa, 0xbb]);
    w.alignToByte();
    expect(w.bitLength).toBe(24);
  });

  it('grows by doubling past the initial buffer and keeps what was written', () => {
    const w = new BitWriter(2);
    const rnd = createRandom(7);
    const values: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const v = rnd.int(1 << 13);
      values.push(v);
      w.writeBits(v, 13);
    }
    expect(w.capacity).toBeGreaterThanOrEqual(w.byteLength);
    expect(Math.log2(w.capacity) % 1).toBe(0);
    const r = new BitReader();
    r.reset(w.finish());
    for (const v of values) expect(r.readBits(13)).toBe(v);
    expect(r.ok).toBe(true);
    // writeBytes larger than the whole buffer
    const big = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const w2 = new BitWriter(8);
    w2.writeBits(3, 2);
    w2.writeBytes(big);
    const out = w2.finish();
    expect(out.length).toBe(100_001);
    expect(out[0]).toBe(0xc0);
    expect(out.subarray(1)).toEqual(big);
  });

  it('finish returns a view of the internal buffer, toBytes a copy', () => {
    const w = new BitWriter();
    w.writeU8(1);
    const view = w.finish();
    const copy = w.toBytes();
    w.reset();
    w.writeU8(2);
    expect(view[0]).toBe(2);
    expect(copy[0]).toBe(1);
    expect(view.buffer).not.toBe(copy.buffer);
  });

  it('matches a bit-by-bit reference on random widths, values and positions, over a reused buffer', () => {
    const rnd = createRandom(5);
    const w = new BitWriter(4);
    for (let round = 0; round < 50; round++) {
      w.reset();
      const expected: number[] = [];
      for (let k = 0; k < 200; k++) {
        const bits = rnd.int(33);
        const value = rnd.int(2 ** 16) * 65536 + rnd.int(65536);
        w.writeBits(value, bits);
        for (let b = bits - 1; b >= 0; b--) expected.push(Math.floor(value / 2 ** b) % 2);
      }
      while (expected.length % 8 !== 0) expected.push(0);
      const bytes: number[] = [];
      for (let i = 0; i < expected.length; i += 8) bytes.push(parseInt(expected.slice(i, i + 8).join(''), 2));
      expect([...w.finish()], `round ${round}`).toEqual(bytes);
    }
  });
});
