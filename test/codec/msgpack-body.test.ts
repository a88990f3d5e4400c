import { describe, expect, it } from 'vitest';
import { encode } from '@msgpack/msgpack';
import {
  createBodyDecoder,
  decodeBody,
  DEFAULT_BODY_LIMITS,
  encodeBody,
  scanBody,
} from '../../src/codec/msgpack-body.ts';
import { NetError } from '../../src/errors.ts';
import { createRandom } from '../../src/random.ts';
import type { Random } from '../../src/random.ts';

/** A random JSON-like value with strings, binaries, nesting, floats and big integers. */
function randomValue(rnd: Random, depth = 0): unknown {
  const kind = rnd.int(depth > 3 ? 6 : 9);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rnd.next() < 0.5;
    case 2:
      return rnd.int(2 ** 31) - 2 ** 30;
    case 3:
      return rnd.gaussian() * 1e6;
    case 4:
      return 'é'.repeat(rnd.int(4)) + Math.floor(rnd.next() * 1e9).toString(36);
    case 5:
      return new Uint8Array(rnd.int(40)).map(() => rnd.int(256));
    case 6:
      return Array.from({ length: rnd.int(6) }, () => randomValue(rnd, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rnd.int(6); i > 0; i--) o[`k${rnd.int(100)}`] = randomValue(rnd, depth + 1);
      return o;
    }
  }
}

