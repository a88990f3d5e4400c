import { describe, expect, it } from 'vitest';
import { createProtocol, field, NetError, registerComponent } from '../src/index.ts';
import { freezeProtocol } from '../src/register.ts';

const make = (order: 'ab' | 'ba', precision = 0.001) => {
  const A = { x: new Float32Array(4), y: new Float32Array(4) };
  const B = { v: new Uint8Array(4) };
  const p = createProtocol();
  const regA = () =>
    registerComponent(p, A, { name: 'A', fields: { x: field.quantized(-1, 1, precision), y: field.f32() } });
  const regB = () => registerComponent(p, B, { name: 'B', fields: { v: field.u8() } });
  if (order === 'ab') {
    regA();
    regB();
  } else {
    regB();
    regA();
  }
  return p;
};

describe('protocol registry', () => {
  it('gives identical registrations the same 64-bit hash and any difference another', () => {
    expect(make('ab').schemaHash).toMatch(/^[0-9a-f]{16}$/);
    expect(make('ab').schemaHash).toBe(make('ab').schemaHash);
    expect(make('ba').schemaHash).not.toBe(make('ab').schemaHash);
    expect(make('ab', 0.01).schemaHash).not.toBe(make('ab').schemaHash);
    const p1 = createProtocol();
    const p2 = createProtocol();
    registerComponent(p1, { v: new Uint8Array(1) }, { name: 'C', fields: { v: field.u8() } });
    registerComponent(p2, { v: new Int16Array(1) }, { name: 'C', fields: { v: field.i8() } });
    expect(p1.schemaHash).not.toBe(p2.schemaHash);
    expect(make('ab').manifest).toEqual({
      version: 1,
      components: [
        {
          name: 'A',
          fields: [
            { name: 'x', kind: 'quantized', min: -1, max: 1, precision: 0.001 },
            { name: 'y', kind: 'f32' },
          ],
        },
        { name: 'B', fields: [{ name: 'v', kind: 'u8' }] },
      ],
    });
  });

  it('throws NetError with a fix for programmer mistakes', () => {
    const p = createProtocol();
    const A = { x: new Float32Array(4) };
    registerComponent(p, A, { name: 'A', fields: { x: field.f32() } });
    const expectUsage = (fn: () => void, text: RegExp) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(NetError);
        expect((e as NetError).code).toBe('Usage');
        expect((e as NetError).fix).toBeTruthy();
        expect((e as Error).message).toMatch(text);
        return;
      }
      throw new Error('expected a NetError');
    };
    expectUsage(() => registerComponent(p, { y: new Float32Array(1) }, { name: 'A', fields: {} }), /twice/);
    expectUsage(() => registerComponent(p, A, { name: 'A2', fields: {} }), /twice/);
    expectUsage(
      () => registerComponent(p, { x: new Float32Array(1) }, { name: 'Q', fields: { x: field.quantized(1, -1, 0.1) } }),
      /range/,
    );
    expectUsage(
      () => registerComponent(p, { x: new Float32Array(1) }, { name: 'Q', fields: { x: field.quantized(0, 1, 0) } }),
      /precision/,
    );
    expectUsage(() => registerComponent(p, {}, { name: 'M', fields: { nope: field.u8() } }), /no array/);
    freezeProtocol(p);
    expectUsage(() => registerComponent(p, { z: new Uint8Array(1) }, { name: 'Late', fields: {} }), /already in use/);
  });
});
