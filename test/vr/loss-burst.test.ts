/** SPEC 6: bursts of 10 consecutive lost packets, up or down, recover without divergence. */
import { describe, expect, it } from 'vitest';
import { clientIdOf, type LinkConditions } from '../../src/index.ts';
import { TRACE_SAMPLE_LENGTH, TraceDevice } from '../../src/vr/motion-trace.ts';
import { DEFAULT_RECONCILE_OPTIONS } from '../../src/vr/reconciliation.ts';
import { getVrContext } from '../../src/vr/vr-context.ts';
import { poseClockOffsetMs, remoteRenderTimeMs } from '../../src/vr/vr-plugin.ts';
import { type Avatar, TraceDriver, VrStepper, type VrPeer } from '../../harness/vr-stepper.ts';

const LINK: LinkConditions = { latencyMs: 50, jitterMs: 20, loss: 0.02 };

function room(seed: number) {
  const s = new VrStepper({ seed });
  const owner = s.addClient(LINK);
  const viewer = s.addClient(LINK);
  s.run(90);
  const avatar = s.spawnAvatar(owner);
  s.run(45);
  const driver = new TraceDriver(seed);
  const local: Avatar = {
    head: s.local(owner, avatar.head),
    left: s.local(owner, avatar.left),
    right: s.local(owner, avatar.right),
  };
  const t0 = s.clock.now();
  const drive = (peer: VrPeer, now: number) => {
    if (peer === owner) driver.drive(owner, local, now - t0);
  };
  return { s, owner, viewer, avatar, driver, local, t0, drive };
}

/** Drops exactly the next `count` packets of one direction of `peer`'s link, then restores it. */
function burst(r: ReturnType<typeof room>, peer: VrPeer, direction: 'up' | 'down', count: number): void {
  const net = r.s.network;
  const link = peer.link!;
  const before = net.linkStats(link)[direction].dropped;
  net.setConditions(link, { [direction]: { ...LINK, loss: 1 } });
  let guard = 0;
  while (net.linkStats(link)[direction].dropped - before < count && guard++ < 200) r.s.step(r.drive);
  net.setConditions(link, { [direction]: LINK });
  expect(net.linkStats(link)[direction].dropped - before).toBe(count);
}

/** The viewer's right hand against the owner's true hand at the render time, over `ms` (mm). */
function viewerError(r: ReturnType<typeof room>, ms: number): { rms: number; max: number; maxJumpExcess: number } {
  const e = r.s.local(r.viewer, r.avatar.right);
  const truth = new Float64Array(TRACE_SAMPLE_LENGTH);
  const rp = r.viewer.components.RenderPose;
  let sum = 0;
  let n = 0;
  let max = 0;
  let maxJumpExcess = 0;
  let prev: number[] | null = null;
  for (let f = 0; f < Math.ceil(ms / r.s.frameMs); f++) {
    r.s.step(r.drive);
    const g = remoteRenderTimeMs(r.viewer.world, e) - poseClockOffsetMs(r.s.server.world, clientIdOf(r.owner.world));
    r.driver.trace.sample(TraceDevice.right, g - r.t0, truth);
    const cur = [rp.px[e], rp.py[e], rp.pz[e], truth[0], truth[1], truth[2]];
    const err = Math.hypot(cur[0] - cur[3], cur[1] - cur[4], cur[2] - cur[5]) * 1000;
    sum += err * err;
    max = Math.max(max, err);
    n++;
    if (prev) {
      const jump = Math.hypot(cur[0] - prev[0], cur[1] - prev[1], cur[2] - prev[2]);
      const motion = Math.hypot(cur[3] - prev[3], cur[4] - prev[4], cur[5] - prev[5]);
      maxJumpExcess = Math.max(maxJumpExcess, (jump - motion) * 1000);
    }
    prev = cur;
  }
  return { rms: Math.sqrt(sum / n), max, maxJumpExcess };
}

/** Server, owner and viewer agree on the hand once it holds still. */
function expectConverged(r: ReturnType<typeof room>): void {
  const hold = (peer: VrPeer) => {
    if (peer !== r.owner) return;
    r.driver.drive(r.owner, r.local, 60_000);
    // a hand held still reports no velocity
    for (const [eid, store] of [
      [r.local.head, r.owner.components.HeadPose],
      [r.local.left, r.owner.components.LeftControllerPose],
      [r.local.right, r.owner.components.RightControllerPose],
    ] as const) {
      for (const k of ['vx', 'vy', 'vz', 'wx', 'wy', 'wz'] as const) store[k][eid] = 0;
    }
  };
  r.s.run(180, hold);
  const own = r.owner.components.RightControllerPose;
  const srv = r.s.server.components.RightControllerPose;
  const view = r.viewer.components.RenderPose;
  const eOwner = r.local.right;
  const eViewer = r.s.local(r.viewer, r.avatar.right);
  for (const k of ['px', 'py', 'pz'] as const) {
    expect(Math.abs(srv[k][r.avatar.right] - own[k][eOwner]), `server vs owner ${k}`).toBeLessThanOrEqual(0.0005);
    expect(Math.abs(view[k][eViewer] - srv[k][r.avatar.right]), `viewer vs server ${k}`).toBeLessThanOrEqual(0.0005);
  }
  expect(Math.abs(r.owner.components.RenderPose.px[eOwner] - own.px[eOwner])).toBeLessThanOrEqual(1e-6);
  const vr = getVrContext(r.owner.world);
  if (vr.role !== 'client') throw new Error('client expected');
  for (const dev of vr.owned.values()) expect(dev.state.active).toBe(false);
}

/**
 * After a burst the viewer glides from what it showed to the live track (a 150 ms blend: never a pop), then follows
 * as well as before.
 */
function expectRecovers(r: ReturnType<typeof room>, before: { rms: number }): void {
  const recovery = viewerError(r, 1000);
  // The glide covers at most the largest error seen (plus what the interpolated track itself moves in a frame).
  const blendStep = (1.1 * recovery.max * r.s.frameMs) / DEFAULT_RECONCILE_OPTIONS.blendMs;
  expect(recovery.maxJumpExcess).toBeLessThanOrEqual(blendStep + 3);
  // a pop would move the whole error in one frame
  expect(recovery.maxJumpExcess).toBeLessThan(Math.max(10, recovery.max / 4));
  const after = viewerError(r, 3000);
  expect(after.rms).toBeLessThan(Math.max(2, before.rms * 1.5));
  expect(after.maxJumpExcess).toBeLessThan(3);
}

describe('loss bursts', () => {
  it('10 lost owner packets in a row: the server and viewers catch up, nothing diverges', () => {
    const r = room(31);
    r.s.run(360, r.drive);
    const before = viewerError(r, 3000);
    burst(r, r.owner, 'up', 10);
    expectRecovers(r, before);
    expectConverged(r);
  });

  it('10 lost server packets in a row to the viewer: it recovers without divergence', () => {
    const r = room(32);
    r.s.run(360, r.drive);
    const before = viewerError(r, 3000);
    burst(r, r.viewer, 'down', 10);
    expectRecovers(r, before);
    expectConverged(r);
  });

  it('10 lost packets each way, three times over: still recovers and converges', () => {
    const r = room(33);
    r.s.run(360, r.drive);
    const before = viewerError(r, 3000);
    for (let i = 0; i < 3; i++) {
      burst(r, r.owner, 'up', 10);
      burst(r, r.viewer, 'down', 10);
      r.s.run(100, r.drive);
    }
    expectRecovers(r, before);
    expectConverged(r);
  });
});