describe('msgpack bodies', () => {
  it('round trips control message shapes', () => {
    const hello = { protocolVersion: 1, schemaHash: 'a1b2', capabilities: ['deflate'], token: undefined, n: 2 ** 40 };
    const r = decodeBody(encodeBody(hello));
    expect(r).toEqual({
      ok: true,
      value: { protocolVersion: 1, schemaHash: 'a1b2', capabilities: ['deflate'], n: 2 ** 40 },
    });
    const rnd = createRandom(1);
    for (let i = 0; i < 500; i++) {
      const v = randomValue(rnd);
      const d = decodeBody(encodeBody(v));
      expect(d.ok).toBe(true);
      if (d.ok) expect(d.value).toEqual(v);
    }
  });

  it('encodeBody returns an independent copy', () => {
    const a = encodeBody({ a: 1 });
    const b = encodeBody({ b: 2 });
    expect(decodeBody(a)).toEqual({ ok: true, value: { a: 1 } });
    expect(decodeBody(b)).toEqual({ ok: true, value: { b: 2 } });
  });

  it('refuses to encode Dates, Maps, Sets and functions with a Usage NetError', () => {
    expect(() => encodeBody({ at: new Date() })).toThrow(NetError);
    expect(() => encodeBody(new Map())).toThrow(/Usage/);
    expect(() => encodeBody({ f: () => 1 })).toThrow(NetError);
    // The encoder stays usable afterwards.
    expect(decodeBody(encodeBody([1, 2]))).toEqual({ ok: true, value: [1, 2] });
  });

  it('rejects extension types, trailing bytes, truncation and reserved bytes', () => {
    const bad: [number[], RegExp][] = [
      [[0xd6, 0xff, 0, 0, 0, 1], /extension/], // timestamp ext
      [[0xc7, 1, 5, 0], /extension/],
      [[0x01, 0x02], /trailing/],
      [[0x92, 0x01], /longer than the body/],
      [[0xa5, 0x61], /truncated/],
      [[0xc1], /reserved/],
      [[0xcb, 0, 0], /truncated/],
      [[0xdd, 0xff, 0xff, 0xff, 0xff], /over the limit/],
      [[0xdc, 0x10, 0x00, 1, 2], /longer than the body/],
      [[], /empty/],
    ];
    for (const [bytes, why] of bad) {
      const r = decodeBody(new Uint8Array(bytes));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(why);
    }
  });

  it('rejects __proto__ keys and non-string keys without throwing', () => {
    expect(decodeBody(new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x01])).ok).toBe(false);
    expect(decodeBody(new Uint8Array([0x81, 0x90, 0x01])).ok).toBe(false); // array as key
  });

  it('applies limits: strings, binaries, arrays, maps and depth', () => {
    const small = createBodyDecoder({
      maxStrLength: 4,
      maxBinLength: 2,
      maxArrayLength: 3,
      maxMapLength: 1,
      maxDepth: 2,
    });
    expect(small.decode(encode('abcd')).ok).toBe(true);
    expect(small.decode(encode('abcde')).ok).toBe(false);
    expect(small.decode(encode(new Uint8Array(3))).ok).toBe(false);
    expect(small.decode(encode([1, 2, 3])).ok).toBe(true);
    expect(small.decode(encode([1, 2, 3, 4])).ok).toBe(false);
    expect(small.decode(encode({ a: 1, b: 2 })).ok).toBe(false);
    expect(small.decode(encode([[1]])).ok).toBe(true);
    expect(small.decode(encode([[[1]]])).ok).toBe(false);
    expect(small.decode(encode([[[]]])).ok).toBe(true); // empty containers add no depth
    const deep = new Uint8Array(DEFAULT_BODY_LIMITS.maxDepth + 2).fill(0x91);
    deep[deep.length - 1] = 0x01;
    expect(decodeBody(deep).ok).toBe(false);
    expect(decodeBody(deep.subarray(1)).ok).toBe(true);
  });

  it('scanBody accepts exactly what it should for valid encodings', () => {
    const pending = new Float64Array(DEFAULT_BODY_LIMITS.maxDepth + 2);
    const values = [0, -1, 255, -129, 65536, -40000, 2 ** 33, -(2 ** 40), 1.5, 'x'.repeat(40), 'y'.repeat(300)];
    values.push('z'.repeat(70000));
    for (const v of values)
      expect(scanBody(encode(v), { ...DEFAULT_BODY_LIMITS, maxStrLength: 1e6 }, pending)).toBeNull();
    expect(scanBody(encode(new Uint8Array(70000)), DEFAULT_BODY_LIMITS, pending)).toBeNull();
    expect(
      scanBody(encode(Array.from({ length: 70 }, (_, i) => ({ [`k${i}`]: i }))), DEFAULT_BODY_LIMITS, pending),
    ).toBeNull();
  });

  it('fuzz: thousands of seeded random and mutated byte arrays never throw', () => {
    const rnd = createRandom(4242);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 6000; i++) {
      let bytes: Uint8Array;
      if (i % 3 === 0) {
        bytes = new Uint8Array(rnd.int(64)).map(() => rnd.int(256));
      } else {
        bytes = encodeBody(randomValue(rnd));
        const mutations = 1 + rnd.int(4);
        for (let m = 0; m < mutations; m++) {
          const op = rnd.int(4);
          if (op === 0 && bytes.length > 0) bytes[rnd.int(bytes.length)] = rnd.int(256);
          else if (op === 1) bytes = bytes.subarray(0, rnd.int(bytes.length + 1));
          else if (op === 2 && bytes.length > 0) bytes[rnd.int(bytes.length)] ^= 1 << rnd.int(8);
          else {
            const grown = new Uint8Array(bytes.length + 1);
            grown.set(bytes);
            grown[bytes.length] = rnd.int(256);
            bytes = grown;
          }
        }
      }
      const r = decodeBody(bytes);
      if (r.ok) accepted++;
      else {
        rejected++;
        expect(typeof r.error).toBe('string');
      }
    }
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(1000);
  });

  it('a tiny body cannot claim a huge container', () => {
    // array32 of 2^32 - 1 elements and map16 of 65535 entries in 5 and 3 bytes.
    expect(decodeBody(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff])).ok).toBe(false);
    expect(decodeBody(new Uint8Array([0xde, 0x0f, 0xff])).ok).toBe(false);
    // 300 nested array16 headers each claiming 60000 elements: rejected before the decoder allocates.
    const nested = new Uint8Array(900);
    for (let i = 0; i < 300; i++) nested.set([0xdc, 0xea, 0x60], i * 3);
    expect(decodeBody(nested).ok).toBe(false);
  });
});
