/**
 * The server's jitter buffer of owner pose streams (pose-retimer.ts): one pose per server tick on a regular
 * timeline, from the curve through real samples, never past the newest; and end to end, the viewer's stream has no
 * holes where writing the newest pose at each tick has many.
 */
import { describe, expect, it } from 'vitest';
import { measureRemoteHandQuality } from '../../harness/remote-hand-quality.ts';
import { type Avatar, TraceDriver, VrStepper } from '../../harness/vr-stepper.ts';
import { createRandom } from '../../src/index.ts';
import { InterpolationBuffer } from '../../src/vr/interpolation-buffer.ts';
import { PoseRetimer, type RetimedPose } from '../../src/vr/pose-retimer.ts';
import { getVrContext } from '../../src/vr/vr-context.ts';

const SEND_MS = 1000 / 30;

/** A hand moving on a circle of 0.3 m at 0.5 turns/s: position and velocity at t (ms). */
function circle(t: number, pose: Float64Array, vel: Float64Array): void {
  const w = Math.PI; // rad/s
  const a = (w * t) / 1000;
  pose.set([0.3 * Math.cos(a), 1.2, 0.3 * Math.sin(a), 0, 0, 0, 1]);
  vel.set([-0.3 * w * Math.sin(a), 0, 0.3 * w * Math.cos(a), 0, 0, 0]);
}

interface Written {
  atMs: number;
  timeMs: number;
  x: number;
  z: number;
  newestMs: number;
}

/**
 * An owner sampling at 30 Hz whose packets reach the server after 50 ms + uniform 0-20 ms of jitter, the server
 * ticking at 30 Hz: what the retimer writes at each tick, over `seconds`.
 */
function run(seconds: number, seed: number): Written[] {
  const retimer = new PoseRetimer();
  const random = createRandom(seed);
  const pose = new Float64Array(7);
  const vel = new Float64Array(6);
  const arrivals: Array<{ at: number; t: number }> = [];
  for (let i = 0; i * SEND_MS < seconds * 1000; i++)
    arrivals.push({ at: i * SEND_MS + 50 + 20 * random.next(), t: i * SEND_MS });
  arrivals.sort((a, b) => a.at - b.at);
  const out: Written[] = [];
  let next = 0;
  let newest = -Infinity;
  for (let tick = 0; tick * SEND_MS < seconds * 1000; tick++) {
    // ticks fall inside the spread of arrivals (50-70 ms after each send), as they do for some owner clocks
    const now = tick * SEND_MS + 25;
    while (next < arrivals.length && arrivals[next].at <= now) {
      const a = arrivals[next++];
      circle(a.t, pose, vel);
      retimer.accept(1, 10, 2, a.at, a.t, pose, vel, 250);
      newest = Math.max(newest, a.t);
    }
    retimer.retime(now, (p: RetimedPose) => {
      out.push({ atMs: now, timeMs: p.timeMs, x: p.pose[0], z: p.pose[2], newestMs: newest });
      return true;
    });
  }
  return out;
}

describe('pose retimer', () => {
  it('writes one pose per server tick on a regular timeline, from the curve through real samples', () => {
    const w = run(10, 3);
    const steady = w.filter((x) => x.atMs > 2000);
    expect(steady.length).toBeGreaterThan(200);
    let irregular = 0;
    const pose = new Float64Array(7);
    const vel = new Float64Array(6);
    for (let i = 1; i < steady.length; i++) {
      const gap = steady[i].timeMs - steady[i - 1].timeMs;
      expect(gap).toBeGreaterThan(0);
      if (gap < 0.8 * SEND_MS || gap > 1.2 * SEND_MS) irregular++;
      // never past the newest sample the server had
      expect(steady[i].timeMs).toBeLessThanOrEqual(steady[i].newestMs);
      // the curve through the samples (Hermite with their velocities) is the motion itself, within 1 mm
      circle(steady[i].timeMs, pose, vel);
      expect(Math.hypot(steady[i].x - pose[0], steady[i].z - pose[2])).toBeLessThan(0.001);
    }
    expect(irregular).toBeLessThanOrEqual(2);
  });

  it('a device that pauses resumes from its first new sample; the owner’s other devices keep their pace', () => {
    const retimer = new PoseRetimer();
    const pose = new Float64Array(7);
    const vel = new Float64Array(6);
    const written = new Map<number, number[]>();
    for (let tick = 0; tick < 200; tick++) {
      const now = tick * SEND_MS;
      circle(now - 40, pose, vel);
      retimer.accept(1, 10, 0, now, now - 40, pose, vel, 250);
      // device 11 sends nothing between 2 s and 4 s
      if (now < 2000 || now >= 4000) retimer.accept(1, 11, 1, now, now - 40, pose, vel, 250);
      retimer.retime(now + 1, (p) => {
        const list = written.get(p.eid) ?? [];
        list.push(p.timeMs);
        written.set(p.eid, list);
        return true;
      });
    }
    const head = written.get(10)!.filter((t) => t > 1000);
    for (let i = 1; i < head.length; i++) expect(head[i] - head[i - 1]).toBeCloseTo(SEND_MS, 0);
    const left = written.get(11)!;
    const gapAt = left.findIndex((t, i) => i > 0 && t - left[i - 1] > 1000);
    expect(gapAt).toBeGreaterThan(0);
    // it resumed with the sample that ends the gap, then went on at the tick's pace
    expect(left[gapAt]).toBeCloseTo(4000 - 40, 0);
    for (let i = gapAt + 2; i < left.length; i++) expect(left[i] - left[i - 1]).toBeCloseTo(SEND_MS, 0);
  });

  it('forgets a device its writer no longer accepts, and every device of an owner that left', () => {
    const retimer = new PoseRetimer();
    const pose = new Float64Array([0, 1, 0, 0, 0, 0, 1]);
    for (let i = 0; i < 30; i++) {
      retimer.accept(1, 10, 0, i * SEND_MS + 30, i * SEND_MS, pose, null, 250);
      retimer.accept(2, 20, 0, i * SEND_MS + 30, i * SEND_MS, pose, null, 250);
    }
    expect(retimer.deviceCount).toBe(2);
    let calls = 0;
    retimer.retime(30 * SEND_MS, (p) => {
      calls++;
      return p.eid !== 10;
    });
    expect(calls).toBe(2);
    expect(retimer.deviceCount).toBe(1);
    retimer.forgetOwner(2);
    expect(retimer.deviceCount).toBe(0);
  });
});

