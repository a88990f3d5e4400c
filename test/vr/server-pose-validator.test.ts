/** The server's pose checks: bounds, speed limit, play area, application rules, non-finite input. */
import { describe, expect, it } from 'vitest';
import { createPoseCheck, DeviceKind, PoseValidator } from '../../src/vr/server-pose-validator.ts';

function check(pose: number[], previous: number[] | null, dtMs: number, device: 0 | 1 | 2 = DeviceKind.right) {
  const c = createPoseCheck();
  c.clientId = 7;
  c.device = device;
  c.dtMs = dtMs;
  c.hasPrevious = previous !== null;
  if (previous) c.previous.set(previous);
  c.pose.set(pose);
  return c;
}

describe('server pose validator', () => {
  it('accepts a plausible pose unchanged', () => {
    const c = check([0.5, 1.2, -0.3, 0, 0, 0, 1], [0.49, 1.2, -0.3, 0, 0, 0, 1], 33);
    new PoseValidator({ playArea: { min: [-2, 0, -2], max: [2, 2.5, 2] } }).validate(c);
    expect(Array.from(c.pose)).toEqual([0.5, 1.2, -0.3, 0, 0, 0, 1]);
  });

  it('clamps into the world bounds and the play area', () => {
    const v = new PoseValidator({
      bounds: { min: [-10, 0, -10], max: [10, 3, 10] },
      playArea: (clientId) => (clientId === 7 ? { min: [-1, 0, -1], max: [1, 2, 1] } : null),
    });
    const c = check([1.5, -0.2, 0.3, 0, 0, 0, 1], null, 0);
    v.validate(c);
    expect(Array.from(c.pose.subarray(0, 3))).toEqual([1, 0, 0.3]);
  });

  it('limits speed against the last accepted pose, per device kind', () => {
    const v = new PoseValidator({ maxSpeedMps: { head: 2, controller: 10 } });
    const hand = check([1, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], 50);
    v.validate(hand);
    expect(hand.pose[0]).toBeCloseTo(0.5, 12); // 10 m/s x 50 ms
    const head = check([1, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], 50, DeviceKind.head);
    v.validate(head);
    expect(head.pose[0]).toBeCloseTo(0.1, 12);
  });

  it('runs application rules last and replaces non-finite input', () => {
    const v = new PoseValidator({ rules: [(c) => (c.pose[1] = Math.max(c.pose[1], 0.5))] });
    const c = check([0, 0.1, 0, 0, 0, 0, 1], null, 0);
    v.validate(c);
    expect(c.pose[1]).toBe(0.5);
    const bad = check([NaN, 1, 0, 0, 0, 0, 1], [0.2, 1, 0, 0, 0, 0, 1], 33);
    v.validate(bad);
    expect(Array.from(bad.pose)).toEqual([0.2, 1, 0, 0, 0, 0, 1]);
  });
});
