/**
 * A synthetic tracked hand for tests and the bench: an adult hand (the reference skeleton scaled by 1.06, larger
 * than the codec's reference) whose fingers follow a smooth trace of everyday gestures (open, pinch, grab, point,
 * relaxed) with small tremor, and which departs from the codec's joint model the way real hands do: the
 * intermediate and distal phalanges deviate sideways a little, and the ring and pinky metacarpals fold when the hand
 * closes (palm cupping). Joint positions come out in the wrist frame, like `XRFrame.getJointPose` relative to the
 * wrist, so the codec never sees the parameters that made them.
 */
import {
  HAND_JOINT_COUNT,
  HAND_JOINT_PARENT,
  HAND_PARAM_COUNT,
  HAND_SCALE_PARAM,
  HandSkeletonScratch,
  handJointPoses,
  JOINT_POSE_LENGTH,
} from '../src/vr/hand-skeleton.ts';

/** The adult hand's size against the codec's reference hand. */
export const SYNTHETIC_HAND_SCALE = 1.06;

/** Gesture targets: 20 angles (thumb then index..pinky, see hand-skeleton.ts). */
const GESTURES: ReadonlyArray<readonly number[]> = [
  // open, fingers slightly spread
  [
    0.1, 0.05, 0.05, 0.05, 0.12, 0.05, 0.05, 0.03, 0.02, 0.05, 0.05, 0.03, -0.1, 0.05, 0.05, 0.03, -0.22, 0.05, 0.05,
    0.03,
  ],
  // pinch: thumb and index meet, the others relaxed
  [0.35, 0.55, 0.35, 0.4, 0.02, 0.75, 0.6, 0.35, 0, 0.35, 0.35, 0.2, -0.05, 0.45, 0.4, 0.25, -0.12, 0.5, 0.45, 0.3],
  // grab: a fist around a handle
  [0.25, 0.7, 0.5, 0.55, 0.0, 1.35, 1.55, 0.95, 0, 1.4, 1.6, 1.0, -0.03, 1.35, 1.55, 0.95, -0.08, 1.3, 1.45, 0.9],
  // point: index out, others curled, thumb over the middle finger
  [0.3, 0.65, 0.45, 0.5, 0.08, 0.05, 0.05, 0.03, 0, 1.4, 1.6, 1.0, -0.03, 1.35, 1.55, 0.95, -0.08, 1.3, 1.45, 0.9],
  // relaxed: the natural half-curl
  [0.15, 0.2, 0.2, 0.15, 0.1, 0.3, 0.35, 0.2, 0.02, 0.35, 0.4, 0.22, -0.06, 0.4, 0.45, 0.25, -0.15, 0.45, 0.5, 0.3],
];

/** Time on one gesture (ms) and the transition into the next (ms): a grab closes in ~300 ms. */
const HOLD_MS = 700;
const MOVE_MS = 320;

function smoothstep(x: number): number {
  const t = x <= 0 ? 0 : x >= 1 ? 1 : x;
  return t * t * (3 - 2 * t);
}

/** Rotates point i of `p` (stride 7) about the axis (ax, ay, az) (unit) through point (cx, cy, cz) by `angle`. */
function rotateAbout(p: Float64Array, i: number, cx: number, cy: number, cz: number, a: number[], angle: number): void {
  const o = i * JOINT_POSE_LENGTH;
  const x = p[o] - cx;
  const y = p[o + 1] - cy;
  const z = p[o + 2] - cz;
  const [ax, ay, az] = a;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const dot = ax * x + ay * y + az * z;
  p[o] = cx + x * c + (ay * z - az * y) * s + ax * dot * (1 - c);
  p[o + 1] = cy + y * c + (az * x - ax * z) * s + ay * dot * (1 - c);
  p[o + 2] = cz + z * c + (ax * y - ay * x) * s + az * dot * (1 - c);
}

