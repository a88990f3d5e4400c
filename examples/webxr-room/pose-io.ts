/** Moving poses between the replicated `Pose` arrays and three.js objects (room coordinates both). */
import * as THREE from 'three';
import type { RoomProtocol } from './protocol.ts';

type PoseStore = RoomProtocol['Pose'];

/** Reads entity `eid`'s replicated pose into `position` and `quaternion`. */
export function readPose(Pose: PoseStore, eid: number, position: THREE.Vector3, quaternion: THREE.Quaternion): void {
  position.set(Pose.px[eid], Pose.py[eid], Pose.pz[eid]);
  quaternion.set(Pose.qx[eid], Pose.qy[eid], Pose.qz[eid], Pose.qw[eid]);
}

/** Writes a pose into entity `eid`'s replicated arrays (sent when this peer owns it). */
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
