/**
 * The standard motion trace: a seeded, realistic head and two hands (reaches, waves, head look-arounds, body turns
 * and steps, idle sway) that can be sampled at any time, so tests and benchmarks measure pose quality the same way
 * every time. Pure function of (seed, device, t): every gesture schedule is generated lazily from its own seeded
 * stream, so sampling order does not matter.
 *
 * Frame: WebXR's (metres, +Y up, -Z forward). Hand speeds average ~0.5 m/s and peak near 2.5 m/s (waves, reaches
 * during a body turn); the head walks at up to ~0.9 m/s and turns at up to ~6 rad/s.
 *
 * @example
 * const trace = createMotionTrace(7);
 * const s = new Float64Array(TRACE_SAMPLE_LENGTH);
 * trace.sample(TraceDevice.right, 1234.5, s); // s = px,py,pz, qx,qy,qz,qw, vx,vy,vz, wx,wy,wz
 */
import { createRandom, type Random } from '../random.ts';
import { angularVelocityBetween, quatMultiply, quatNormalize } from './pose-math.ts';

/** Devices of the trace. */
export const TraceDevice = {
  /** The head. */
  head: 0,
  /** The left controller. */
  left: 1,
  /** The right controller. */
  right: 2,
} as const;
/** A device of the trace. */
export type TraceDeviceId = (typeof TraceDevice)[keyof typeof TraceDevice];

/** Numbers per sample: position (3), orientation (4), linear velocity (3), angular velocity (3). */
export const TRACE_SAMPLE_LENGTH = 13;

/** Half-width of the central difference for velocities: 0.25 ms keeps float64 error far below 1 mm/s. */
const DIFF_HALF_MS = 0.25;

/** A seeded motion trace. */
export interface MotionTrace {
  /** The seed the trace was made from (the same seed gives the same motion). */
  readonly seed: number;
  /** Writes the pose of `device` at `tMs` (>= 0) into `out` (TRACE_SAMPLE_LENGTH numbers). */
  sample(device: TraceDeviceId, tMs: number, out: Float64Array): void;
}

/** Minimum-jerk profile: 0 -> 1 over u in [0, 1] with zero velocity and acceleration at both ends. */
function minJerk(u: number): number {
  if (u <= 0) return 0;
  if (u >= 1) return 1;
  return u * u * u * (10 + u * (-15 + 6 * u));
}

/** A timed segment of some channel; `a`..`f` are its parameters. */
interface Segment {
  t0: number;
  end: number;
  kind: number;
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

/** Lazily generated, contiguous segments of one behaviour. */
class Channel {
  readonly segments: Segment[] = [];
  private readonly rng: Random;
  private readonly make: (rng: Random, t0: number, prev: Segment | undefined) => Segment;

  constructor(seed: number, make: (rng: Random, t0: number, prev: Segment | undefined) => Segment) {
    this.rng = createRandom(seed);
    this.make = make;
  }

  /** The segment covering `t` (ms). */
  at(t: number): Segment {
    const s = this.segments;
    while (s.length === 0 || s[s.length - 1].end <= t) {
      const prev = s[s.length - 1];
      s.push(this.make(this.rng, prev ? prev.end : 0, prev));
    }
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid].end <= t) lo = mid + 1;
      else hi = mid;
    }
    return s[lo];
  }
}

function seg(t0: number, dur: number, kind: number, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0): Segment {
  return { t0, end: t0 + dur, kind, a, b, c, d, e, f };
}

/** Value of a "move from a to b in c ms, then hold" segment. */
function moveValue(s: Segment, t: number, from: number, to: number): number {
  return from + (to - from) * minJerk((t - s.t0) / s.c);
}

const Gesture = { idle: 0, reach: 1, wave: 2 } as const;

/** Rest positions of the hands in the body frame (m). */
const REST = [
  [-0.18, 1.05, -0.28],
  [0.18, 1.05, -0.28],
] as const;
/** Eye height of the head in the body frame (m). */
const HEAD_HEIGHT_M = 1.65;

