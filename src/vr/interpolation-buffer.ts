/**
 * Samples of one remote tracked device on the sample timeline (server clock, ms), and the pose at any render time:
 * between two samples positions are interpolated (cubic Hermite with the samples' velocities when they are close
 * together, else linear) and rotations slerped; past the newest sample the pose is extrapolated with its velocity
 * for at most the horizon, then held.
 */
import { POSE_LENGTH } from './pose-history.ts';
import { angularVelocityBetween, quatIntegrate, quatSlerp } from './pose-math.ts';

/** Samples kept per device: 32 at 30 Hz is ~1 s, far more than any interpolation delay needs. */
export const INTERPOLATION_BUFFER_SAMPLES = 32;

/**
 * Largest sample gap interpolated with Hermite curves: 250 ms. Across a few lost samples the owner's velocities at
 * both ends still describe the motion far better than a line (measured: the largest frame-to-frame excess drops from
 * 2.3 to 1.4 mm at 100 ms RTT / 2 % loss); across a longer gap (a loss burst) the motion in between is unknown and
 * endpoint velocities would only make the curve overshoot, so it is linear.
 */
export const HERMITE_MAX_GAP_MS = 250;

/**
 * Extrapolation follows the newest sample's acceleration (from the Hermite curve through the last two samples) for
 * at most this long, then goes on at the velocity reached: 50 ms covers the usual dry spells (a late sample or two)
 * with the curve of a decelerating hand, without letting a quadratic run away over a long horizon.
 */
export const ACCELERATION_HORIZON_MS = 50;

/** Largest acceleration used when extrapolating (m/s^2): a fast wave peaks near 20; beyond, the estimate is noise. */
const MAX_ACCELERATION = 25;

/**
 * Shortest span (ms) the extrapolation's acceleration is taken over: the curve through two samples a few ms apart
 * turns 1 mm of rounding into tens of m/s^2 (measured: frame-to-frame jumps of 4-6 mm past the true motion when a
 * stream had such pairs), so the older end is the newest sample at least this much older than the newest.
 */
export const MIN_ACCELERATION_GAP_MS = 15;

/** How the pose of a render time was obtained. */
export const SampleMode = {
  /** No sample yet. */
  empty: 0,
  /** Between two samples (or exactly on one). */
  interpolating: 1,
  /** Past the newest sample, within the horizon. */
  extrapolating: 2,
  /** Past the horizon (or before the oldest sample): a fixed pose. */
  holding: 3,
} as const;

/** A sampling mode. */
export type SampleModeId = (typeof SampleMode)[keyof typeof SampleMode];

/** How positions are interpolated between two samples. */
export type PositionInterpolation = 'hermite' | 'linear';

/** Ring of timestamped samples of one device. */
export class InterpolationBuffer {
  private readonly size: number;
  private readonly times: Float64Array;
  private readonly poses: Float64Array;
  private readonly vels: Float64Array;
  private readonly hasVel: Uint8Array;
  /** Index of the oldest sample, and how many there are. */
  private start = 0;
  count = 0;
  private readonly v0 = new Float64Array(6);
  private readonly v1 = new Float64Array(6);
  private readonly acc = new Float64Array(3);
  private readonly w4 = new Float64Array(4);

  constructor(size = INTERPOLATION_BUFFER_SAMPLES) {
    this.size = size;
    this.times = new Float64Array(size);
    this.poses = new Float64Array(size * POSE_LENGTH);
    this.vels = new Float64Array(size * 6);
    this.hasVel = new Uint8Array(size);
  }

  /** Time of the newest sample (-Infinity when empty). */
  get newestTime(): number {
    return this.count === 0 ? -Infinity : this.times[this.slot(this.count - 1)];
  }

  private slot(i: number): number {
    return (this.start + i) % this.size;
  }

  /**
   * Adds a sample at `timeMs`: pose (7 numbers at pose[p..]) and, if `vel` is given, its velocity (6 numbers:
   * linear m/s, angular rad/s). A sample not newer than the newest is dropped (returns false).
   */
  push(timeMs: number, pose: ArrayLike<number>, p: number, vel: ArrayLike<number> | null): boolean {
    if (!Number.isFinite(timeMs) || timeMs <= this.newestTime) return false;
    if (this.count === this.size) {
      this.start = (this.start + 1) % this.size;
      this.count--;
    }
    const s = this.slot(this.count);
    this.count++;
    this.times[s] = timeMs;
    for (let k = 0; k < POSE_LENGTH; k++) this.poses[s * POSE_LENGTH + k] = pose[p + k];
    if (vel) {
      for (let k = 0; k < 6; k++) this.vels[s * 6 + k] = vel[k];
      this.hasVel[s] = 1;
    } else this.hasVel[s] = 0;
    return true;
  }

