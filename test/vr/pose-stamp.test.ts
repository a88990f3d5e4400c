/** Sample stamps: packing, unwrapping across the 16.384 s wrap, and the pose check. */
import { describe, expect, it } from 'vitest';
import { createProtocol } from '../../src/index.ts';
import { createPoseComponents } from '../../components/pose-components.ts';
import {
  packStamp,
  poseCheck,
  stampCheck,
  stampHorizonMs,
  stampTimeUnits,
  unwrapStampMs,
} from '../../src/vr/pose-stamp.ts';
import { registerPoseComponents } from '../../src/vr/pose-protocol.ts';

describe('pose stamp', () => {
  it('packs time, horizon and check and unpacks them', () => {
    const s = packStamp(12_345.25, 248, 201);
    expect(stampTimeUnits(s)).toBe((12_345.25 * 4) % 65536);
    expect(stampHorizonMs(s)).toBe(248);
    expect(stampCheck(s)).toBe(201);
    expect(stampHorizonMs(packStamp(0, 5000, 0))).toBe(504);
    expect(stampHorizonMs(packStamp(0, -3, 0))).toBe(0);
    expect(s).toBeLessThan(2 ** 30);
  });

  it('unwraps to the time nearest the expected one', () => {
    for (const t of [0, 1000.5, 16_383.75, 16_384, 40_000.25, 1e6 + 0.5]) {
      const units = stampTimeUnits(packStamp(t, 0, 0));
      expect(unwrapStampMs(units, t + 300)).toBeCloseTo(t, 9);
      expect(unwrapStampMs(units, t - 7000)).toBeCloseTo(t, 9);
    }
  });

  it('changes the check when any replicated pose field changes in wire form', () => {
    const protocol = createProtocol();
    const c = createPoseComponents(16);
    const reg = registerPoseComponents(protocol, c);
    const p = c.RightControllerPose;
    p.px[3] = 0.5;
    const a = poseCheck(reg.right, 3);
    p.px[3] = 0.5002; // below the 1 mm step: same wire value
    expect(poseCheck(reg.right, 3)).toBe(a);
    p.stamp[3] = 12345; // the stamp itself is not part of it
    expect(poseCheck(reg.right, 3)).toBe(a);
    let differs = 0;
    for (let i = 1; i <= 50; i++) {
      p.pz[3] = i * 0.001;
      if (poseCheck(reg.right, 3) !== a) differs++;
    }
    expect(differs).toBeGreaterThan(45);
  });
});
