/**
 * Tracked hands drawn as hands: three's hand model (the skinned `generic-hand` glTF of the WebXR input profiles,
 * loaded from the room's own /input-profiles, no CDN). The local user's hands hang from three's hand spaces (joints
 * from this XR frame); every other user's hand is the same model posed from the hand layer's `RenderHand.joints`
 * (interpolated at the render time their controller is drawn at). A device that is not a tracked hand this frame is
 * drawn as a controller again (its block or device model), so switching between controller and hand shows no gap.
 */
import * as THREE from 'three';
import { query } from 'bitecs';
import type { World } from 'bitecs';
import { XRHandModelFactory } from 'three/addons/webxr/XRHandModelFactory.js';
import { XRHandMeshModel } from 'three/addons/webxr/XRHandMeshModel.js';
import type { GLTF } from 'three/addons/loaders/GLTFLoader.js';
import { HAND_JOINT_NAMES, HAND_JOINTS_LENGTH, isOwnedLocally, Networked, ownerOf } from '../../src/index.ts';
import type { ControllerModels } from './controller-models.ts';
import type { EntityViews } from './entity-views.ts';
import { INPUT_PROFILES_PATH } from './input-profiles-path.ts';
import type { RoomProtocol } from './protocol.ts';
import type { LocalController } from './scene.ts';

/** Where the hand models are: the input profiles' generic hand (left.glb, right.glb). */
export const HAND_MODEL_PATH = `${INPUT_PROFILES_PATH}/generic-hand/`;

/** WebXR's 25 hand joints, in XRHand order (the order of `RenderHand.joints` and of the model's bones). */
export const JOINT_NAMES: readonly XRHandJoint[] = HAND_JOINT_NAMES;
const THUMB_TIP = 4;
const INDEX_TIP = 9;

type Vec3 = [number, number, number];

/** A drawn hand, as the debug handle reports it: whose, whether drawn as a hand, and its fingertips as drawn. */
export interface HandViewInfo {
  /** The controller entity (0 for the local user's hands, which are not drawn from an entity). */
  eid: number;
  owner: number;
  handedness: 'left' | 'right';
  /** Drawn as a tracked hand this frame (else as a controller). */
  tracked: boolean;
  /** The hand model's glTF has loaded (before that the hand shows nothing but the joints are still posed). */
  model: boolean;
  /** Wrist, thumb and index fingertip where the model's bones are, in room coordinates. */
  wrist: Vec3;
  thumbTip: Vec3;
  indexTip: Vec3;
}

/** The hand views of one page. */
export interface HandViews {
  /** Poses every hand for this frame: run after the entity views' update (it hides the blocks of tracked hands). */
  update(): void;
  /** Every hand drawn as a hand or able to be (local and remote), for the debug handle and the tests. */
  list(): HandViewInfo[];
}

/** One remote hand: the model, and the joints the model reads (three's hand-space shape: `joints[name]`). */
interface RemoteHand {
  root: THREE.Group;
  model: XRHandMeshModel;
  joints: Record<string, THREE.Object3D>;
  handedness: 'left' | 'right';
  loaded: boolean;
  seen: boolean;
}

const scratch = new THREE.Vector3();
const tip = (bone: THREE.Object3D | undefined, fallback: THREE.Object3D): Vec3 =>
  (bone ?? fallback).getWorldPosition(scratch).toArray() as Vec3;

