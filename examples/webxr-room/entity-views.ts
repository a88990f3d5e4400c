/**
 * What the page draws for replicated entities: a head or hand for every other user's avatar parts, a mesh for every
 * object. Replicated poses arrive at the send rate (30 Hz), so each view glides towards its entity's latest pose
 * instead of jumping; objects the local hand holds are drawn where the hand has them.
 */
import * as THREE from 'three';
import { hasComponent, query } from 'bitecs';
import type { World } from 'bitecs';
import { isOwnedLocally, Networked, ownerOf } from '../../src/index.ts';
import { AVATAR_PARTS, SHAPES } from './protocol.ts';
import type { RoomProtocol } from './protocol.ts';
import { readPose } from './pose-io.ts';
import { createHandMesh, createHeadMesh, createObjectMesh, userColor } from './scene.ts';

/**
 * Time constant of the glide, in ms: a view covers 63 % of the way to a new pose in this time, 99 % in 5x. 40 ms
 * smooths 30 Hz steps and keeps a remote hand less than one frame behind where plain interpolation would have it.
 */
export const SMOOTHING_MS = 40;

interface View {
  object: THREE.Object3D;
  kind: 'head' | 'left' | 'right' | 'object';
  owner: number;
  seen: number;
}

/** A drawn entity, as the debug handle reports it. */
export interface ViewInfo {
  eid: number;
  kind: View['kind'];
  owner: number;
  /** Where the view is drawn (room coordinates). */
  rendered: [number, number, number];
  /** The entity's replicated position. */
  replicated: [number, number, number];
  /** False while the owner's link is lost (suspended). */
  visible: boolean;
}

/** The views of one world. */
export interface EntityViews {
  /** Creates, moves and removes views; `dtMs` is the time since the last call. */
  update(dtMs: number, localMatrix: (eid: number) => THREE.Matrix4 | null): void;
  /** The drawn transform of `eid`, or null when it has no view. */
  matrixOf(eid: number): THREE.Matrix4 | null;
  /** Every view, for the debug handle and the tests. */
  list(): ViewInfo[];
}

/** Keeps a three.js view per replicated entity of `world` in `scene`; avatars of users `isAway` are hidden. */
export function createEntityViews(
  world: World,
  room: RoomProtocol,
  scene: THREE.Scene,
  isAway: (clientId: number) => boolean,
): EntityViews {
  const { Pose, AvatarPart, Grabbable } = room;
  const views = new Map<number, View>();
  const target = new THREE.Vector3();
  const targetRotation = new THREE.Quaternion();
  let frame = 0;

  const create = (eid: number): View | null => {
    if (hasComponent(world, eid, AvatarPart)) {
      if (isOwnedLocally(world, eid)) return null; // our own head and hands: drawn from the headset directly
      const kind = AVATAR_PARTS[AvatarPart.part[eid]] ?? 'head';
      const color = userColor(ownerOf(world, eid));
      return { object: kind === 'head' ? createHeadMesh(color) : createHandMesh(color), kind, owner: -1, seen: 0 };
    }
    if (hasComponent(world, eid, Grabbable)) {
      const mesh = createObjectMesh(SHAPES[Grabbable.shape[eid]] ?? 'cube', Grabbable.color[eid]);
      return { object: mesh, kind: 'object', owner: -1, seen: 0 };
    }
    return null;
  };

  const recolor = (view: View, owner: number) => {
    view.owner = owner;
    view.object.traverse((node) => {
      const material = (node as THREE.Mesh).material as THREE.MeshStandardMaterial | undefined;
      if (!material?.emissive) return;
      if (view.kind === 'object') material.emissive.setHex(owner === 0 ? 0 : userColor(owner)).multiplyScalar(0.3);
      else if (material.color.getHex() !== 0x111111) material.color.setHex(userColor(owner));
    });
  };

  return {
    update(dtMs, localMatrix) {
      frame++;
      const alpha = 1 - Math.exp(-Math.max(0, dtMs) / SMOOTHING_MS);
      for (const eid of query(world, [Networked, Pose])) {
        let view = views.get(eid);
        if (view && view.kind !== 'object' && isOwnedLocally(world, eid)) continue; // became ours: removed below
        const fresh = view === undefined;
        if (!view) {
          const made = create(eid);
          if (!made) continue;
          view = made;
          views.set(eid, view);
          scene.add(view.object);
        }
        view.seen = frame;
        const owner = ownerOf(world, eid);
        if (owner !== view.owner) recolor(view, owner);
        if (view.kind !== 'object') view.object.visible = !isAway(owner);
        const held = localMatrix(eid);
        if (held) {
          held.decompose(view.object.position, view.object.quaternion, view.object.scale);
          continue;
        }
        readPose(Pose, eid, target, targetRotation);
        if (fresh || isOwnedLocally(world, eid)) {
          view.object.position.copy(target);
          view.object.quaternion.copy(targetRotation);
        } else {
          view.object.position.lerp(target, alpha);
          view.object.quaternion.slerp(targetRotation, alpha);
        }
      }
      for (const [eid, view] of views) {
        if (view.seen === frame) continue;
        scene.remove(view.object);
        views.delete(eid);
      }
    },
    matrixOf(eid) {
      const view = views.get(eid);
      if (!view) return null;
      view.object.updateMatrixWorld();
      return view.object.matrixWorld;
    },
    list() {
      return [...views].map(([eid, v]) => ({
        eid,
        kind: v.kind,
        owner: v.owner,
        rendered: v.object.position.toArray() as [number, number, number],
        replicated: [Pose.px[eid], Pose.py[eid], Pose.pz[eid]],
        visible: v.object.visible,
      }));
    },
  };
}
