/**
 * Attack family "write paths": a client tries to put values the server's rules forbid through every path that
 * writes a component. Each test checks the server never throws, the write is refused (or clamped), counted and
 * reported with its code, the writer is corrected back to the server's value, and honest clients converge.
 */
import { describe, expect, it } from 'vitest';
import { addWriteRule, writeGateStatsOf } from '../../src/index.ts';
import { VrStepper, type VrPeer } from '../vr/vr-stepper.ts';

/** Moves `peer` off the VR layer: the stepper drives it as a plain client (generic owner writes) from now on. */
function dropVr(s: VrStepper, peer: VrPeer): void {
  peer.vr.dispose();
  s.clients.splice(s.clients.indexOf(peer), 1);
  const step = s.step.bind(s);
  s.step = (drive) => {
    step(drive);
    peer.net.receive(peer.world);
    peer.net.send(peer.world);
  };
}

describe('write paths: the VR pose rules apply to a generic owner Delta', () => {
  it('refuses HeadPose.px = 25 written through a plain owner Delta, and corrects the writer', () => {
    const s = new VrStepper({
      seed: 3,
      server: { validation: { playArea: { min: [-2, 0, -2], max: [2, 2.5, 2] } } },
    });
    const attacker = s.addClient();
    const viewer = s.addClient();
    s.run(60);
    const avatar = s.spawnAvatar(attacker);
    s.run(30);
    // The attacker drops its VR layer: the pose components go back to the generic owner-write path.
    dropVr(s, attacker);
    const head = s.local(attacker, avatar.head);
    expect(head).toBeGreaterThan(0);
    const serverHead = s.server.components.HeadPose;
    const before = serverHead.px[avatar.head];
    attacker.components.HeadPose.px[head] = 25;
    expect(() => s.run(30)).not.toThrow();
    expect(serverHead.px[avatar.head]).toBe(before);
    expect(viewer.components.HeadPose.px[s.local(viewer, avatar.head)]).toBe(before);
    // Corrected: the attacker's own copy is back at the server's value.
    expect(attacker.components.HeadPose.px[head]).toBeCloseTo(before, 3);
    expect(s.server.errors.some((e) => (e as { code?: string }).code === 'InvalidWrite')).toBe(true);
    expect(writeGateStatsOf(s.server.world).refused).toBeGreaterThan(0);
    void addWriteRule;
  });
});
