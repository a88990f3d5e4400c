/** Adaptive render delay: mean lag + k x deviation + f x interval, hysteresis, bounded slew, no running past late samples. */
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
  it('targets mean lag + k x its standard deviation + f x interval, over the last lagWindow samples', () => {
    const o = { ...DEFAULT_RENDER_DELAY_OPTIONS, jitterFactor: 2, intervalFactor: 0.5, lagWindow: 300 };
    const d = new RenderDelay(33.3, o);
    // samples every 33.3 ms with lags 50, 60, 70, 50, 60, 70 ...: mean 60, standard deviation sqrt(200/3)
    for (let i = 0; i < 600; i++) d.onSample(i * 33.3 + 50 + (i % 3) * 10, i * 33.3);
    expect(d.intervalMs).toBeCloseTo(33.3, 1);
    expect(d.meanLagMs).toBeCloseTo(60, 6);
    expect(d.jitterMs).toBeCloseTo(Math.sqrt(200 / 3), 6);
    expect(d.targetMs()).toBeCloseTo(60 + 2 * Math.sqrt(200 / 3) + 0.5 * d.intervalMs, 6);
    // Only the window counts: 300 samples of lag 100 replace the old ones entirely.
    for (let i = 600; i < 900; i++) d.onSample(i * 33.3 + 100, i * 33.3);
    expect(d.meanLagMs).toBeCloseTo(100, 6);
    expect(d.jitterMs).toBeCloseTo(0, 3);
  });

  it("follows a change of a device's send rate (fidelity by distance) but not gaps from lost samples", () => {
    const d = new RenderDelay(33.3);
    let t = 0;
    let previous = NaN;
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const arrive = () => {
      d.onSample(t + 60, t);
      if (previous === previous) d.onGap(t - previous);
      previous = t;
    };
    // 30 Hz with 10 % of the samples lost: the gaps of two or three intervals do not stretch the spacing.
    for (let i = 0; i < 300; i++) {
      t += 33.3;
      if (random() >= 0.1) arrive();
    }
    expect(d.intervalMs).toBeGreaterThan(31);
    expect(d.intervalMs).toBeLessThan(36);
    const before = d.targetMs();
    // The server now sends this device every third tick (10 Hz): within 13 samples the spacing is 100 ms, and the
    // delay leaves room for the longer wait.
    for (let i = 0; i < 13; i++) {
      t += 100;
      arrive();
    }
    expect(d.intervalMs).toBeGreaterThan(90);
    expect(d.intervalMs).toBeLessThan(110);
    expect(d.targetMs() - before).toBeCloseTo(DEFAULT_RENDER_DELAY_OPTIONS.intervalFactor * (d.intervalMs - 33.3), 0);
    // And back to full rate.
    for (let i = 0; i < 30; i++) {
      t += 33.3;
      arrive();
    }
    expect(d.intervalMs).toBeGreaterThan(31);
    expect(d.intervalMs).toBeLessThan(36);
    d.onGap(-5);
    d.onGap(Number.NaN);
    expect(d.intervalMs).toBeGreaterThan(31);
  });

  it('stands still while the target stays within the hysteresis, and follows it beyond', () => {
    const o = { ...DEFAULT_RENDER_DELAY_OPTIONS, hysteresisMs: 3, lagWindow: 8, jitterFactor: 0, intervalFactor: 1 };
    const d = new RenderDelay(30, o);
    let now = 0;
    const feed = (lag: number) => {
      for (let i = 0; i < 8; i++) {
        now += 30;
        d.onSample(now, now - lag);
        d.renderTime(now);
      }
    };
    feed(50);
    const settled = d.offsetMs;
    expect(settled).toBeCloseTo(80, 6);
    feed(52); // target 82: inside the band, the delay keeps still
    expect(d.offsetMs).toBe(settled);
    for (let k = 0; k < 10; k++) feed(60); // target 90: beyond it, the delay moves there
    expect(d.offsetMs).toBeGreaterThan(settled + 3);
    expect(d.offsetMs).toBeLessThanOrEqual(90 + 1e-9);
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

  it('after a skip, stands at the gap end until the delay is back at its target, then plays at real time', () => {
    const d = new RenderDelay(33.3);
    let now = 0;
    for (let i = 0; i < 60; i++, now += 33.3) d.onSample(now + 80, now);
    now += 80;
    d.renderTime(now);
    const target = d.targetMs();
    // a burst: the render time skips to a sample only 60 ms old
    d.skipTo(now, now - 60);
    const at = d.renderTime(now);
    expect(at).toBeCloseTo(now - 60, 9);
    let r = at;
    let t = now;
    while (t - r < target - 1e-6) {
      t += 11.1;
      r = d.renderTime(t);
      if (t - r < target - 1e-6) expect(r).toBeCloseTo(at, 9);
    }
    // back at the target within the margin's own time, not a slow slew
    expect(t - now).toBeLessThan(target - 60 + 11.2);
    const next = d.renderTime(t + 11.1);
    expect(next - r).toBeCloseTo(11.1, 6);
  });
});
