/** Moving poses between the replicated pose arrays and three.js objects (room coordinates both). */
import * as THREE from 'three';

/** Position and rotation arrays: an object's `Pose`, a device's pose, or `RenderPose`. */
export type PoseStore = Record<'px' | 'py' | 'pz' | 'qx' | 'qy' | 'qz' | 'qw', Float32Array>;

/** A tracked device's arrays: a pose plus linear (m/s) and angular (rad/s) velocity. */
export type DeviceStore = PoseStore & Record<'vx' | 'vy' | 'vz' | 'wx' | 'wy' | 'wz', Float32Array>;

/** Position and rotation arrays for entity ids below `capacity` (identity rotations). */
export function createPoseStore(capacity: number): PoseStore {
  return {
    px: new Float32Array(capacity),
    py: new Float32Array(capacity),
    pz: new Float32Array(capacity),
    qx: new Float32Array(capacity),
    qy: new Float32Array(capacity),
    qz: new Float32Array(capacity),
    qw: new Float32Array(capacity).fill(1),
  };
}

/** Reads entity `eid`'s pose into `position` and `quaternion`. */
export function readPose(Pose: PoseStore, eid: number, position: THREE.Vector3, quaternion: THREE.Quaternion): void {
  position.set(Pose.px[eid], Pose.py[eid], Pose.pz[eid]);
  quaternion.set(Pose.qx[eid], Pose.qy[eid], Pose.qz[eid], Pose.qw[eid]);
}

/** Writes a pose into entity `eid`'s arrays (sent when this peer owns it). */
export function writePose(Pose: PoseStore, eid: number, position: THREE.Vector3, quaternion: THREE.Quaternion): void {
  Pose.px[eid] = position.x;
  Pose.py[eid] = position.y;
  Pose.pz[eid] = position.z;
  Pose.qx[eid] = quaternion.x;
  Pose.qy[eid] = quaternion.y;
  Pose.qz[eid] = quaternion.z;
  Pose.qw[eid] = quaternion.w;
}

const scratchPosition = new THREE.Vector3();
const scratchQuaternion = new THREE.Quaternion();
const scratchScale = new THREE.Vector3();

/** Writes the world transform of a matrix (a grip, a held object) into entity `eid`'s arrays. */
export function writePoseFromMatrix(Pose: PoseStore, eid: number, matrix: THREE.Matrix4): void {
  matrix.decompose(scratchPosition, scratchQuaternion, scratchScale);
  writePose(Pose, eid, scratchPosition, scratchQuaternion);
}

/** Writes a tracked device's pose (from its world matrix) and velocities into entity `eid`'s arrays. */
export function writeDevice(
  store: DeviceStore,
  eid: number,
  matrix: THREE.Matrix4,
  linear: THREE.Vector3,
  angular: THREE.Vector3,
): void {
  writePoseFromMatrix(store, eid, matrix);
  store.vx[eid] = linear.x;
  store.vy[eid] = linear.y;
  store.vz[eid] = linear.z;
  store.wx[eid] = angular.x;
  store.wy[eid] = angular.y;
  store.wz[eid] = angular.z;
}