describe('interpolation buffer velocity', () => {
  it('is the derivative of the curve it samples', () => {
    const b = new InterpolationBuffer();
    const pose = new Float64Array(7);
    const vel = new Float64Array(6);
    for (let i = 0; i < 10; i++) {
      circle(i * SEND_MS, pose, vel);
      vel[4] = i * 0.1;
      b.push(i * SEND_MS, pose, 0, vel);
    }
    const v = new Float64Array(6);
    const a = new Float64Array(7);
    const c = new Float64Array(7);
    for (const t of [40, 100, 150.5, 250]) {
      b.velocityAt(t, v);
      b.sample(t - 0.01, 0, a);
      b.sample(t + 0.01, 0, c);
      for (let k = 0; k < 3; k++) expect(v[k]).toBeCloseTo((c[k] - a[k]) / 0.00002, 3);
      // angular velocity: between the two samples' own
      expect(v[4]).toBeCloseTo((t / SEND_MS) * 0.1, 6);
    }
  });
});

/** Gaps (ms) between the samples the viewer got of the owner's right controller, at 100 ms RTT and 20 ms jitter. */
function viewerGaps(retime: boolean): number[] {
  const link = { latencyMs: 50, jitterMs: 20, loss: 0 };
  const s = new VrStepper({ seed: 5, server: { retime } });
  const owner = s.addClient(link);
  const viewer = s.addClient(link);
  s.run(90);
  const avatar = s.spawnAvatar(owner);
  s.run(45);
  const driver = new TraceDriver(5);
  const local: Avatar = { head: 0, left: 0, right: 0 };
  const t0 = s.clock.now();
  const drive = (peer: typeof owner, now: number) => {
    if (peer !== owner) return;
    local.head = s.local(owner, avatar.head);
    local.left = s.local(owner, avatar.left);
    local.right = s.local(owner, avatar.right);
    driver.drive(owner, local, now - t0);
  };
  s.run(270, drive);
  const vr = getVrContext(viewer.world);
  if (vr.role !== 'client') throw new Error('client expected');
  const eid = s.local(viewer, avatar.right);
  const gaps: number[] = [];
  let last = vr.remote.get(eid)!.buffer.newestTime;
  for (let f = 0; f < 900; f++) {
    s.step(drive);
    const t = vr.remote.get(eid)!.buffer.newestTime;
    if (t !== last) gaps.push(t - last);
    last = t;
  }
  return gaps;
}

describe('retiming end to end', () => {
  it('the viewer gets one sample per server tick; writing the newest pose at each tick leaves holes', () => {
    const holes = (g: number[]) => g.filter((x) => x > 1.5 * SEND_MS).length / g.length;
    const retimed = viewerGaps(true);
    const direct = viewerGaps(false);
    expect(retimed.length).toBeGreaterThan(250);
    expect(holes(retimed)).toBe(0);
    expect(holes(direct)).toBeGreaterThan(0.05);
  });

  it('keeps the remote hand within 1.5 mm RMS of the delayed truth at 100 ms RTT and inside the delay budget', () => {
    for (const seed of [1, 5]) {
      const q = measureRemoteHandQuality({ rttMs: 100, jitterMs: 20, loss: 0, seconds: 6, seed });
      expect(q.rmsMm).toBeLessThan(1.5);
      expect(q.displayDelayExcessMs).toBeLessThanOrEqual(0);
      expect(q.maxJumpExcessMm).toBeLessThan(2);
    }
  });
});
