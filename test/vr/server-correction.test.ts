/**
 * SPEC 6: the server pushes a hand back inside the play area; the owner reconciles without a jump larger than the
 * blend allows, ends at the server's value, and lets go of the correction once the hand is back inside.
 */
import { describe, expect, it } from 'vitest';
import { getVrContext } from '../../src/vr/vr-context.ts';
import { DEFAULT_RECONCILE_OPTIONS } from '../../src/vr/reconciliation.ts';
import { VrStepper, type VrPeer } from '../../harness/vr-stepper.ts';

const AREA_MAX_X = 0.3;

/** Right hand x over time: inside, out to 0.6 m over 0.5 s, held there 2 s, back to 0 over 0.5 s, then still. */
function handX(t: number): number {
  const ease = (u: number) => (u <= 0 ? 0 : u >= 1 ? 1 : u * u * (3 - 2 * u));
  if (t < 1000) return 0;
  if (t < 1500) return 0.6 * ease((t - 1000) / 500);
  if (t < 3500) return 0.6;
  if (t < 4000) return 0.6 * (1 - ease((t - 3500) / 500));
  return 0;
}

describe('server correction', () => {
  it('is blended in on the owner, ends at the server value, and is released back inside', () => {
    const s = new VrStepper({
      seed: 21,
      server: { validation: { playArea: { min: [-2, 0, -2], max: [AREA_MAX_X, 2.5, 2] } } },
    });
    const link = { latencyMs: 50, jitterMs: 20, loss: 0.02 };
    const owner = s.addClient(link);
    const viewer = s.addClient(link);
    s.run(90);
    const avatar = s.spawnAvatar(owner);
    s.run(45);
    const right = s.local(owner, avatar.right);
    const onViewer = s.local(viewer, avatar.right);
    expect(right).toBeGreaterThan(0);
    const t0 = s.clock.now();
    const drive = (peer: VrPeer, now: number) => {
      if (peer !== owner) return;
      const p = owner.components.RightControllerPose;
      p.px[right] = handX(now - t0);
      p.py[right] = 1.1;
      p.pz[right] = -0.3;
    };
    const rp = owner.components.RenderPose;
    const blendMs = DEFAULT_RECONCILE_OPTIONS.blendMs;
    // The largest correction is the 0.3 m the hand goes past the area; blending it moves at most this per frame.
    const blendStep = (0.3 * s.frameMs) / blendMs;
    let prevRender = NaN;
    let prevRaw = NaN;
    let maxExcess = 0;
    let maxRenderX = -Infinity;
    const frames = Math.ceil(2300 / s.frameMs);
    for (let f = 0; f < frames; f++) {
      s.step(drive);
      const raw = owner.components.RightControllerPose.px[right];
      const shown = rp.px[right];
      if (!Number.isNaN(prevRender)) {
        maxExcess = Math.max(maxExcess, Math.abs(shown - prevRender) - Math.abs(raw - prevRaw));
      }
      maxRenderX = Math.max(maxRenderX, shown);
      prevRender = shown;
      prevRaw = raw;
    }
    // 1.8 s after the hand went out (it is held at 0.6 m): the owner shows the server's value
    const server = s.server.components.RightControllerPose.px[avatar.right];
    expect(server).toBeCloseTo(AREA_MAX_X, 3);
    expect(owner.components.RightControllerPose.px[right]).toBeCloseTo(0.6, 6);
    expect(Math.abs(rp.px[right] - server)).toBeLessThanOrEqual(0.001);
    expect(Math.abs(viewer.components.RenderPose.px[onViewer] - server)).toBeLessThanOrEqual(0.001);
    // never a pop: each frame moved at most the hand's own motion plus what the blend allows
    expect(maxExcess).toBeLessThanOrEqual(blendStep + 0.001);
    // the correction never showed the hand much beyond the area (only the round trip before it arrived)
    expect(maxRenderX).toBeLessThan(0.6);
    const vr = getVrContext(owner.world);
    if (vr.role !== 'client') throw new Error('client expected');
    expect(vr.stats.rebases).toBeGreaterThan(0);
    expect(vr.owned.get(right)!.state.active).toBe(true);
    // back inside: the server accepts the raw input again and the owner drops the correction
    for (let f = 0; f < Math.ceil(3000 / s.frameMs); f++) {
      s.step(drive);
      const raw = owner.components.RightControllerPose.px[right];
      const shown = rp.px[right];
      maxExcess = Math.max(maxExcess, Math.abs(shown - prevRender) - Math.abs(raw - prevRaw));
      prevRender = shown;
      prevRaw = raw;
    }
    expect(maxExcess).toBeLessThanOrEqual(blendStep + 0.001);
    expect(vr.owned.get(right)!.state.active).toBe(false);
    expect(rp.px[right]).toBe(owner.components.RightControllerPose.px[right]);
    expect(s.server.components.RightControllerPose.px[avatar.right]).toBeCloseTo(0, 3);
    expect(s.server.errors).toEqual([]);
  });
});
