/**
 * The server's checks on owner-written poses, in order: world bounds, speed limit (against the last accepted pose),
 * the owner's play area, then the application's own rules. Each check may move the proposed pose; what is left is
 * accepted, and if it differs from what the owner sent, the owner gets a correction. Ownership is checked before
 * any of this (a write to a device the sender does not own is dropped, never validated).
 *
 * @example
 * addVrPoses(world, { components, validation: {
 *   playArea: (clientId) => ({ min: [-2, 0, -2], max: [2, 2.5, 2] }),
 *   maxSpeedMps: { controller: 15 },
 *   rules: [(check) => { if (check.pose[1] < 0) check.pose[1] = 0; }], // nothing below the floor
 * } });
 */
import { POSE_LENGTH } from './pose-history.ts';

/** Kinds of tracked devices. */
export const DeviceKind = {
  /** The head (XR viewer). */
  head: 0,
  /** The left controller or hand. */
  left: 1,
  /** The right controller or hand. */
  right: 2,
} as const;
/** A device kind. */
export type DeviceKindId = (typeof DeviceKind)[keyof typeof DeviceKind];

/** An axis-aligned box in world space (m). */
export interface Box {
  /** Corner with the smallest x, y and z, in metres. */
  readonly min: readonly [number, number, number];
  /** Corner with the largest x, y and z, in metres. */
  readonly max: readonly [number, number, number];
}

/** One pose under validation. Rules read it and may change `pose`. */
export interface PoseCheck {
  /** Client id of the device's owner (the sender). */
  clientId: number;
  /** Server entity id of the device. */
  eid: number;
  /** Which device the pose is of: head, left or right controller. */
  device: DeviceKindId;
  /** The owner's tick of this pose. */
  tick: number;
  /** Time since the previous accepted pose of this device (ms, 0 for the first). */
  dtMs: number;
  /** Whether `previous` holds a pose. */
  hasPrevious: boolean;
  /** Last accepted pose: px, py, pz, qx, qy, qz, qw. */
  readonly previous: Float64Array;
  /** Proposed pose (px, py, pz, qx, qy, qz, qw); what it holds after the checks is accepted. */
  readonly pose: Float64Array;
}

/** An application rule: inspect `check` and move `check.pose` to correct it. */
export type PoseRule = (check: PoseCheck) => void;

/** What the server checks. */
export interface PoseValidationOptions {
  /** Hard world bounds (default: none beyond the quantization range). */
  bounds?: Box;
  /** Speed limits (m/s) between consecutive accepted poses. */
  maxSpeedMps?: {
    /** Limit of the head, in m/s (default 8). */
    head?: number;
    /** Limit of each controller, in m/s (default 20). */
    controller?: number;
  };
  /** Where each client may put its devices; null = anywhere. */
  playArea?: Box | ((clientId: number) => Box | null);
  /** Application rules, run last, in order. */
  rules?: readonly PoseRule[];
}

/**
 * Default speed limits: a head is never faster than a sprint-lean (8 m/s), a controller than a punch with margin
 * (20 m/s). Tracking glitches beyond these are smoothed into the limit instead of teleporting the avatar.
 */
export const DEFAULT_MAX_SPEED_MPS = { head: 8, controller: 20 } as const;

/** Creates an empty check to reuse. */
export function createPoseCheck(): PoseCheck {
  return {
    clientId: 0,
    eid: 0,
    device: DeviceKind.head,
    tick: 0,
    dtMs: 0,
    hasPrevious: false,
    previous: new Float64Array([0, 0, 0, 0, 0, 0, 1]),
    pose: new Float64Array([0, 0, 0, 0, 0, 0, 1]),
  };
}

function clampToBox(pose: Float64Array, box: Box): void {
  for (let a = 0; a < 3; a++) {
    if (pose[a] < box.min[a]) pose[a] = box.min[a];
    else if (pose[a] > box.max[a]) pose[a] = box.max[a];
  }
}

/** Runs the configured checks. */
export class PoseValidator {
  private readonly options: PoseValidationOptions;
  private readonly headSpeed: number;
  private readonly controllerSpeed: number;

  constructor(options: PoseValidationOptions = {}) {
    this.options = options;
    this.headSpeed = options.maxSpeedMps?.head ?? DEFAULT_MAX_SPEED_MPS.head;
    this.controllerSpeed = options.maxSpeedMps?.controller ?? DEFAULT_MAX_SPEED_MPS.controller;
  }

  /** Validates `check.pose` in place; a pose that is not finite becomes the previous one (or the origin). */
  validate(check: PoseCheck): void {
    const pose = check.pose;
    for (let k = 0; k < POSE_LENGTH; k++) {
      if (!Number.isFinite(pose[k])) {
        if (check.hasPrevious) pose.set(check.previous);
        else pose.set([0, 0, 0, 0, 0, 0, 1]);
        break;
      }
    }
    const o = this.options;
    if (o.bounds) clampToBox(pose, o.bounds);
    if (check.hasPrevious) {
      const limit = check.device === DeviceKind.head ? this.headSpeed : this.controllerSpeed;
      const maxStep = (limit * check.dtMs) / 1000;
      const prev = check.previous;
      const dx = pose[0] - prev[0];
      const dy = pose[1] - prev[1];
      const dz = pose[2] - prev[2];
      const dist = Math.hypot(dx, dy, dz);
      if (dist > maxStep) {
        const k = dist > 0 ? maxStep / dist : 0;
        pose[0] = prev[0] + dx * k;
        pose[1] = prev[1] + dy * k;
        pose[2] = prev[2] + dz * k;
      }
    }
    const area = typeof o.playArea === 'function' ? o.playArea(check.clientId) : o.playArea;
    if (area) clampToBox(pose, area);
    if (o.rules) for (const rule of o.rules) rule(check);
  }
}
