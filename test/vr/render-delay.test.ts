/** Adaptive render delay: floor + interval + k x jitter, bounded slew, and no running past late samples. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RENDER_DELAY_OPTIONS, RenderDelay } from '../../src/vr/render-delay.ts';
import { WindowedMin } from '../../src/vr/windowed-min.ts';

describe('windowed minimum', () => {
  it('is the minimum of the window and forgets what left it', () => {
    const m = new WindowedMin(1000, 4);
    m.push(0, 50);
    m.push(100, 30);
    m.push(300, 40);
    expect(m.value(300)).toBe(30);
    m.push(900, 45);
    m.push(1400, 60);
    // the 30 of t = 100 left the window (1,000 ms, in 250 ms buckets)
    expect(m.value(1400)).toBe(45);
    m.push(1500, Number.NaN);
    expect(m.value(1500)).toBe(45);
  });
});

describe('render delay', () => {
  it('targets floor + interval + k x jitter', () => {
    const d = new RenderDelay(33.3, { ...DEFAULT_RENDER_DELAY_OPTIONS, jitterFactor: 2 });
    // samples every 33.3 ms with lags 50, 60, 70, 50, 60, 70 ...
    for (let i = 0; i < 400; i++) d.onSample(i * 33.3 + 50 + (i % 3) * 10, i * 33.3);
    expect(d.intervalMs).toBeCloseTo(33.3, 1);
    expect(d.jitterMs).toBeGreaterThan(8);
    expect(d.jitterMs).toBeLessThan(12);
    const now = 399 * 33.3 + 70;
    expect(d.targetMs(now)).toBeCloseTo(50 + 33.3 + 2 * d.jitterMs, 6);
  });

  it('moves the delay at most slewRate x elapsed per frame', () => {
    const o = { ...DEFAULT_RENDER_DELAY_OPTIONS, slewRate: 0.05 };
    const d = new RenderDelay(33.3, o);
    d.onSample(100, 50); // offset snaps to the first target
    const start = d.offsetMs;
    d.renderTime(100);
    // the lag jumps by 100 ms: the target moves, the delay follows slowly
    let now = 100;
    for (let i = 0; i < 10; i++) {
      now += 10;
      d.onSample(now, now - 150);
      const before = d.offsetMs;
      d.renderTime(now);
      expect(Math.abs(d.offsetMs - before)).toBeLessThanOrEqual(0.05 * 10 + 1e-9);
    }
    expect(d.offsetMs).not.toBe(start);
  });

  it('never plays more than the allowance past the newest sample', () => {
    const d = new RenderDelay(33.3);
    d.onSample(100, 60);
    let now = 100;
    d.renderTime(now, 60);
    // no new sample for 300 ms
    let r = -Infinity;
    for (let i = 0; i < 30; i++) {
      now += 10;
      r = d.renderTime(now, 60);
      expect(r).toBeLessThanOrEqual(60 + DEFAULT_RENDER_DELAY_OPTIONS.allowanceMs + 1e-9);
    }
    expect(r).toBeGreaterThan(60);
  });
});