  /** Replaces the pose (and velocity) of the newest sample, e.g. once a field that arrived late completes it. */
  replaceNewest(pose: ArrayLike<number>, p: number, vel: ArrayLike<number> | null): void {
    if (this.count === 0) return;
    const s = this.slot(this.count - 1);
    for (let k = 0; k < POSE_LENGTH; k++) this.poses[s * POSE_LENGTH + k] = pose[p + k];
    if (vel) {
      for (let k = 0; k < 6; k++) this.vels[s * 6 + k] = vel[k];
      this.hasVel[s] = 1;
    }
  }

  /**
   * If `timeMs` falls inside a gap between two samples longer than HERMITE_MAX_GAP_MS (a loss burst: nothing is
   * known about the motion in it), the time of the sample that ends the gap; else NaN.
   */
  gapEndAfter(timeMs: number): number {
    for (let i = this.count - 1; i > 0; i--) {
      const tb = this.times[this.slot(i)];
      const ta = this.times[this.slot(i - 1)];
      if (ta < timeMs && timeMs < tb) return tb - ta > HERMITE_MAX_GAP_MS ? tb : NaN;
      if (tb <= timeMs) return NaN;
    }
    return NaN;
  }

  /** Forgets every sample. */
  clear(): void {
    this.start = 0;
    this.count = 0;
  }

  /** Writes the velocity of sample i (given, or estimated from its neighbours) into out[0..5]. */
  private velocityOf(i: number, out: Float64Array): void {
    const s = this.slot(i);
    if (this.hasVel[s]) {
      for (let k = 0; k < 6; k++) out[k] = this.vels[s * 6 + k];
      return;
    }
    const a = i > 0 ? i - 1 : i;
    const b = i < this.count - 1 ? i + 1 : i;
    if (a === b) {
      out.fill(0);
      return;
    }
    const sa = this.slot(a);
    const sb = this.slot(b);
    const dtS = (this.times[sb] - this.times[sa]) / 1000;
    const P = this.poses;
    const pa = sa * POSE_LENGTH;
    const pb = sb * POSE_LENGTH;
    out[0] = (P[pb] - P[pa]) / dtS;
    out[1] = (P[pb + 1] - P[pa + 1]) / dtS;
    out[2] = (P[pb + 2] - P[pa + 2]) / dtS;
    angularVelocityBetween(
      P[pa + 3],
      P[pa + 4],
      P[pa + 5],
      P[pa + 6],
      P[pb + 3],
      P[pb + 4],
      P[pb + 5],
      P[pb + 6],
      dtS,
      this.w4,
    );
    out[3] = this.w4[0];
    out[4] = this.w4[1];
    out[5] = this.w4[2];
  }

  /**
   * Writes the velocity at `timeMs` into out[0..5] (linear m/s, angular rad/s): the derivative of the position curve
   * `sample` follows between two samples (Hermite or linear) and the angular velocity interpolated between theirs;
   * outside the samples, the nearest sample's velocity.
   */
  velocityAt(timeMs: number, out: Float64Array, interpolation: PositionInterpolation = 'hermite'): void {
    const n = this.count;
    if (n === 0) {
      out.fill(0);
      return;
    }
    const T = this.times;
    if (n === 1 || timeMs <= T[this.slot(0)]) return this.velocityOf(0, out);
    if (timeMs >= T[this.slot(n - 1)]) return this.velocityOf(n - 1, out);
    let i = n - 2;
    while (i > 0 && T[this.slot(i)] > timeMs) i--;
    const sa = this.slot(i);
    const sb = this.slot(i + 1);
    const dtS = (T[sb] - T[sa]) / 1000;
    const u = (timeMs - T[sa]) / (T[sb] - T[sa]);
    this.velocityOf(i, this.v0);
    this.velocityOf(i + 1, this.v1);
    const P = this.poses;
    const pa = sa * POSE_LENGTH;
    const pb = sb * POSE_LENGTH;
    const hermite = interpolation === 'hermite' && T[sb] - T[sa] <= HERMITE_MAX_GAP_MS;
    const d00 = 6 * u * u - 6 * u;
    const d10 = 3 * u * u - 4 * u + 1;
    const d11 = 3 * u * u - 2 * u;
    for (let k = 0; k < 3; k++) {
      out[k] = hermite
        ? (d00 * (P[pa + k] - P[pb + k])) / dtS + d10 * this.v0[k] + d11 * this.v1[k]
        : (P[pb + k] - P[pa + k]) / dtS;
      out[3 + k] = this.v0[3 + k] + (this.v1[3 + k] - this.v0[3 + k]) * u;
    }
  }

