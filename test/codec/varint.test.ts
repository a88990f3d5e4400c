import { describe, expect, it } from 'vitest';
import { createVarIntResult, readVarUint, varUintSize, writeVarUint } from '../../src/codec/varint.ts';
import { createRandom } from '../../src/random.ts';

describe('byte-level varuint', () => {
  const values = [0, 1, 127, 128, 300, 16383, 16384, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 49, 2 ** 52];
  values.push(Number.MAX_SAFE_INTEGER);

  it('round trips boundaries and reports its size', () => {
    const buf = new Uint8Array(200);
    let pos = 3;
    for (const v of values) {
      const next = writeVarUint(buf, pos, v);
      expect(next - pos).toBe(varUintSize(v));
      pos = next;
    }
    const out = createVarIntResult();
    let at = 3;
    for (const v of values) {
      expect(readVarUint(buf, at, pos, out)).toBe(true);
      expect(out.value).toBe(v);
      at = out.pos;
    }
    expect(at).toBe(pos);
  });

  it('uses the LEB128 layout', () => {
    const buf = new Uint8Array(4);
    expect(writeVarUint(buf, 0, 300)).toBe(2);
    expect([...buf.subarray(0, 2)]).toEqual([0xac, 0x02]);
    expect(varUintSize(127)).toBe(1);
    expect(varUintSize(128)).toBe(2);
    expect(varUintSize(Number.MAX_SAFE_INTEGER)).toBe(8);
  });

  it('round trips thousands of seeded values', () => {
    const rnd = createRandom(3);
    const buf = new Uint8Array(16);
    const out = createVarIntResult();
    for (let i = 0; i < 5000; i++) {
      const v = Math.floor(rnd.next() * 2 ** rnd.int(54));
      const end = writeVarUint(buf, 1, v);
      expect(readVarUint(buf, 1, end, out)).toBe(true);
      expect(out.value).toBe(v);
      expect(out.pos).toBe(end);
    }
  });

  it('rejects truncation, too many bytes and values above 2^53 - 1 without throwing', () => {
    const out = createVarIntResult();
    expect(readVarUint(new Uint8Array([0x80, 0x80]), 0, 2, out)).toBe(false);
    expect(readVarUint(new Uint8Array([0x80, 0x01]), 0, 1, out)).toBe(false);
    expect(readVarUint(new Uint8Array([0x01]), 0, 10, out)).toBe(true);
    expect(readVarUint(new Uint8Array([0x01]), 1, 1, out)).toBe(false);
    expect(readVarUint(new Uint8Array([0x01]), -1, 1, out)).toBe(false);
    expect(readVarUint(new Uint8Array(9).fill(0x80).fill(1, 8), 0, 9, out)).toBe(false);
    expect(readVarUint(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]), 0, 8, out)).toBe(false);
  });

  it('fuzz: random bytes never throw and a success stays inside the range', () => {
    const rnd = createRandom(11);
    const out = createVarIntResult();
    let successes = 0;
    for (let i = 0; i < 5000; i++) {
      const bytes = new Uint8Array(rnd.int(12)).map(() => rnd.int(256));
      const end = rnd.int(bytes.length + 1);
      if (readVarUint(bytes, 0, end, out)) {
        successes++;
        expect(out.pos).toBeLessThanOrEqual(end);
        expect(out.value).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
      }
    }
    expect(successes).toBeGreaterThan(0);
  });
});