/** An axis of joint j's frame (0 = X, 1 = Y) from its quaternion. */
function axisOf(p: Float64Array, j: number, which: 0 | 1): number[] {
  const o = j * JOINT_POSE_LENGTH + 3;
  const [x, y, z, w] = [p[o], p[o + 1], p[o + 2], p[o + 3]];
  return which === 0
    ? [1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)]
    : [2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)];
}

/** Joints downstream of joint j (j included), by the parent table. */
function chainFrom(j: number): number[] {
  const out = [j];
  for (let k = j + 1; k < HAND_JOINT_COUNT; k++) if (out.includes(HAND_JOINT_PARENT[k])) out.push(k);
  return out;
}

/** A synthetic hand: `jointsAt(tMs)` gives its 25 joint poses (wrist frame) at trace time t. */
export class SyntheticHand {
  readonly left: boolean;
  private readonly seed: number;
  private readonly params = new Float64Array(HAND_PARAM_COUNT);
  private readonly scratch = new HandSkeletonScratch();
  private readonly order: number[];

  constructor(seed: number, left = false) {
    this.seed = seed;
    this.left = left;
    // a seeded gesture order (no Math.random: runs repeat)
    let x = (seed * 2654435761) >>> 0;
    this.order = [];
    for (let i = 0; i < 64; i++) {
      x = (x * 1664525 + 1013904223) >>> 0;
      this.order.push(x % GESTURES.length);
    }
  }

  /** The gesture blend's 20 angles plus tremor at time t into this.params. */
  private paramsAt(tMs: number): Float64Array {
    const period = HOLD_MS + MOVE_MS;
    const n = Math.floor(tMs / period);
    const from = GESTURES[this.order[((n % 64) + 64) % 64]];
    const to = GESTURES[this.order[(((n + 1) % 64) + 64) % 64]];
    const u = smoothstep((tMs - n * period - HOLD_MS) / MOVE_MS);
    const ts = tMs / 1000;
    for (let i = 0; i < 20; i++) {
      const tremor = 0.025 * Math.sin(2 * Math.PI * (0.7 + 0.13 * i) * ts + this.seed + i * 1.7);
      this.params[i] = from[i] + (to[i] - from[i]) * u + tremor;
    }
    // the metacarpal fold is not a parameter here: the palm cupping below is applied to the joint positions
    this.params[20] = 0;
    this.params[21] = 0;
    this.params[HAND_SCALE_PARAM] = SYNTHETIC_HAND_SCALE;
    return this.params;
  }

  /** How closed the hand is at t (0 open .. ~1 fist), from the index and middle proximal curls. */
  private closure(p: Float64Array): number {
    return Math.max(0, Math.min(1, (p[5] + p[9]) / 2.7));
  }

  /** Writes the 25 joint poses (wrist frame, 25 x 7) at trace time `tMs` into `out`. */
  jointsAt(tMs: number, out: Float64Array): void {
    const p = this.paramsAt(tMs);
    handJointPoses(p, false, this.scratch, out);
    // departures from the codec's model: sideways phalanx deviation (0.03-0.05 rad) and palm cupping
    const ts = tMs / 1000;
    for (const finger of [6, 11, 16, 21]) {
      const dev = 0.04 * Math.sin(ts * 1.3 + finger);
      const mid = finger + 1;
      const o = mid * JOINT_POSE_LENGTH;
      const chain = chainFrom(mid).slice(1);
      for (const k of chain) rotateAbout(out, k, out[o], out[o + 1], out[o + 2], axisOf(out, mid, 1), dev);
    }
    const cup = this.closure(p);
    for (const [meta, angle] of [
      [15, 0.06],
      [20, 0.12],
    ] as const) {
      const o = meta * JOINT_POSE_LENGTH;
      const axis = axisOf(out, meta, 0);
      for (const k of chainFrom(meta).slice(1)) rotateAbout(out, k, out[o], out[o + 1], out[o + 2], axis, -angle * cup);
    }
    if (this.left) for (let j = 0; j < HAND_JOINT_COUNT; j++) out[j * JOINT_POSE_LENGTH] *= -1;
  }
}
