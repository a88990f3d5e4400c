/**
 * Reconciliation of an owned tracked device with the server's corrections.
 *
 * Model: the owner shows predicted(t) = offset ∘ raw(t), where raw is the tracked input and the offset (a position
 * shift and a world-frame rotation, identity unless the server corrected) is the part of the server's verdict the
 * owner cannot know in advance (a play area it was not told about, a speed limit). A correction says "at tick T the
 * pose is S". The owner compares S with history[T].predicted; within tolerance nothing happens. Beyond it, it
 * rebases: the offset becomes S ∘ raw(T)^-1, and every recorded tick since T is predicted again from its raw input
 * (the local inputs since T are re-applied). When the server later accepts the raw input unchanged, its correction
 * equals raw(T), the offset snaps back to identity and the owner reports no correction in force.
 *
 * The visible change is never shown at once: the difference between what was on screen and the new prediction is
 * kept as an error that fades linearly to zero over `blendMs`, so each frame moves at most error x frame / blendMs
 * more than the hand itself.
 */
import { PoseHistory, POSE_LENGTH } from './pose-history.ts';
import { applyBlend, setBlendError } from './pose-blend.ts';
import { quatAngle, quatMultiply, quatNormalize } from './pose-math.ts';

/** Tuning of reconciliation. */
export interface ReconcileOptions {
  /** A correction closer than this to the predicted position is ignored (m). */
  positionToleranceM: number;
  /** ... and closer than this in angle (rad). */
  rotationToleranceRad: number;
  /** Time over which a visible correction fades in (ms). */
  blendMs: number;
}

/**
 * Defaults: 3 mm sits above the 1 mm quantization of both paths (up to ~1.7 mm apart in 3D after two roundings);
 * 1 degree above the ~0.3 degree worst case of 10-bit smallest-three; 150 ms blends a 10 cm push at < 1 cm per 90 Hz
 * frame, fast enough to feel responsive, slow enough not to pop.
 */
export const DEFAULT_RECONCILE_OPTIONS: ReconcileOptions = {
  positionToleranceM: 0.003,
  rotationToleranceRad: (1 * Math.PI) / 180,
  blendMs: 150,
};

/** What a correction did. */
export const CorrectionOutcome = {
  /** The tick is unknown (too old, not recorded) or older than a correction already applied. */
  ignored: 0,
  /** The prediction was within tolerance. */
  agreed: 1,
  /** The owner rebased on the server value and replayed its inputs. */
  rebased: 2,
} as const;

/** A correction outcome. */
export type CorrectionOutcomeId = (typeof CorrectionOutcome)[keyof typeof CorrectionOutcome];

/** Prediction state of one owned device. */
export class OwnedPoseState {
  readonly history: PoseHistory;
  /** Position shift (x, y, z) and world-frame rotation (x, y, z, w) applied to raw input. */
  readonly offset = new Float64Array([0, 0, 0, 0, 0, 0, 1]);
  /** True while the offset is not the identity (reported to the server on every send). */
  active = false;
  /** Newest correction tick applied (older ones arriving late are ignored). */
  lastCorrectionTick = -1;
  /** Visible error being blended out: position (3) and rotation (4), and when it started. */
  readonly blendError = new Float64Array([0, 0, 0, 0, 0, 0, 1]);
  blendStartMs = -Infinity;
  /** Latest raw input (7) and its capture time, written each frame. */
  readonly raw = new Float64Array([0, 0, 0, 0, 0, 0, 1]);
  /** Latest raw velocity (6), written each frame. */
  readonly rawVelocity = new Float64Array(6);
  rawTimeMs = 0;
  /** What was rendered last frame (7), the base of the next blend. */
  readonly displayed = new Float64Array([0, 0, 0, 0, 0, 0, 1]);
  hasDisplayed = false;
  /** Working pose of a rebase (the corrected display), so reconciling allocates nothing. */
  readonly scratch = new Float64Array(8);

  constructor(historyTicks?: number) {
    this.history = new PoseHistory(historyTicks);
  }

  /** Clears prediction state (ownership changed, reconnect). */
  reset(): void {
    this.history.clear();
    this.offset.set([0, 0, 0, 0, 0, 0, 1]);
    this.active = false;
    this.lastCorrectionTick = -1;
    this.blendError.set([0, 0, 0, 0, 0, 0, 1]);
    this.blendStartMs = -Infinity;
    this.hasDisplayed = false;
  }
}