  /**
   * Writes the pose at `renderTimeMs` into out[0..6] and returns how it was obtained. Past the newest sample the pose
   * moves with the newest velocity for at most `horizonMs`, then holds.
   */
  sample(
    renderTimeMs: number,
    horizonMs: number,
    out: Float64Array,
    interpolation: PositionInterpolation = 'hermite',
  ): SampleModeId {
    const n = this.count;
    if (n === 0) return SampleMode.empty;
    const P = this.poses;
    const T = this.times;
    const first = this.slot(0);
    if (renderTimeMs <= T[first]) {
      for (let k = 0; k < POSE_LENGTH; k++) out[k] = P[first * POSE_LENGTH + k];
      return n === 1 && renderTimeMs === T[first] ? SampleMode.interpolating : SampleMode.holding;
    }
    const last = this.slot(n - 1);
    if (renderTimeMs > T[last]) return this.extrapolate(renderTimeMs, horizonMs, out);
    // 1. find the segment [i, i + 1] holding the render time (newest first: render times sit near the end)
    let i = n - 2;
    while (i > 0 && T[this.slot(i)] > renderTimeMs) i--;
    const sa = this.slot(i);
    const sb = this.slot(i + 1);
    const ta = T[sa];
    const tb = T[sb];
    const u = (renderTimeMs - ta) / (tb - ta);
    const pa = sa * POSE_LENGTH;
    const pb = sb * POSE_LENGTH;
    // 2. positions
    if (interpolation === 'hermite' && tb - ta <= HERMITE_MAX_GAP_MS) {
      this.velocityOf(i, this.v0);
      this.velocityOf(i + 1, this.v1);
      const dtS = (tb - ta) / 1000;
      const u2 = u * u;
      const u3 = u2 * u;
      const h00 = 2 * u3 - 3 * u2 + 1;
      const h10 = u3 - 2 * u2 + u;
      const h01 = -2 * u3 + 3 * u2;
      const h11 = u3 - u2;
      for (let k = 0; k < 3; k++) {
        out[k] = h00 * P[pa + k] + h10 * dtS * this.v0[k] + h01 * P[pb + k] + h11 * dtS * this.v1[k];
      }
    } else {
      for (let k = 0; k < 3; k++) out[k] = P[pa + k] + (P[pb + k] - P[pa + k]) * u;
    }
    // 3. rotation
    quatSlerp(P[pa + 3], P[pa + 4], P[pa + 5], P[pa + 6], P[pb + 3], P[pb + 4], P[pb + 5], P[pb + 6], u, out, 3);
    return SampleMode.interpolating;
  }

  /** Acceleration at the newest sample (into this.acc) from the Hermite curve of the last two given velocities. */
  private newestAcceleration(): void {
    const a = this.acc;
    a.fill(0);
    const n = this.count;
    if (n < 2) return;
    const s1 = this.slot(n - 1);
    let j = n - 2;
    while (j > 0 && this.times[s1] - this.times[this.slot(j)] < MIN_ACCELERATION_GAP_MS) j--;
    const s0 = this.slot(j);
    const gapMs = this.times[s1] - this.times[s0];
    if (!this.hasVel[s0] || !this.hasVel[s1] || gapMs > HERMITE_MAX_GAP_MS) return;
    const d = gapMs / 1000;
    const P = this.poses;
    const V = this.vels;
    let mag = 0;
    for (let k = 0; k < 3; k++) {
      // second derivative of the cubic Hermite at its end: (6 (p0 - p1) + 2 d (v0 + 2 v1)) / d^2
      const p0 = P[s0 * POSE_LENGTH + k];
      const p1 = P[s1 * POSE_LENGTH + k];
      a[k] = (6 * (p0 - p1) + 2 * d * (V[s0 * 6 + k] + 2 * V[s1 * 6 + k])) / (d * d);
      mag += a[k] * a[k];
    }
    mag = Math.sqrt(mag);
    if (mag > MAX_ACCELERATION) for (let k = 0; k < 3; k++) a[k] *= MAX_ACCELERATION / mag;
  }

  private extrapolate(renderTimeMs: number, horizonMs: number, out: Float64Array): SampleModeId {
    const i = this.count - 1;
    const s = this.slot(i);
    const p = s * POSE_LENGTH;
    const P = this.poses;
    let dt = renderTimeMs - this.times[s];
    const holding = dt > horizonMs;
    if (holding) dt = horizonMs > 0 ? horizonMs : 0;
    this.velocityOf(i, this.v0);
    this.newestAcceleration();
    const dtS = dt / 1000;
    // p + v t + a t^2 / 2 while t <= ACCELERATION_HORIZON_MS, then on at the velocity reached; a braking
    // acceleration stops at zero velocity on each axis instead of reversing the motion (a reach that ends).
    const horizonS = Math.min(dtS, ACCELERATION_HORIZON_MS / 1000);
    for (let k = 0; k < 3; k++) {
      const v = this.v0[k];
      const a = this.acc[k];
      const ta = v * a < 0 && -v / a < horizonS ? -v / a : horizonS;
      out[k] = P[p + k] + v * dtS + a * ta * (dtS - ta / 2);
    }
    quatIntegrate(P[p + 3], P[p + 4], P[p + 5], P[p + 6], this.v0[3], this.v0[4], this.v0[5], dtS, out, 3);
    return holding ? SampleMode.holding : SampleMode.extrapolating;
  }
}
