/**
 * Attack family "write paths": a client tries to put values the server's rules forbid through every path that
 * writes a component. Each test checks the server never throws, the write is refused (or clamped), counted and
 * reported with its code, the writer is corrected back to the server's value, and honest clients converge.
 */
import { describe, expect, it } from 'vitest';
import {
  addWriteRule,
  clientIdOf,
  entityOfNetworkId,
  Grabbable,
  isOwnedLocally,
  networkIdOf,
  ownerOf,
  writeGateStatsOf,
  type WriteCheck,
  type WriteOutcome,
} from '../../src/index.ts';
import type { NetError } from '../../src/errors.ts';
import { createRoom, join, peerCounters, poseOf, run } from '../authority/authority-harness.ts';
import { spawn, type Stepper } from '../helpers/fixture.ts';
import { VrStepper, type VrPeer } from '../../harness/vr-stepper.ts';

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
  });

  it('refuses a pose stamp written by Delta (the stamp belongs to the stream)', () => {
    const s = new VrStepper({ seed: 6 });
    const attacker = s.addClient();
    s.run(60);
    const avatar = s.spawnAvatar(attacker);
    s.run(30);
    dropVr(s, attacker);
    s.run(10); // the last streamed poses land
    const head = s.local(attacker, avatar.head);
    const before = s.server.components.HeadPose.stamp[avatar.head];
    attacker.components.HeadPose.stamp[head] = before + 12345;
    s.run(30);
    expect(s.server.components.HeadPose.stamp[avatar.head]).toBe(before);
    expect(attacker.components.HeadPose.stamp[head]).toBe(before);
    expect(s.server.errors.some((e) => (e as NetError).message.includes('stamp'))).toBe(true);
  });

  it('still accepts a pose written by Delta within the limits', () => {
    const s = new VrStepper({ seed: 4, server: { validation: { playArea: { min: [-2, 0, -2], max: [2, 2.5, 2] } } } });
    const owner = s.addClient();
    s.run(60);
    const avatar = s.spawnAvatar(owner);
    s.run(30);
    dropVr(s, owner);
    const head = s.local(owner, avatar.head);
    const start = s.server.components.HeadPose.py[avatar.head];
    // 5 mm per 30 Hz send tick is 0.15 m/s: far under the head's 8 m/s.
    for (let i = 1; i <= 30; i++) {
      owner.components.HeadPose.py[head] = start + i * 0.005;
      s.run(3);
    }
    s.run(10);
    expect(s.server.components.HeadPose.py[avatar.head]).toBeCloseTo(start + 30 * 0.005, 3);
    expect(writeGateStatsOf(s.server.world).refused).toBe(0);
  });
});

/** The application's rule on the fixture's Pose: x beyond 10 m is refused, y below the floor is clamped to 0. */
function roomRule(check: WriteCheck): string | undefined {
  if (check.proposed[check.slot.px] > 10) return 'outside the room';
  if (check.proposed[check.slot.py] < 0) check.proposed[check.slot.py] = 0;
  return undefined;
}

function codes(errors: Error[]): string[] {
  return errors.map((e) => (e as NetError).code);
}

async function grabbedBox(seed: number, onAction?: (write: (x: number, y: number) => WriteOutcome) => unknown) {
  let box = 0;
  const room = createRoom({
    seed,
    authority: (fx) => ({
      pose: poseOf(fx),
      onAction: (ctx) => onAction?.((x, y) => ctx.write(box, fx.Pose, { px: x, py: y })),
    }),
  });
  const { s } = room;
  addWriteRule(s.server.world, s.server.Pose, roomRule);
  const a = join(s, 'participant:ann', (fx) => ({ pose: poseOf(fx) }));
  const viewer = join(s, 'participant:vic');
  await run(s, 10);
  box = spawn(s.server, [s.server.Pose, Grabbable]);
  s.server.Pose.px[box] = 1;
  s.server.Pose.py[box] = 1;
  await run(s, 10);
  const netId = networkIdOf(s.server.world, box);
  const boxA = entityOfNetworkId(a.world, netId);
  const boxV = entityOfNetworkId(viewer.world, netId);
  return { ...room, a, viewer, box, boxA, boxV };
}

async function grab(s: Stepper, a: ReturnType<typeof join>, boxA: number): Promise<void> {
  const granted = a.authority.requestOwnership(boxA);
  await run(s, 10);
  expect(await granted).toBe(true);
  expect(isOwnedLocally(a.world, boxA)).toBe(true);
}

