/** The state hash mixes each wire value by value: every bit of a float counts, -0 is 0, no shared scratch. */
import { describe, expect, it } from 'vitest';
import { ownedEntityHash } from '../../src/replication/state-hash.ts';

/** One entity (local 1, network id 7) carrying one component of two fields whose wire values are `values`. */
function hashOf(values: number[]): number {
  const comps = [{ fields: values.map(() => ({})) }] as never;
  const reg = { netIdOf: [0, 7], has: [new Uint8Array([0, 1])] } as never;
  return ownedEntityHash(comps, reg, 1, -1, (_c, f) => values[f]);
}

describe('state hash', () => {
  it('tells apart values that differ in any bit of an f32, in the integer part or the fraction', () => {
    const base = hashOf([123456789, Math.fround(1.2345)]);
    expect(hashOf([123456789, Math.fround(1.2345)])).toBe(base);
    expect(hashOf([123456790, Math.fround(1.2345)])).not.toBe(base);
    expect(hashOf([123456789 + 2 ** 40, Math.fround(1.2345)])).not.toBe(base);
    const f = new Float32Array([1.2345]);
    const bits = new Uint32Array(f.buffer);
    bits[0] += 1; // the next f32
    expect(hashOf([123456789, f[0]])).not.toBe(base);
    expect(hashOf([123456789, -Math.fround(1.2345)])).not.toBe(base);
  });

  it('hashes -0 as 0, and NaN and the infinities apart from every finite value', () => {
    expect(hashOf([-0, 5])).toBe(hashOf([0, 5]));
    const finite = hashOf([0, 5]);
    const special = [hashOf([Number.NaN, 5]), hashOf([Infinity, 5]), hashOf([-Infinity, 5])];
    expect(new Set([finite, ...special]).size).toBe(4);
  });
});
