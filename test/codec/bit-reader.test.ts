import { describe, expect, it } from 'vitest';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { createRandom } from '../../src/random.ts';

function readerOf(w: BitWriter): BitReader {
  const r = new BitReader();
  r.reset(w.toBytes());
  return r;
}

/** Bit pattern of a float64 as a hex string, to compare NaNs and -0 exactly. */
function f64Bits(v: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  return dv.getBigUint64(0).toString(16);
}

function f32Bits(v: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v);
  return dv.getUint32(0);
}

describe('BitWriter/BitReader round trips', () => {
  it('readBits/writeBits at every width and boundary', () => {
    const w = new BitWriter();
    const cases: [number, number][] = [];
    for (let bits = 1; bits <= 32; bits++) {
      const max = 2 ** bits - 1;
      cases.push([0, bits], [max, bits], [Math.floor(max / 2), bits], [1, bits]);
    }
    for (const [v, b] of cases) w.writeBits(v, b);
    const r = readerOf(w);
    for (const [v, b] of cases) expect(r.readBits(b)).toBe(v);
    expect(r.ok).toBe(true);
    expect(r.remainingBits).toBeLessThan(8);
  });

  it('32-bit values come back unsigned', () => {
    const w = new BitWriter();
    w.writeBits(-1, 32);
    w.writeU32(0x80000000);
    const r = readerOf(w);
    expect(r.readBits(32)).toBe(0xffffffff);
    expect(r.readU32()).toBe(0x80000000);
  });

  it('readBitsWide/writeBitsWide up to 53 bits', () => {
    const w = new BitWriter();
    const cases: [number, number][] = [
      [0, 53],
      [Number.MAX_SAFE_INTEGER, 53],
      [2 ** 52, 53],
      [2 ** 32, 33],
      [2 ** 33 - 1, 33],
      [2 ** 47 - 1, 47],
      [123456789012, 40],
      [0xffffffff, 32],
      [5, 3],
    ];
    w.writeBits(1, 1); // misalign on purpose
    for (const [v, b] of cases) w.writeBitsWide(v, b);
    const r = readerOf(w);
    expect(r.readBits(1)).toBe(1);
    for (const [v, b] of cases) expect(r.readBitsWide(b)).toBe(v);
    expect(r.ok).toBe(true);
  });

  it('bools, u8, u16, u32', () => {
    const w = new BitWriter();
    w.writeBool(true);
    w.writeBool(false);
    w.writeU8(255);
    w.writeU16(65535);
    w.writeU16(0);
    w.writeU32(4294967295);
    w.writeU8(0);
    const r = readerOf(w);
    expect(r.readBool()).toBe(true);
    expect(r.readBool()).toBe(false);
    expect(r.readU8()).toBe(255);
    expect(r.readU16()).toBe(65535);
    expect(r.readU16()).toBe(0);
    expect(r.readU32()).toBe(4294967295);
    expect(r.readU8()).toBe(0);
    expect(r.ok).toBe(true);
  });

  it('varuints at group boundaries up to 2^53 - 1', () => {
    const values = [0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32];
    values.push(2 ** 49 - 1, 2 ** 49, 2 ** 52, Number.MAX_SAFE_INTEGER);
    const w = new BitWriter();
    for (const v of values) {
      w.writeBits(0, 3); // misalign
      w.writeVarUint(v);
    }
    const r = readerOf(w);
    for (const v of values) {
      r.readBits(3);
      expect(r.readVarUint()).toBe(v);
    }
    expect(r.ok).toBe(true);
  });

  it('varuint sizes are 8 bits per 7 payload bits', () => {
    const w = new BitWriter();
    w.writeVarUint(127);
    expect(w.bitLength).toBe(8);
    w.reset();
    w.writeVarUint(128);
    expect(w.bitLength).toBe(16);
    w.reset();
    w.writeVarUint(Number.MAX_SAFE_INTEGER);
    expect(w.bitLength).toBe(64);
  });

  it('zigzag varints, negative and positive', () => {
    const values = [
      0,
      -1,
      1,
      -2,
      2,
      -64,
      63,
      -65,
      64,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 40,
      -(2 ** 40),
      2 ** 52 - 1,
      -(2 ** 52),
    ];
    const w = new BitWriter();
    for (const v of values) w.writeVarInt(v);
    const r = readerOf(w);
    for (const v of values) expect(r.readVarInt()).toBe(v);
    expect(r.ok).toBe(true);
    w.reset();
    w.writeVarInt(-1);
    expect([...w.finish()]).toEqual([1]);
    w.reset();
    w.writeVarInt(-0);
    expect(Object.is(readerOf(w).readVarInt(), 0)).toBe(true);
  });

  it('f32 and f64 keep exact bit patterns, including NaN, infinities, -0 and subnormals', () => {
    const f64s = [0, -0, 1.5, -1e-310, Number.MIN_VALUE, Number.MAX_VALUE, Infinity, -Infinity, NaN, Math.PI];
    const f32s = [0, -0, 1.5, 1e-45, -3.4028234663852886e38, Infinity, -Infinity, NaN, 0.1];
    const w = new BitWriter();
    w.writeBits(1, 5);
    for (const v of f64s) w.writeF64(v);
    for (const v of f32s) w.writeF32(v);
    const r = readerOf(w);
    r.readBits(5);
    for (const v of f64s) expect(f64Bits(r.readF64())).toBe(f64Bits(v));
    for (const v of f32s) expect(f32Bits(r.readF32())).toBe(f32Bits(Math.fround(v)));
    expect(r.ok).toBe(true);
  });

  it('f32 raw NaN payload written as u32 reads back as NaN', () => {
    const w = new BitWriter();
    w.writeU32(0x7fc00001);
    w.writeU32(0xff800000);
    const r = readerOf(w);
    expect(r.readF32()).toBeNaN();
    expect(r.readF32()).toBe(-Infinity);
  });

  it('bytes are aligned views', () => {
    const w = new BitWriter();
    w.writeBits(1, 3);
    w.writeBytes(new Uint8Array([9, 8, 7]));
    w.writeBits(2, 2);
    const r = readerOf(w);
    expect(r.readBits(3)).toBe(1);
    const view = r.readBytes(3);
    expect([...view]).toEqual([9, 8, 7]);
    expect(r.bitPosition).toBe(32);
    expect(r.readBits(2)).toBe(2);
    expect(r.ok).toBe(true);
  });

  it('thousands of seeded mixed random operations round trip', () => {
    const rnd = createRandom(12345);
    const w = new BitWriter(16);
    const ops: [number, number, number][] = []; // [kind, value, bits]
    for (let i = 0; i < 20_000; i++) {
      const kind = rnd.int(6);
      if (kind === 0) {
        const bits = rnd.int(33);
        const v = bits === 0 ? 0 : Math.floor(rnd.next() * 2 ** bits);
        ops.push([kind, v, bits]);
        w.writeBits(v, bits);
      } else if (kind === 1) {
        const bits = 33 + rnd.int(21);
        const v = Math.floor(rnd.next() * 2 ** bits);
        ops.push([kind, v, bits]);
        w.writeBitsWide(v, bits);
      } else if (kind === 2) {
        const v = Math.floor(rnd.next() * 2 ** rnd.int(54));
        ops.push([kind, v, 0]);
        w.writeVarUint(v);
      } else if (kind === 3) {
        const mag = Math.floor(rnd.next() * 2 ** rnd.int(52));
        const v = rnd.next() < 0.5 ? -mag : mag;
        ops.push([kind, v, 0]);
        w.writeVarInt(v);
      } else if (kind === 4) {
        const v = Math.fround(rnd.gaussian() * 1000);
        ops.push([kind, v, 0]);
        w.writeF32(v);
      } else {
        const v = rnd.gaussian() * 1e9;
        ops.push([kind, v, 0]);
        w.writeF64(v);
      }
    }
    const r = readerOf(w);
    for (const [kind, v, bits] of ops) {
      const got =
        kind === 0
          ? r.readBits(bits)
          : kind === 1
            ? r.readBitsWide(bits)
            : kind === 2
              ? r.readVarUint()
              : kind === 3
                ? r.readVarInt()
                : kind === 4
                  ? r.readF32()
                  : r.readF64();
      if (!Object.is(got, v) && !(kind === 3 && got === 0 && v === 0)) expect(got).toBe(v);
    }
    expect(r.ok).toBe(true);
    expect(r.remainingBits).toBe(w.byteLength * 8 - w.bitLength);
  });
});

