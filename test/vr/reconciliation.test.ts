/** Reconciliation: compare with history, rebase and replay beyond tolerance, blend the visible error out. */
import { describe, expect, it } from 'vitest';
import { PoseHistory } from '../../src/vr/pose-history.ts';
import {
  CorrectionOutcome,
  DEFAULT_RECONCILE_OPTIONS,
  OwnedPoseState,
  reconcile,
  recordTick,
  renderOwned,
} from '../../src/vr/reconciliation.ts';

const opts = DEFAULT_RECONCILE_OPTIONS;

/** A hand moving +x at 1 m/s, recorded every 33 ms from tick 1, rendered every 11 ms. */
function moving(ticks: number): { state: OwnedPoseState; now: number } {
  const state = new OwnedPoseState();
  const out = new Float64Array(7);
  let now = 0;
  for (let t = 1; t <= ticks; t++) {
    for (let f = 0; f < 3; f++) {
      now += 11;
      state.raw.set([now / 1000, 1, 0, 0, 0, 0, 1]);
      state.rawTimeMs = now;
      renderOwned(state, now, opts.blendMs, out);
    }
    recordTick(state, t);
  }
  return { state, now };
}

describe('pose history', () => {
  it('finds recorded ticks until they are overwritten', () => {
    const h = new PoseHistory(4);
    for (let t = 0; t < 6; t++) h.record(t, t * 10);
    expect(h.slotOf(5)).toBeGreaterThanOrEqual(0);
    expect(h.slotOf(2)).toBeGreaterThanOrEqual(0);
    expect(h.slotOf(1)).toBe(-1);
    expect(h.slotOf(-1)).toBe(-1);
    expect(h.slotOf(1.5)).toBe(-1);
    expect(h.newestTick).toBe(5);
  });
});

describe('reconciliation', () => {
  it('ignores a correction within tolerance and one for an unknown or older tick', () => {
    const { state, now } = moving(10);
    const h = state.history;
    const s = h.slotOf(8) * 7;
    const server = Float64Array.from(h.predicted.subarray(s, s + 7));
    server[0] += 0.002;
    expect(reconcile(state, 8, server, now, opts)).toBe(CorrectionOutcome.agreed);
    expect(state.active).toBe(false);
    expect(reconcile(state, 7, server, now, opts)).toBe(CorrectionOutcome.ignored);
    expect(reconcile(state, 99, server, now, opts)).toBe(CorrectionOutcome.ignored);
  });

  it('rebases on the server value and replays every tick since', () => {
    const { state, now } = moving(10);
    const h = state.history;
    const s6 = h.slotOf(6) * 7;
    const server = Float64Array.from(h.raw.subarray(s6, s6 + 7));
    server[0] -= 0.1; // pushed back 10 cm
    expect(reconcile(state, 6, server, now, opts)).toBe(CorrectionOutcome.rebased);
    expect(state.active).toBe(true);
    expect(state.offset[0]).toBeCloseTo(-0.1, 12);
    for (let t = 6; t <= 10; t++) {
      const s = h.slotOf(t) * 7;
      expect(h.predicted[s] - h.raw[s]).toBeCloseTo(-0.1, 12);
    }
    // ticks before the corrected one keep their prediction
    const s5 = h.slotOf(5) * 7;
    expect(h.predicted[s5]).toBe(h.raw[s5]);
  });

  it('blends the visible change out linearly over blendMs: no pop, ends at the new prediction', () => {
    const { state, now } = moving(10);
    const h = state.history;
    const s = h.slotOf(9) * 7;
    const server = Float64Array.from(h.raw.subarray(s, s + 7));
    server[1] += 0.05;
    const shown = Array.from(state.displayed);
    reconcile(state, 9, server, now, opts);
    const out = new Float64Array(7);
    // same frame, same input: what is shown does not move
    renderOwned(state, now, opts.blendMs, out);
    expect(out[1]).toBeCloseTo(shown[1], 12);
    let prev = out[1];
    let t = now;
    let maxStep = 0;
    while (t < now + opts.blendMs + 50) {
      t += 11;
      renderOwned(state, t, opts.blendMs, out);
      maxStep = Math.max(maxStep, Math.abs(out[1] - prev));
      prev = out[1];
    }
    expect(maxStep).toBeLessThanOrEqual((0.05 * 11) / opts.blendMs + 1e-12);
    expect(out[1]).toBeCloseTo(1.05, 12);
  });

  it('drops the offset when the server accepts the raw input again', () => {
    const { state, now } = moving(10);
    const h = state.history;
    const s6 = h.slotOf(6) * 7;
    const pushed = Float64Array.from(h.raw.subarray(s6, s6 + 7));
    pushed[0] -= 0.1;
    reconcile(state, 6, pushed, now, opts);
    const s9 = h.slotOf(9) * 7;
    const release = Float64Array.from(h.raw.subarray(s9, s9 + 7));
    release[0] += 0.0004; // the server's rounding of the raw input
    expect(reconcile(state, 9, release, now, opts)).toBe(CorrectionOutcome.rebased);
    expect(state.active).toBe(false);
    expect(Array.from(state.offset)).toEqual([0, 0, 0, 0, 0, 0, 1]);
  });
});