/** Writes offset ∘ raw (raw at raw[r..r+6]) into out[o..o+6]. */
export function applyOffset(offset: Float64Array, raw: Float64Array, r: number, out: Float64Array, o: number): void {
  out[o] = raw[r] + offset[0];
  out[o + 1] = raw[r + 1] + offset[1];
  out[o + 2] = raw[r + 2] + offset[2];
  quatMultiply(offset[3], offset[4], offset[5], offset[6], raw[r + 3], raw[r + 4], raw[r + 5], raw[r + 6], out, o + 3);
  quatNormalize(out, o + 3);
}

/** Records tick `tick` from the latest raw input (predicted with the offset in force). */
export function recordTick(state: OwnedPoseState, tick: number): void {
  const h = state.history;
  const slot = h.record(tick, state.rawTimeMs);
  h.raw.set(state.raw, slot * POSE_LENGTH);
  h.velocity.set(state.rawVelocity, slot * 6);
  applyOffset(state.offset, state.raw, 0, h.predicted, slot * POSE_LENGTH);
}

/** Writes the pose to render now (prediction from the latest raw input plus the fading error) into out[0..6]. */
export function renderOwned(state: OwnedPoseState, nowMs: number, blendMs: number, out: Float64Array): void {
  applyOffset(state.offset, state.raw, 0, out, 0);
  applyBlend(out, state.blendError, state.blendStartMs, nowMs, blendMs, out);
  state.displayed.set(out.subarray(0, POSE_LENGTH));
  state.hasDisplayed = true;
}

/**
 * Applies the server's pose `server` (7 numbers) for tick `tick`: compares with history, and beyond tolerance
 * rebases, replays the recorded ticks since, and starts blending the visible difference out.
 */
export function reconcile(
  state: OwnedPoseState,
  tick: number,
  server: Float64Array,
  nowMs: number,
  options: ReconcileOptions,
): CorrectionOutcomeId {
  const h = state.history;
  const slot = h.slotOf(tick);
  if (slot < 0 || tick < state.lastCorrectionTick) return CorrectionOutcome.ignored;
  state.lastCorrectionTick = tick;
  // 1. compare with what was predicted at T
  const p = slot * POSE_LENGTH;
  const pr = h.predicted;
  const dist = Math.hypot(server[0] - pr[p], server[1] - pr[p + 1], server[2] - pr[p + 2]);
  const angle = quatAngle(server[3], server[4], server[5], server[6], pr[p + 3], pr[p + 4], pr[p + 5], pr[p + 6]);
  if (dist <= options.positionToleranceM && angle <= options.rotationToleranceRad) return CorrectionOutcome.agreed;
  // 2. rebase: the offset that turns raw(T) into the server's pose
  const raw = h.raw;
  const o = state.offset;
  o[0] = server[0] - raw[p];
  o[1] = server[1] - raw[p + 1];
  o[2] = server[2] - raw[p + 2];
  quatMultiply(server[3], server[4], server[5], server[6], -raw[p + 3], -raw[p + 4], -raw[p + 5], raw[p + 6], o, 3);
  quatNormalize(o, 3);
  const small =
    Math.hypot(o[0], o[1], o[2]) <= options.positionToleranceM &&
    quatAngle(o[3], o[4], o[5], o[6], 0, 0, 0, 1) <= options.rotationToleranceRad;
  if (small) o.set([0, 0, 0, 0, 0, 0, 1]);
  state.active = !small;
  // 3. replay: predict every recorded tick from T on again from its raw input
  for (let t = tick; t <= h.newestTick; t++) {
    const s = h.slotOf(t);
    if (s >= 0) applyOffset(o, raw, s * POSE_LENGTH, pr, s * POSE_LENGTH);
  }
  // 4. blend: what is on screen minus the new prediction now fades out from here
  if (state.hasDisplayed) {
    applyOffset(o, state.raw, 0, state.scratch, 0);
    setBlendError(state.displayed, state.scratch, state.blendError);
    state.blendStartMs = nowMs;
  }
  return CorrectionOutcome.rebased;
}