/** Draws the local hands (on `controllers`' hand spaces) and everyone else's tracked hands into `scene`. */
export function createHandViews(
  world: World,
  room: RoomProtocol,
  scene: THREE.Scene,
  views: EntityViews,
  controllers: readonly LocalController[],
  controllerModels: ControllerModels,
): HandViews {
  const { RenderHand } = room.hands;
  const cache: Record<string, GLTF> = {}; // one load of each glTF for every hand drawn
  const localLoaded = new Set<LocalController>();
  const localModels = new Map<LocalController, THREE.Object3D>();
  for (const c of controllers) {
    const factory = new XRHandModelFactory(null, () => localLoaded.add(c)).setPath(HAND_MODEL_PATH);
    const model = factory.createHandModel(c.hand, 'mesh');
    c.hand.add(model);
    localModels.set(c, model);
  }
  const remote = new Map<number, RemoteHand>();
  const stores: ReadonlyArray<['left' | 'right', object]> = [
    ['left', room.poses.LeftControllerPose],
    ['right', room.poses.RightControllerPose],
  ];

  const createRemote = (handedness: 'left' | 'right'): RemoteHand => {
    const root = new THREE.Group();
    const joints: Record<string, THREE.Object3D> = {};
    for (const name of JOINT_NAMES) joints[name] = new THREE.Object3D();
    const hand: RemoteHand = { root, joints, handedness, loaded: false, seen: false, model: null as never };
    // The three model reads `controller.joints[name].position/quaternion/visible`: the joints as this page draws them.
    hand.model = new XRHandMeshModel(
      root,
      { joints } as never,
      HAND_MODEL_PATH,
      handedness,
      null,
      () => {
        hand.loaded = true;
      },
      cache,
    );
    scene.add(root);
    return hand;
  };

  return {
    update() {
      // Local hands: the model follows three's hand space; the controller block hides while the source is a hand.
      for (const c of controllers) {
        if (c.isHand) c.mesh.visible = false;
        else if (!controllerModels.has(c)) c.mesh.visible = true;
      }
      for (const h of remote.values()) h.seen = false;
      for (const [handedness, store] of stores) {
        for (const eid of query(world, [Networked, store])) {
          if (isOwnedLocally(world, eid)) continue;
          const block = views.objectOf(eid);
          const tracked = RenderHand.tracked[eid] === 1;
          let h = remote.get(eid);
          if (!tracked && !h) continue;
          if (!h) remote.set(eid, (h = createRemote(handedness)));
          h.seen = true;
          h.root.visible = tracked && (block?.visible ?? false);
          if (block && tracked) block.visible = false;
          if (!tracked) continue;
          const o = eid * HAND_JOINTS_LENGTH;
          for (let j = 0; j < JOINT_NAMES.length; j++) {
            const joint = h.joints[JOINT_NAMES[j]];
            const k = o + j * 7;
            const J = RenderHand.joints;
            joint.position.set(J[k], J[k + 1], J[k + 2]);
            joint.quaternion.set(J[k + 3], J[k + 4], J[k + 5], J[k + 6]);
          }
          h.model.updateMesh();
        }
      }
      for (const [eid, h] of remote) {
        if (h.seen) continue;
        scene.remove(h.root);
        remote.delete(eid);
      }
    },
    list() {
      const out: HandViewInfo[] = [];
      for (const c of controllers) {
        if (c.handedness !== 'left' && c.handedness !== 'right') continue;
        const model = localModels.get(c)!;
        model.updateMatrixWorld(true);
        const bone = (i: number) => model.getObjectByName(JOINT_NAMES[i]);
        const joint = (i: number) => c.hand.joints[JOINT_NAMES[i]] ?? c.hand;
        out.push({
          eid: 0,
          owner: -1,
          handedness: c.handedness,
          tracked: c.isHand && c.hand.visible,
          model: localLoaded.has(c),
          wrist: tip(bone(0), joint(0)),
          thumbTip: tip(bone(THUMB_TIP), joint(THUMB_TIP)),
          indexTip: tip(bone(INDEX_TIP), joint(INDEX_TIP)),
        });
      }
      for (const [eid, h] of remote) {
        h.root.updateMatrixWorld(true);
        const bone = (i: number) => (h.loaded ? h.root.getObjectByName(JOINT_NAMES[i]) : undefined);
        out.push({
          eid,
          owner: ownerOf(world, eid),
          handedness: h.handedness,
          tracked: RenderHand.tracked[eid] === 1,
          model: h.loaded,
          wrist: tip(bone(0), h.joints[JOINT_NAMES[0]]),
          thumbTip: tip(bone(THUMB_TIP), h.joints[JOINT_NAMES[THUMB_TIP]]),
          indexTip: tip(bone(INDEX_TIP), h.joints[JOINT_NAMES[INDEX_TIP]]),
        });
      }
      return out;
    },
  };
}