describe('BitReader bad input', () => {
  it('reading past the end sets a sticky overflow and returns 0, never throws', () => {
    const r = new BitReader();
    r.reset(new Uint8Array([0xff]));
    expect(r.readBits(4)).toBe(15);
    expect(r.readBits(5)).toBe(0);
    expect(r.ok).toBe(false);
    expect(r.overflow).toBe(true);
    expect(r.remainingBits).toBe(0);
    expect(r.readBits(1)).toBe(0);
    expect(r.readF64()).toBe(0);
    expect(r.readVarUint()).toBe(0);
    expect(r.readBytes(1).length).toBe(0);
    expect(r.ok).toBe(false);
    r.reset(new Uint8Array([1]));
    expect(r.ok).toBe(true);
    expect(r.readU8()).toBe(1);
  });

  it('readBytes past the end overflows with an empty view', () => {
    const r = new BitReader();
    r.reset(new Uint8Array([1, 2, 3]));
    expect(r.readBytes(4).length).toBe(0);
    expect(r.ok).toBe(false);
    r.reset(new Uint8Array([1, 2, 3]));
    expect(r.readBytes(-1).length).toBe(0);
    expect(r.ok).toBe(false);
  });

  it('respects byteOffset and byteLength, and clamps a bad range', () => {
    const bytes = new Uint8Array([0xaa, 0x12, 0x34, 0xbb]);
    const r = new BitReader();
    r.reset(bytes, 1, 2);
    expect(r.readU16()).toBe(0x1234);
    expect(r.readBits(1)).toBe(0);
    expect(r.ok).toBe(false);
    r.reset(bytes, 10, 5);
    expect(r.remainingBits).toBe(0);
    r.reset(bytes, 2, 100);
    expect(r.remainingBits).toBe(16);
    r.reset(bytes, -3);
    expect(r.readU8()).toBe(0xaa);
  });

  it('varuint with more than 8 groups or above 2^53 - 1 is malformed', () => {
    const r = new BitReader();
    r.reset(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]));
    expect(r.readVarUint()).toBe(0);
    expect(r.ok).toBe(false);
    expect(r.overflow).toBe(false);
    // 8 groups whose last carries 2^53: 7 zero groups then payload 16 at shift 49.
    r.reset(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]));
    expect(r.readVarUint()).toBe(0);
    expect(r.ok).toBe(false);
    // 2^53 - 1 itself is fine.
    r.reset(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(r.readVarUint()).toBe(Number.MAX_SAFE_INTEGER);
    expect(r.ok).toBe(true);
  });

  it('truncated varuint overflows', () => {
    const r = new BitReader();
    r.reset(new Uint8Array([0x80, 0x80]));
    expect(r.readVarUint()).toBe(0);
    expect(r.overflow).toBe(true);
  });

  it('fail() marks the message malformed until reset', () => {
    const r = new BitReader();
    r.reset(new Uint8Array([1]));
    r.fail();
    expect(r.ok).toBe(false);
    r.reset(new Uint8Array([1]));
    expect(r.ok).toBe(true);
  });

  it('random reads over random bytes never throw and never read outside the range', () => {
    const rnd = createRandom(99);
    const r = new BitReader();
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(rnd.int(20)).map(() => rnd.int(256));
      const start = rnd.int(bytes.length + 1);
      r.reset(bytes, start, rnd.int(bytes.length - start + 1));
      const total = r.remainingBits;
      for (let k = 0; k < 12; k++) {
        const op = rnd.int(5);
        if (op === 0) r.readBits(rnd.int(33));
        else if (op === 1) r.readVarUint();
        else if (op === 2) r.readF64();
        else if (op === 3) r.readBytes(rnd.int(4));
        else r.readBitsWide(rnd.int(54));
      }
      expect(r.bitPosition).toBeLessThanOrEqual(total);
      expect(r.remainingBits).toBeGreaterThanOrEqual(0);
    }
  });
});
