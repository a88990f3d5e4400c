import { describe, expect, it } from 'vitest';
import {
  dequantize,
  isFloat32Stable,
  quantize,
  quantizedBits,
  quantizedSteps,
  validateQuantized,
} from '../../src/codec/quantize.ts';
import { createRandom } from '../../src/random.ts';

/** Random configuration: min in +-10^k, a span, and a precision making 2..2^24 steps. */
function randomConfig(rnd: ReturnType<typeof createRandom>): [number, number, number] {
  const scale = 10 ** (rnd.int(9) - 4);
  const min = rnd.range(-100, 100) * scale;
  const span = rnd.range(0.01, 200) * scale;
  const steps = 2 ** rnd.range(1, 24);
  return [min, min + span, span / steps];
}

describe('quantize', () => {
  it('computes steps and bits', () => {
    expect(quantizedSteps(0, 1, 0.01)).toBe(100);
    expect(quantizedBits(0, 1, 0.01)).toBe(7);
    expect(quantizedSteps(-32, 32, 0.001)).toBe(64000);
    expect(quantizedBits(-32, 32, 0.001)).toBe(16);
    expect(quantizedSteps(0, 1, 0.3)).toBe(4);
    expect(quantizedBits(0, 1, 1)).toBe(1);
    expect(quantizedBits(0, 255, 1)).toBe(8);
    expect(quantizedBits(0, 256, 1)).toBe(9);
    expect(quantizedBits(0, 2 ** 32 - 1, 1)).toBe(32);
  });

  it('clamps, and maps NaN to min', () => {
    expect(quantize(-5, 0, 1, 0.01)).toBe(0);
    expect(quantize(5, 0, 1, 0.01)).toBe(100);
    expect(quantize(NaN, 0, 1, 0.01)).toBe(0);
    expect(quantize(Infinity, 0, 1, 0.01)).toBe(100);
    expect(quantize(-Infinity, 0, 1, 0.01)).toBe(0);
    expect(dequantize(1000, 0, 1, 0.01)).toBe(1);
    expect(dequantize(-3, 0, 1, 0.01)).toBe(0);
    expect(dequantize(4, 0, 1, 0.3)).toBe(1);
  });

  it('error <= precision / 2 for many random configurations, q always in [0, steps]', () => {
    const rnd = createRandom(2024);
    let worstRatio = 0;
    for (let c = 0; c < 400; c++) {
      const [min, max, p] = randomConfig(rnd);
      const steps = quantizedSteps(min, max, p);
      const ulps = Math.max(Math.abs(min), Math.abs(max)) * 2 ** -50;
      for (let i = 0; i < 250; i++) {
        const x = i === 0 ? min : i === 1 ? max : rnd.range(min, max);
        const q = quantize(x, min, max, p);
        if (!(Number.isInteger(q) && q >= 0 && q <= steps)) expect(q).toBe(`in [0, ${steps}]`);
        const err = Math.abs(dequantize(q, min, max, p) - x);
        if (err > p / 2 + ulps) expect({ min, max, p, x, err }).toBe('within precision / 2');
        worstRatio = Math.max(worstRatio, err / p);
      }
    }
    expect(worstRatio).toBeGreaterThan(0.45); // the bound is tight, not vacuous
  });

  it('quantize(dequantize(q)) === q for every step quantize can produce', () => {
    const rnd = createRandom(5);
    for (let c = 0; c < 300; c++) {
      const [min, max, p] = randomConfig(rnd);
      const steps = quantizedSteps(min, max, p);
      const top = quantize(max, min, max, p);
      for (let i = 0; i < 100; i++) {
        const q = i === 0 ? 0 : i === 1 ? top : rnd.int(top + 1);
        expect(quantize(dequantize(q, min, max, p), min, max, p)).toBe(q);
      }
      expect(top === steps || top === steps - 1).toBe(true);
    }
  });

  it('survives Float32Array storage when isFloat32Stable (precision >= 2^-22 max(|min|,|max|))', () => {
    const rnd = createRandom(77);
    const f32 = new Float32Array(1);
    let configs = 0;
    for (let c = 0; c < 2000 && configs < 300; c++) {
      const [min, max, p] = randomConfig(rnd);
      if (!isFloat32Stable(min, max, p)) continue;
      configs++;
      const top = quantize(max, min, max, p);
      for (let i = 0; i < 200; i++) {
        const q = i === 0 ? 0 : i === 1 ? top : rnd.int(top + 1);
        f32[0] = dequantize(q, min, max, p);
        if (quantize(f32[0], min, max, p) !== q) expect({ min, max, p, q }).toBe('stable');
      }
    }
    expect(configs).toBe(300);
    // A pose range: +-32 m at 1 mm, every step.
    for (let q = 0; q <= 64000; q++) {
      f32[0] = dequantize(q, -32, 32, 0.001);
      if (quantize(f32[0], -32, 32, 0.001) !== q) expect(q).toBe('stable');
    }
  });

  it('the float32 condition is honest: far below it, storage breaks re-quantization', () => {
    const [min, max, p] = [0, 2 ** 20, 2 ** -6]; // float32 spacing near 2^20 is 2^-3 > p
    expect(isFloat32Stable(min, max, p)).toBe(false);
    const f32 = new Float32Array(1);
    let broken = 0;
    for (let q = 2 ** 26 - 1000; q < 2 ** 26; q++) {
      f32[0] = dequantize(q, min, max, p);
      if (quantize(f32[0], min, max, p) !== q) broken++;
    }
    expect(broken).toBeGreaterThan(500);
  });

  it('validates configurations', () => {
    expect(validateQuantized(0, 1, 0.01)).toBeNull();
    expect(validateQuantized(1, 1, 0.01)).toMatch(/min must be < max/);
    expect(validateQuantized(2, 1, 0.01)).toMatch(/min must be < max/);
    expect(validateQuantized(0, 1, 0)).toMatch(/precision/);
    expect(validateQuantized(0, 1, -1)).toMatch(/precision/);
    expect(validateQuantized(0, 1, NaN)).toMatch(/precision/);
    expect(validateQuantized(NaN, 1, 0.1)).toMatch(/finite/);
    expect(validateQuantized(0, Infinity, 0.1)).toMatch(/finite/);
    expect(validateQuantized(0, 2 ** 32, 1)).toMatch(/2\^32 - 1/);
    expect(validateQuantized(0, 2 ** 32 - 1, 1)).toBeNull();
    expect(validateQuantized(-1e308, 1e308, 1)).not.toBeNull();
  });
});
