/** Interpolation buffer: lerp and slerp between samples, Hermite with velocities, bounded extrapolation, hold. */
import { describe, expect, it } from 'vitest';
import { InterpolationBuffer, SampleMode } from '../../src/vr/interpolation-buffer.ts';
import { quatAngle } from '../../src/vr/pose-math.ts';

const yaw = (a: number) => [0, Math.sin(a / 2), 0, Math.cos(a / 2)];
const pose = (x: number, y: number, z: number, a = 0) => [x, y, z, ...yaw(a)];

describe('interpolation buffer', () => {
  it('is empty before the first sample and holds before the oldest', () => {
    const b = new InterpolationBuffer();
    const out = new Float64Array(7);
    expect(b.sample(0, 250, out)).toBe(SampleMode.empty);
    b.push(100, pose(1, 2, 3), 0, null);
    b.push(200, pose(2, 2, 3), 0, null);
    expect(b.sample(50, 250, out)).toBe(SampleMode.holding);
    expect(Array.from(out.subarray(0, 3))).toEqual([1, 2, 3]);
  });

  it('lerps positions and slerps rotations between samples', () => {
    const b = new InterpolationBuffer();
    const out = new Float64Array(7);
    b.push(0, pose(0, 0, 0, 0), 0, null);
    b.push(100, pose(1, 2, -4, Math.PI / 2), 0, null);
    expect(b.sample(25, 250, out, 'linear')).toBe(SampleMode.interpolating);
    expect(out[0]).toBeCloseTo(0.25, 12);
    expect(out[1]).toBeCloseTo(0.5, 12);
    expect(out[2]).toBeCloseTo(-1, 12);
    // a quarter of a 90 degree yaw, on the great circle
    const q = yaw(Math.PI / 8);
    expect(quatAngle(out[3], out[4], out[5], out[6], q[0], q[1], q[2], q[3])).toBeLessThan(1e-6);
    expect(Math.hypot(out[3], out[4], out[5], out[6])).toBeCloseTo(1, 12);
  });

  it('takes the shortest arc when the two quaternions have opposite signs', () => {
    const b = new InterpolationBuffer();
    const out = new Float64Array(7);
    const q1 = yaw(0.2);
    b.push(0, [0, 0, 0, ...yaw(0)], 0, null);
    b.push(100, [0, 0, 0, -q1[0], -q1[1], -q1[2], -q1[3]], 0, null);
    b.sample(50, 250, out);
    const mid = yaw(0.1);
    expect(quatAngle(out[3], out[4], out[5], out[6], mid[0], mid[1], mid[2], mid[3])).toBeLessThan(1e-6);
  });

  it('follows a cubic exactly with Hermite interpolation and the samples velocities', () => {
    // x(t) = t^3 - t (t in s), v = 3t^2 - 1
    const b = new InterpolationBuffer();
    const out = new Float64Array(7);
    for (const t of [0, 0.05, 0.1]) b.push(t * 1000, pose(t ** 3 - t, 0, 0), 0, [3 * t * t - 1, 0, 0, 0, 0, 0]);
    for (const t of [0.01, 0.037, 0.063, 0.099]) {
      b.sample(t * 1000, 250, out, 'hermite');
      expect(out[0]).toBeCloseTo(t ** 3 - t, 12);
    }
    // linear interpolation of the same samples is measurably off
    b.sample(25, 250, out, 'linear');
    expect(Math.abs(out[0] - (0.025 ** 3 - 0.025))).toBeGreaterThan(1e-5);
  });

  it('extrapolates with the newest velocity for at most the horizon, then holds', () => {
    const b = new InterpolationBuffer();
    const out = new Float64Array(7);
    b.push(0, pose(0, 0, 0), 0, [1, 0, 0, 0, 0, 0]);
    b.push(100, pose(0.1, 0, 0), 0, [1, 0, 0, 0, 2, 0]);
    expect(b.sample(150, 250, out)).toBe(SampleMode.extrapolating);
    expect(out[0]).toBeCloseTo(0.15, 9);
    const q = yaw(0.1); // 2 rad/s for 50 ms
    expect(quatAngle(out[3], out[4], out[5], out[6], q[0], q[1], q[2], q[3])).toBeLessThan(1e-6);
    // past the horizon it holds where the horizon ended
    expect(b.sample(1000, 250, out)).toBe(SampleMode.holding);
    expect(out[0]).toBeCloseTo(0.35, 9);
    const held = Array.from(out);
    b.sample(5000, 250, out);
    expect(Array.from(out)).toEqual(held);
  });

  it('extrapolates a braking hand to a stop instead of through it', () => {
    // decelerating at 10 m/s^2 from 0.2 m/s: stops after 20 ms, 2 mm further
    const b = new InterpolationBuffer();
    const out = new Float64Array(7);
    b.push(0, pose(0, 0, 0), 0, [0.5, 0, 0, 0, 0, 0]);
    b.push(30, pose(0.0105, 0, 0), 0, [0.2, 0, 0, 0, 0, 0]);
    b.sample(30 + 200, 250, out);
    expect(out[0]).toBeGreaterThan(0.0105);
    expect(out[0]).toBeLessThan(0.0105 + 0.2 * 0.05);
  });

  it('takes the acceleration over at least MIN_ACCELERATION_GAP_MS, not from two samples a few ms apart', () => {
    // constant 1 m/s; the newest sample, 2 ms after the one before, is 1 mm off (rounding)
    const b = new InterpolationBuffer();
    const out = new Float64Array(7);
    b.push(0, pose(0, 0, 0), 0, [1, 0, 0, 0, 0, 0]);
    b.push(33, pose(0.033, 0, 0), 0, [1, 0, 0, 0, 0, 0]);
    b.push(35, pose(0.036, 0, 0), 0, [1, 0, 0, 0, 0, 0]);
    b.sample(35 + 30, 250, out);
    // 30 ms on at 1 m/s from 36 mm, give or take the curve through 0..35 ms (the 2 ms pair would add ~20 mm)
    expect(Math.abs(out[0] - 0.066)).toBeLessThan(0.003);
  });

  it('drops samples that are not newer than the newest', () => {
    const b = new InterpolationBuffer();
    expect(b.push(100, pose(1, 0, 0), 0, null)).toBe(true);
    expect(b.push(100, pose(2, 0, 0), 0, null)).toBe(false);
    expect(b.push(50, pose(3, 0, 0), 0, null)).toBe(false);
    expect(b.push(NaN, pose(3, 0, 0), 0, null)).toBe(false);
    expect(b.count).toBe(1);
  });

  it('keeps the newest samples when full', () => {
    const b = new InterpolationBuffer(4);
    const out = new Float64Array(7);
    for (let i = 0; i < 10; i++) b.push(i * 10, pose(i, 0, 0), 0, null);
    expect(b.count).toBe(4);
    expect(b.newestTime).toBe(90);
    expect(b.sample(65, 250, out, 'linear')).toBe(SampleMode.interpolating);
    expect(out[0]).toBeCloseTo(6.5, 12);
    expect(b.sample(10, 250, out)).toBe(SampleMode.holding);
    expect(out[0]).toBe(6);
  });
});
