/**
 * The owner's record of each tick it sent: the raw tracked input (what the server validates) and the predicted pose
 * it showed (what a correction is compared with), plus the input velocities. A ring indexed by tick.
 */

/** Ticks kept: 64 at 30 Hz is ~2 s, longer than any round trip a correction can take. */
export const POSE_HISTORY_TICKS = 64;

/** Numbers per pose: position (3) and orientation (4). */
export const POSE_LENGTH = 7;

/** Ring of per-tick raw and predicted poses of one owned device. */
export class PoseHistory {
  readonly capacity: number;
  /** Tick of each slot, -1 when empty. */
  readonly tick: Float64Array;
  /** Capture time (ms, local clock) of each slot. */
  readonly time: Float64Array;
  /** raw[slot * 7 ..]: px, py, pz, qx, qy, qz, qw as captured. */
  readonly raw: Float64Array;
  /** predicted[slot * 7 ..]: the raw pose with the correction in force applied. */
  readonly predicted: Float64Array;
  /** velocity[slot * 6 ..]: vx, vy, vz, wx, wy, wz as captured. */
  readonly velocity: Float64Array;
  /** Newest recorded tick, -1 when empty. */
  newestTick = -1;

  constructor(capacity = POSE_HISTORY_TICKS) {
    this.capacity = capacity;
    this.tick = new Float64Array(capacity).fill(-1);
    this.time = new Float64Array(capacity);
    this.raw = new Float64Array(capacity * POSE_LENGTH);
    this.predicted = new Float64Array(capacity * POSE_LENGTH);
    this.velocity = new Float64Array(capacity * 6);
  }

  /** Claims the slot of `tick` (overwriting what it held) and returns it; fill raw/predicted/velocity there. */
  record(tick: number, timeMs: number): number {
    const slot = tick % this.capacity;
    this.tick[slot] = tick;
    this.time[slot] = timeMs;
    if (tick > this.newestTick) this.newestTick = tick;
    return slot;
  }

  /** Slot holding `tick`, or -1 when it is not (or no longer) recorded. */
  slotOf(tick: number): number {
    if (!(tick >= 0) || !Number.isInteger(tick)) return -1;
    const slot = tick % this.capacity;
    return this.tick[slot] === tick ? slot : -1;
  }

  /** Forgets everything. */
  clear(): void {
    this.tick.fill(-1);
    this.newestTick = -1;
  }
}
