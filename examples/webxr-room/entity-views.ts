/**
 * What the page draws for replicated entities: a head or hand for every other user's avatar parts, a mesh for every
 * object. Avatar parts are drawn from the VR pose layer's RenderPose (interpolated at the owner's render time, no
 * smoothing of our own); objects from the attachment layer's RenderPose: a held object is drawn exactly there (its
 * holder's RenderPose of this frame times its offset, so it sits rigidly in the hand as this page draws the hand),
 * a free one arrives at the send rate (30 Hz), so it glides towards its latest pose instead of jumping.
 */
import * as THREE from 'three';
import { hasComponent, query } from 'bitecs';
import type { World } from 'bitecs';
import { isOwnedLocally, Networked, ownerOf } from '../../src/index.ts';
import { SHAPES } from './protocol.ts';
import type { AvatarPartName } from './protocol.ts';
import type { RoomProtocol } from './protocol.ts';
import { readPose } from './pose-io.ts';
import type { PoseStore } from './pose-io.ts';
import { createHandMesh, createHeadMesh, createObjectMesh, userColor } from './scene.ts';
import { attachModel, createModelSlot } from './room-models.ts';
import type { ModelLibrary } from './room-models.ts';

/**
 * Time constant of the objects' glide, in ms: a view covers 63 % of the way to a new pose in this time, 99 % in 5x. 40 ms
 * smooths 30 Hz steps and keeps a remote hand less than one frame behind where plain interpolation would have it.
 */
export const SMOOTHING_MS = 40;

interface View {
  object: THREE.Object3D;
  kind: AvatarPartName | 'object';
  owner: number;
  seen: number;
  /** A 'model' object whose model has not been put in yet. */
  awaitsModel?: boolean;
}

/** A drawn entity, as the debug handle reports it. */
export interface ViewInfo {
  eid: number;
  kind: View['kind'];
  owner: number;
  /** A 'model' object: the asset hash it draws, and whether the model is drawn yet. */
  model?: { hash: string; loaded: boolean };
  /** Where the view is drawn (room coordinates). */
  rendered: [number, number, number];
  /** The entity's replicated position. */
  replicated: [number, number, number];
  /** False while the owner's link is lost (suspended). */
  visible: boolean;
}

/** The views of one world. */
export interface EntityViews {
  /** Creates, moves and removes views; `nowMs` from performance.now(). Run after the VR layer's render system. */
  update(nowMs: number): void;
  /** The drawn transform of `eid`, or null when it has no view. */
  matrixOf(eid: number): THREE.Matrix4 | null;
  /** The drawn object of `eid` (for picking and outlines), or null when it has no view. */
  objectOf(eid: number): THREE.Object3D | null;
  /** Every view, for the debug handle and the tests. */
  list(): ViewInfo[];
}

/** Keeps a three.js view per replicated entity of `world` in `scene`; avatars of users `isAway` are hidden. */
export function createEntityViews(
  world: World,
  room: RoomProtocol,
  scene: THREE.Scene,
  isAway: (clientId: number) => boolean,
  models: ModelLibrary | null = null,
): EntityViews {
  const { Pose, Grabbable, poses, ModelAsset, Attachment } = room;
  const devices: ReadonlyArray<[AvatarPartName, PoseStore]> = [
    ['head', poses.HeadPose],
    ['left', poses.LeftControllerPose],
    ['right', poses.RightControllerPose],
  ];
  const views = new Map<number, View>();
  const target = new THREE.Vector3();
  const targetRotation = new THREE.Quaternion();
  let frame = 0;
  let lastMs = -1;

  const create = (eid: number, kind: View['kind']): View => {
    if (kind !== 'object') {
      const color = userColor(ownerOf(world, eid));
      return { object: kind === 'head' ? createHeadMesh(color) : createHandMesh(color), kind, owner: -1, seen: 0 };
    }
    const shape = SHAPES[Grabbable.shape[eid]] ?? 'cube';
    if (shape === 'model') return { object: createModelSlot(), kind, owner: -1, seen: 0, awaitsModel: true };
    const mesh = createObjectMesh(shape, Grabbable.color[eid]);
    return { object: mesh, kind, owner: -1, seen: 0 };
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

  /** The view of `eid`, made and added on first sight; `fresh` says it was just made. */
  const viewOf = (eid: number, kind: View['kind']): { view: View; fresh: boolean } => {
    const existing = views.get(eid);
    if (existing) return { view: existing, fresh: false };
    const view = create(eid, kind);
    views.set(eid, view);
    scene.add(view.object);
    return { view, fresh: true };
  };

  /** Where each entity's replicated pose is (the device's own arrays for avatar parts). */
  const replicatedStore = new Map<number, PoseStore>();

  return {
    update(nowMs) {
      frame++;
      const dtMs = lastMs < 0 ? 0 : nowMs - lastMs;
      lastMs = nowMs;
      const alpha = 1 - Math.exp(-Math.max(0, dtMs) / SMOOTHING_MS);
      for (const [kind, store] of devices) {
        for (const eid of query(world, [Networked, store])) {
          // Our own head and hands are drawn from the headset directly; others' once the VR layer renders them.
          if (isOwnedLocally(world, eid) || !hasComponent(world, eid, poses.RenderPose)) continue;
          const { view } = viewOf(eid, kind);
          view.seen = frame;
          replicatedStore.set(eid, store);
          const owner = ownerOf(world, eid);
          if (owner !== view.owner) recolor(view, owner);
          view.object.visible = !isAway(owner);
          readPose(poses.RenderPose, eid, view.object.position, view.object.quaternion);
        }
      }
      for (const eid of query(world, [Networked, Pose, Grabbable])) {
        const { view, fresh } = viewOf(eid, 'object');
        view.seen = frame;
        if (view.awaitsModel) {
          const model = models?.instance(ModelAsset.hash[eid] ?? '');
          if (model) {
            attachModel(view.object as THREE.Mesh, model);
            view.awaitsModel = false;
            view.owner = -1; // tint the new materials too
          }
        }
        replicatedStore.set(eid, Pose);
        const owner = ownerOf(world, eid);
        if (owner !== view.owner) recolor(view, owner);
        // The attachment system drew it into RenderPose: in its holder's hand, or at its own pose (blended).
        const drawn = hasComponent(world, eid, Attachment) ? poses.RenderPose : Pose;
        readPose(drawn, eid, target, targetRotation);
        if (fresh || Attachment.holder[eid] !== 0 || isOwnedLocally(world, eid)) {
          // Held: exactly where the hand has it this frame.
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
        replicatedStore.delete(eid);
      }
    },
    matrixOf(eid) {
      const view = views.get(eid);
      if (!view) return null;
      view.object.updateMatrixWorld();
      return view.object.matrixWorld;
    },
    objectOf: (eid) => views.get(eid)?.object ?? null,
    list() {
      return [...views].map(([eid, v]) => {
        const store = replicatedStore.get(eid) ?? Pose;
        return {
          eid,
          kind: v.kind,
          owner: v.owner,
          rendered: v.object.position.toArray() as [number, number, number],
          replicated: [store.px[eid], store.py[eid], store.pz[eid]] as [number, number, number],
          visible: v.object.visible,
          ...(SHAPES[Grabbable.shape[eid]] === 'model'
            ? { model: { hash: ModelAsset.hash[eid] ?? '', loaded: v.awaitsModel === false } }
            : {}),
        };
      });
    },
  };
}
