/** The standard motion trace: deterministic per seed, smooth, realistic speeds, reaches, waves and turns. */
import { describe, expect, it } from 'vitest';
import { createMotionTrace, TRACE_SAMPLE_LENGTH, TraceDevice } from '../../src/vr/motion-trace.ts';

const s = new Float64Array(TRACE_SAMPLE_LENGTH);

describe('motion trace', () => {
  it('is a pure function of seed, device and time', () => {
    const a = createMotionTrace(9);
    const b = createMotionTrace(9);
    const times = [40_000, 5, 12_345.6, 700];
    const fromA = times.map((t) => (a.sample(TraceDevice.right, t, s), Array.from(s)));
    // b samples in another order, after other devices
    b.sample(TraceDevice.head, 99_000, s);
    const fromB = [...times]
      .reverse()
      .map((t) => (b.sample(TraceDevice.right, t, s), Array.from(s)))
      .reverse();
    expect(fromB).toEqual(fromA);
    createMotionTrace(10).sample(TraceDevice.right, 12_345.6, s);
    expect(Array.from(s)).not.toEqual(fromA[2]);
  });

  it('gives unit quaternions and velocities that match the motion', () => {
    const t = createMotionTrace(4);
    const next = new Float64Array(TRACE_SAMPLE_LENGTH);
    for (const device of [TraceDevice.head, TraceDevice.left, TraceDevice.right]) {
      for (let ms = 100; ms < 60_000; ms += 997) {
        t.sample(device, ms, s);
        t.sample(device, ms + 1, next);
        expect(Math.hypot(s[3], s[4], s[5], s[6])).toBeCloseTo(1, 9);
        for (let k = 0; k < 3; k++) expect((next[k] - s[k]) / 0.001).toBeCloseTo(s[7 + k], 1);
      }
    }
  });

  it('moves hands like people do: mostly slow, sometimes fast; the head turns', () => {
    const t = createMotionTrace(2);
    for (const device of [TraceDevice.left, TraceDevice.right]) {
      let fast = 0;
      let n = 0;
      let max = 0;
      let sum = 0;
      for (let ms = 0; ms < 120_000; ms += 11) {
        t.sample(device, ms, s);
        const v = Math.hypot(s[7], s[8], s[9]);
        max = Math.max(max, v);
        sum += v;
        if (v > 1) fast++;
        n++;
      }
      expect(sum / n).toBeGreaterThan(0.2);
      expect(sum / n).toBeLessThan(1);
      expect(fast / n).toBeGreaterThan(0.01);
      expect(max).toBeLessThan(4);
      expect(max).toBeGreaterThan(1.3);
    }
    let maxTurn = 0;
    for (let ms = 0; ms < 60_000; ms += 11) {
      t.sample(TraceDevice.head, ms, s);
      maxTurn = Math.max(maxTurn, Math.abs(s[11]));
      expect(s[1]).toBeGreaterThan(1.5);
    }
    expect(maxTurn).toBeGreaterThan(1);
  });
});
