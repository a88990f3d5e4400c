/**
 * Moving around the room with the thumbsticks (xr-standard mapping: axes 2 and 3): the left stick walks smoothly
 * where the head looks, the right stick turns in snap steps (smooth turning makes most people queasy). The rig (the
 * user's tracking origin) moves; the head and hands follow it, and the server sees the walk in their poses.
 */
import * as THREE from 'three';

/** Walking speed at full stick, in m/s: a slow indoor walk. */
const WALK_SPEED_M_S = 1.4;
/** Stick deflection below this is ignored (worn sticks rest off centre). */
const DEADZONE = 0.2;
/** One snap turn, in radians (30 degrees), when the right stick passes the threshold; it re-arms below the rearm. */
const SNAP_TURN_RAD = Math.PI / 6;
const SNAP_THRESHOLD = 0.7;
const SNAP_REARM = 0.3;
/** The rig stays inside the room's play area, in metres from the centre (the server clamps poses at 4 m). */
const ROOM_LIMIT_M = 3.5;
/** Axes of the thumbstick in the xr-standard gamepad mapping. */
const STICK_X = 2;
const STICK_Y = 3;

/** Thumbstick locomotion of one page. */
export interface Locomotion {
  /** Applies this frame's sticks to the rig; `head` is the head's matrix in room coordinates. */
  update(dtMs: number, left: Gamepad | null, right: Gamepad | null, head: THREE.Matrix4): void;
  /** Metres walked and snap turns made, for the debug handle. */
  readonly walkedM: number;
  readonly turns: number;
}

/** Moves `rig` with the thumbsticks. */
export function createLocomotion(rig: THREE.Object3D): Locomotion {
  const forward = new THREE.Vector3();
  const side = new THREE.Vector3();
  const headAt = new THREE.Vector3();
  const up = new THREE.Vector3(0, 1, 0);
  let armed = true;
  const state = { walkedM: 0, turns: 0 };
  const axis = (pad: Gamepad | null, i: number) => {
    const v = pad?.axes[i] ?? 0;
    return Math.abs(v) < DEADZONE ? 0 : v;
  };

  return {
    update(dtMs, left, right, head) {
      const dt = Math.min(0.1, Math.max(0, dtMs / 1000)); // a stalled frame does not teleport
      const sx = axis(left, STICK_X);
      const sy = axis(left, STICK_Y);
      if (sx !== 0 || sy !== 0) {
        // Where the head looks, flattened onto the floor (stick forward is -y).
        forward.set(0, 0, -1).transformDirection(head).setY(0);
        if (forward.lengthSq() < 1e-6) forward.set(0, 0, -1);
        forward.normalize();
        side.crossVectors(forward, up);
        const step = WALK_SPEED_M_S * dt;
        rig.position.addScaledVector(forward, -sy * step).addScaledVector(side, sx * step);
        rig.position.x = THREE.MathUtils.clamp(rig.position.x, -ROOM_LIMIT_M, ROOM_LIMIT_M);
        rig.position.z = THREE.MathUtils.clamp(rig.position.z, -ROOM_LIMIT_M, ROOM_LIMIT_M);
        state.walkedM += step * Math.min(1, Math.hypot(sx, sy));
      }
      const turn = right?.axes[STICK_X] ?? 0;
      if (armed && Math.abs(turn) > SNAP_THRESHOLD) {
        armed = false;
        state.turns++;
        // Turn around the head, not the rig's origin, so the view does not swing sideways.
        headAt.setFromMatrixPosition(head);
        const angle = -Math.sign(turn) * SNAP_TURN_RAD;
        rig.position.sub(headAt).applyAxisAngle(up, angle).add(headAt);
        rig.rotation.y += angle;
      } else if (Math.abs(turn) < SNAP_REARM) armed = true;
      rig.updateMatrixWorld(true);
    },
    get walkedM() {
      return state.walkedM;
    },
    get turns() {
      return state.turns;
    },
  };
}