describe('write paths: an application rule applies on every path', () => {
  it('owner Delta: refused outside the room (owner corrected), clamped above the floor', async () => {
    const { s, a, viewer, box, boxA, boxV } = await grabbedBox(31);
    await grab(s, a, boxA);
    const ida = clientIdOf(a.world);
    a.Pose.px[boxA] = 20;
    await run(s, 10);
    expect(s.server.Pose.px[box]).toBeCloseTo(1, 3);
    expect(viewer.Pose.px[boxV]).toBeCloseTo(1, 3);
    expect(a.Pose.px[boxA]).toBeCloseTo(1, 3); // corrected back
    expect(peerCounters(s, ida).rejectedWrites).toBeGreaterThan(0);
    expect(codes(s.server.errors)).toContain('InvalidWrite');
    expect(a.errors.map((e) => (e as NetError).code)).toContain('InvalidWrite');
    a.Pose.px[boxA] = 2;
    a.Pose.py[boxA] = -3;
    await run(s, 10);
    expect(s.server.Pose.px[box]).toBeCloseTo(2, 3);
    expect(s.server.Pose.py[box]).toBeCloseTo(0, 3);
    expect(viewer.Pose.py[boxV]).toBeCloseTo(0, 3);
    expect(a.Pose.py[boxA]).toBeCloseTo(0, 3); // the clamp reached the owner
    const stats = writeGateStatsOf(s.server.world);
    expect(stats.refused).toBeGreaterThan(0);
    expect(stats.clamped).toBeGreaterThan(0);
  });

  it('release: a held object let go outside the room stays where the server had it; below the floor is clamped', async () => {
    const { s, a, viewer, box, boxA, boxV } = await grabbedBox(32);
    await grab(s, a, boxA);
    // The owner stream is slower than the release message: the release pose is what is checked.
    a.Pose.px[boxA] = 50;
    a.authority.release(boxA);
    await run(s, 10);
    expect(ownerOf(s.server.world, box)).toBe(0);
    expect(s.server.Pose.px[box]).toBeCloseTo(1, 3);
    expect(viewer.Pose.px[boxV]).toBeCloseTo(1, 3);
    expect(codes(s.server.errors)).toContain('InvalidWrite');
    await grab(s, a, boxA);
    a.Pose.px[boxA] = 3;
    a.Pose.py[boxA] = -2;
    a.authority.release(boxA);
    await run(s, 10);
    expect(s.server.Pose.px[box]).toBeCloseTo(3, 3);
    expect(s.server.Pose.py[box]).toBeCloseTo(0, 3);
    expect(viewer.Pose.py[boxV]).toBeCloseTo(0, 3);
  });

  it('action: a handler writing for its client goes through the same rule', async () => {
    const outcomes: WriteOutcome[] = [];
    const { s, a, viewer, box, boxV } = await grabbedBox(33, (write) => {
      outcomes.push(write(20, 1), write(4, -1), write(NaN, 1));
      return null;
    });
    const done = a.authority.act({ move: true });
    await run(s, 10);
    await done;
    expect(outcomes.map((o) => o.verdict)).toEqual(['refused', 'clamped', 'refused']);
    expect(outcomes[0].reason).toBe('outside the room');
    expect(s.server.Pose.px[box]).toBeCloseTo(4, 3);
    expect(s.server.Pose.py[box]).toBeCloseTo(0, 3);
    expect(viewer.Pose.px[boxV]).toBeCloseTo(4, 3);
    expect(codes(s.server.errors).filter((c) => c === 'InvalidWrite')).toHaveLength(2);
  });

  it('pose stream: an application rule on HeadPose clamps streamed poses and corrects the owner', () => {
    const s = new VrStepper({ seed: 5 });
    addWriteRule(s.server.world, s.server.components.HeadPose, (w) => {
      if (w.proposed[w.slot.py] > 1.8) w.proposed[w.slot.py] = 1.8; // a low ceiling
    });
    const owner = s.addClient();
    const viewer = s.addClient();
    s.run(60);
    const avatar = s.spawnAvatar(owner);
    s.run(30);
    const head = s.local(owner, avatar.head);
    s.run(300, (peer) => {
      if (peer !== owner) return;
      const p = owner.components.HeadPose;
      p.py[head] = Math.min(2.2, p.py[head] + 0.01);
    });
    expect(s.server.components.HeadPose.py[avatar.head]).toBeCloseTo(1.8, 2);
    expect(viewer.components.HeadPose.py[s.local(viewer, avatar.head)]).toBeCloseTo(1.8, 2);
    // The owner's reconciliation brought its head back under the ceiling.
    expect(owner.components.RenderPose.py[head]).toBeLessThan(1.85);
    expect(writeGateStatsOf(s.server.world).clamped).toBeGreaterThan(0);
  });
});