/** Creates the standard motion trace for `seed`. */
export function createMotionTrace(seed = 1): MotionTrace {
  const base = (seed | 0) * 7919;
  // Body yaw: turns of 0.5..1.6 rad over 0.8..1.6 s, then 2..6 s still. a = from, b = to, c = move ms.
  const yaw = new Channel(base + 1, (rng, t0, prev) => {
    const from = prev ? prev.b : 0;
    const move = rng.range(800, 1600);
    const turn = rng.range(0.5, 1.6) * (rng.next() < 0.5 ? -1 : 1);
    return seg(t0, move + rng.range(2000, 6000), 0, from, from + turn, move);
  });
  // Body steps inside a 1 m radius: a,b = from x,z; d,e = to x,z; c = move ms.
  const step = new Channel(base + 2, (rng, t0, prev) => {
    const fx = prev ? prev.d : 0;
    const fz = prev ? prev.e : 0;
    const move = rng.range(1000, 2000);
    const ang = rng.range(0, 2 * Math.PI);
    const dist = rng.range(0.2, 0.5);
    let tx = fx + Math.cos(ang) * dist;
    let tz = fz + Math.sin(ang) * dist;
    const r = Math.hypot(tx, tz);
    if (r > 1) {
      tx /= r;
      tz /= r;
    }
    return seg(t0, move + rng.range(6000, 15000), 0, fx, fz, move, tx, tz);
  });
  // Head look-arounds: yaw +-0.6, pitch +-0.35 rad over 0.25..0.6 s, then 0.8..2.5 s still. a,b from; d,e to.
  const look = new Channel(base + 3, (rng, t0, prev) => {
    const move = rng.range(250, 600);
    return seg(
      t0,
      move + rng.range(800, 2500),
      0,
      prev ? prev.d : 0,
      prev ? prev.e : 0,
      move,
      rng.range(-0.6, 0.6),
      rng.range(-0.35, 0.25),
    );
  });
  // Hand gestures. reach: a,b,c = target offset, d = in ms, e = hold ms, f = out ms.
  // wave: a = amplitude m, b = Hz, c = waving ms, d = raise ms, e = lower ms, f = phase.
  const hand = (side: number) =>
    new Channel(base + 10 + side, (rng, t0) => {
      const r = rng.next();
      if (r < 0.3) return seg(t0, rng.range(1000, 3000), Gesture.idle);
      if (r < 0.75) {
        const din = rng.range(500, 1000);
        const hold = rng.range(200, 800);
        const dout = rng.range(500, 1000);
        const sx = side === 0 ? -1 : 1;
        return seg(
          t0,
          din + hold + dout,
          Gesture.reach,
          sx * rng.range(-0.25, 0.35),
          rng.range(-0.2, 0.45),
          rng.range(-0.45, -0.15),
          din,
          hold,
          dout,
        );
      }
      const raise = rng.range(350, 500);
      const lower = rng.range(350, 500);
      const waving = rng.range(1500, 3000);
      return seg(
        t0,
        raise + waving + lower,
        Gesture.wave,
        rng.range(0.06, 0.12),
        rng.range(1.5, 2.5),
        waving,
        raise,
        lower,
        rng.range(0, 2 * Math.PI),
      );
    });
  const hands = [hand(0), hand(1)];
  const swayRng = createRandom(base + 20);
  const phases = Array.from({ length: 12 }, () => swayRng.range(0, 2 * Math.PI));

  const q = new Float64Array(4);
  const q2 = new Float64Array(4);

  /** Writes the device position (3) and orientation (4) at t into out[0..6]. */
  function pose(device: number, t: number, out: Float64Array, o: number): void {
    const ts = t / 1000;
    const ys = yaw.at(t);
    const psi = moveValue(ys, t, ys.a, ys.b);
    const ss = step.at(t);
    const u = minJerk((t - ss.t0) / ss.c);
    const bx = ss.a + (ss.d - ss.a) * u;
    const bz = ss.b + (ss.e - ss.b) * u;
    let lx: number;
    let ly: number;
    let lz: number;
    // Body-frame orientation into q.
    if (device === TraceDevice.head) {
      const ls = look.at(t);
      const lu = minJerk((t - ls.t0) / ls.c);
      const hy = ls.a + (ls.d - ls.a) * lu;
      const hp = ls.b + (ls.e - ls.b) * lu;
      const roll = 0.04 * Math.sin(0.7 * ts + phases[0]);
      lx = 0.012 * Math.sin(1.3 * ts + phases[1]);
      ly = HEAD_HEIGHT_M + 0.008 * Math.sin(2.1 * ts + phases[2]);
      lz = 0.01 * Math.sin(0.9 * ts + phases[3]);
      // yaw(hy) * pitch(hp) * roll(roll)
      quatMultiply(0, Math.sin(hy / 2), 0, Math.cos(hy / 2), Math.sin(hp / 2), 0, 0, Math.cos(hp / 2), q2, 0);
      quatMultiply(q2[0], q2[1], q2[2], q2[3], 0, 0, Math.sin(roll / 2), Math.cos(roll / 2), q, 0);
    } else {
      const side = device === TraceDevice.left ? 0 : 1;
      const sx = side === 0 ? -1 : 1;
      const g = hands[side].at(t);
      const rest = REST[side];
      const k = 2 + 3 * side;
      lx = rest[0] + 0.005 * Math.sin(1.9 * ts + phases[k]);
      ly = rest[1] + 0.005 * Math.sin(1.4 * ts + phases[k + 1]);
      lz = rest[2] + 0.004 * Math.sin(1.1 * ts + phases[k + 2]);
      let pitch = -0.3;
      let roll = -0.2 * sx;
      const dt = t - g.t0;
      if (g.kind === Gesture.reach) {
        const w = dt < g.d ? minJerk(dt / g.d) : dt < g.d + g.e ? 1 : 1 - minJerk((dt - g.d - g.e) / g.f);
        lx += g.a * w;
        ly += g.b * w;
        lz += g.c * w;
        pitch += 1.2 * g.b * w;
        roll += 0.6 * g.a * w;
      } else if (g.kind === Gesture.wave) {
        const waveEnd = g.d + g.c;
        const raise = dt < g.d ? minJerk(dt / g.d) : dt < waveEnd ? 1 : 1 - minJerk((dt - waveEnd) / g.e);
        // Envelope: waving fades in and out over 300 ms so velocities stay continuous.
        const wt = dt - g.d;
        const env = minJerk(wt / 300) * (1 - minJerk((wt - g.c + 300) / 300));
        const osc = Math.sin(2 * Math.PI * g.b * (wt / 1000) + g.f);
        const osc2 = Math.sin(4 * Math.PI * g.b * (wt / 1000) + g.f);
        lx += sx * 0.12 * raise + env * g.a * osc;
        ly += 0.5 * raise + env * 0.25 * g.a * osc2;
        lz += -0.05 * raise;
        pitch += 1.2 * raise;
        roll += env * 0.5 * osc;
      }
      quatMultiply(Math.sin(pitch / 2), 0, 0, Math.cos(pitch / 2), 0, 0, Math.sin(roll / 2), Math.cos(roll / 2), q, 0);
    }
    // Body frame -> world: yaw psi about +Y, then the body position.
    const c = Math.cos(psi);
    const s = Math.sin(psi);
    out[o] = bx + c * lx + s * lz;
    out[o + 1] = ly;
    out[o + 2] = bz - s * lx + c * lz;
    quatMultiply(0, Math.sin(psi / 2), 0, Math.cos(psi / 2), q[0], q[1], q[2], q[3], out, o + 3);
    quatNormalize(out, o + 3);
  }

  const before = new Float64Array(7);
  const after = new Float64Array(7);
  const w4 = new Float64Array(4);
  return {
    seed,
    sample(device, tMs, out) {
      const t = tMs > DIFF_HALF_MS ? tMs : DIFF_HALF_MS;
      pose(device, t, out, 0);
      pose(device, t - DIFF_HALF_MS, before, 0);
      pose(device, t + DIFF_HALF_MS, after, 0);
      const h = (2 * DIFF_HALF_MS) / 1000;
      out[7] = (after[0] - before[0]) / h;
      out[8] = (after[1] - before[1]) / h;
      out[9] = (after[2] - before[2]) / h;
      angularVelocityBetween(before[3], before[4], before[5], before[6], after[3], after[4], after[5], after[6], h, w4);
      out[10] = w4[0];
      out[11] = w4[1];
      out[12] = w4[2];
    },
  };
}
