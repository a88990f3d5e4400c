/**
 * The fixed part of a hand's skeleton: each bone's length, where each metacarpal starts in the wrist's frame, and the
 * metacarpals' rest directions (yaw, pitch, roll), and each joint's twist about its bone (the plane its child curls in). The reference adult hand is the default; a calibrated shape
 * (hand-calibration.ts) carries the user's own proportions, measured by the owner and sent once, so the stream only
 * carries angles. Wrist frame, right hand's layout (see hand-skeleton.ts).
 */
import { quatMultiply } from './pose-math.ts';

/** Joints of an XRHand, in the WebXR order. */
export const HAND_JOINT_COUNT = 25;

/** The five metacarpal joints (children of the wrist). */
export const METACARPAL_JOINTS = [1, 5, 10, 15, 20] as const;

/** Metacarpals whose rest direction is calibrated (no streamed angle moves them): index and middle. */
export const MEASURED_REST_JOINTS = [5, 10] as const;

/** Joints whose bone (to the next joint) has a length: every joint but the wrist and the tips. */
export const BONE_JOINTS = [1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 15, 16, 17, 18, 20, 21, 22, 23] as const;

/**
 * Reference bone lengths (m): each joint's bone runs to its child (tips have none). Adult means from radiographic
 * phalanx and metacarpal measurements (thumb 46/32/26 mm, index 68/40/23/20, middle 65/45/27/21, ring 59/42/26/21,
 * pinky 54/33/18/19), the distal bone measured to the fingertip.
 */
const BONE_LENGTH_M = [
  0, 0.046, 0.032, 0.026, 0, 0.068, 0.04, 0.023, 0.02, 0, 0.065, 0.045, 0.027, 0.021, 0, 0.059, 0.042, 0.026, 0.021, 0,
  0.054, 0.033, 0.018, 0.019, 0,
];

/** Where each metacarpal starts in the wrist frame (m, right hand), and its rest direction (yaw, pitch, roll rad). */
const METACARPAL_ROOTS: ReadonlyArray<readonly [number, number, number, number, number, number, number]> = [
  // joint, x, y, z, yaw (about +Y: + turns toward the thumb), pitch (about +X: - toward the palm), roll (about -Z)
  [1, -0.022, -0.012, -0.025, 0.75, -0.35, -0.9],
  [5, -0.012, 0.002, -0.028, 0.1, 0, 0],
  [10, -0.002, 0.002, -0.03, 0, 0, 0],
  [15, 0.01, 0.001, -0.028, -0.1, 0, 0],
  [20, 0.02, -0.002, -0.024, -0.22, -0.04, 0],
];

/** q = Ry(yaw) * Rx(pitch) * Rz(roll) into out[o..o+3]. */
export function rotationYawPitchRoll(yaw: number, pitch: number, roll: number, out: Float64Array, o: number): void {
  const cy = Math.cos(yaw / 2);
  const sy = Math.sin(yaw / 2);
  const cp = Math.cos(pitch / 2);
  const sp = Math.sin(pitch / 2);
  const cr = Math.cos(roll / 2);
  const sr = Math.sin(roll / 2);
  quatMultiply(0, sy, 0, cy, sp, 0, 0, cp, out, o);
  quatMultiply(out[o], out[o + 1], out[o + 2], out[o + 3], 0, 0, sr, cr, out, o);
}

/** One hand's fixed skeleton (lengths in m, angles in rad). `refresh()` after changing `rest`. */
export class HandShape {
  /** Length of the bone starting at joint j (0 for the wrist and the tips). */
  readonly bone = new Float64Array(HAND_JOINT_COUNT);
  /** Metacarpal j's start in the wrist frame at root[j * 3 ..] (other joints unused). */
  readonly root = new Float64Array(HAND_JOINT_COUNT * 3);
  /** Metacarpal j's rest yaw, pitch, roll at rest[j * 3 ..] (other joints unused). */
  readonly rest = new Float64Array(HAND_JOINT_COUNT * 3);
  /** Twist of joint j about its bone (applied after its splay and curl): it sets the plane its child curls in. */
  readonly twist = new Float64Array(HAND_JOINT_COUNT);
  /** Rest rotation of each joint relative to its parent, derived from `rest` by `refresh()`. */
  readonly restRotation = new Float64Array(HAND_JOINT_COUNT * 4);

  constructor() {
    this.setReference();
  }

  /** Makes this the reference adult hand. */
  setReference(): this {
    this.bone.set(BONE_LENGTH_M);
    this.root.fill(0);
    this.rest.fill(0);
    this.twist.fill(0);
    for (const [j, x, y, z, yaw, pitch, roll] of METACARPAL_ROOTS) {
      this.root.set([x, y, z], j * 3);
      this.rest.set([yaw, pitch, roll], j * 3);
    }
    return this.refresh();
  }

  /** Copies `other` into this. */
  copy(other: HandShape): this {
    this.bone.set(other.bone);
    this.root.set(other.root);
    this.rest.set(other.rest);
    this.twist.set(other.twist);
    return this.refresh();
  }

  /** Recomputes the rest rotations from `rest`. */
  refresh(): this {
    const q = this.restRotation;
    q.fill(0);
    for (let j = 0; j < HAND_JOINT_COUNT; j++) q[j * 4 + 3] = 1;
    for (const j of METACARPAL_JOINTS)
      rotationYawPitchRoll(this.rest[j * 3], this.rest[j * 3 + 1], this.rest[j * 3 + 2], q, j * 4);
    return this;
  }
}

/** The reference adult hand (shared, never modified). */
export const REFERENCE_HAND_SHAPE: Readonly<HandShape> = new HandShape();
