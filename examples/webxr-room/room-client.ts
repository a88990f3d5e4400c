/**
 * The page's side of the room: a bitecs world joined to the server by the ecsync client plugin, the VR pose layer
 * with tracked hands and held-object attachments, and the authority layer. Each frame: receive, reconcile, write the
 * XR head, controllers and hand joints into the devices this user owns, record them, send, render remote devices and
 * hands, draw held objects in their holders' hands, then update the views.
 */
import * as THREE from 'three';
import { createWorld, query } from 'bitecs';
import {
  addAttachments,
  addHandTracking,
  attachmentSystem,
  clientIdOf,
  connectionStateOf,
  createClientAssets,
  createClientAuthority,
  createClientAwareness,
  createNetworkPlugin,
  createTelemetryReporter,
  createVrPlugin,
  HAND_JOINTS_LENGTH,
  handRenderSystem,
  isOwnedLocally,
  Networked,
  presenceOf,
  writeHandJoints,
} from '../../src/index.ts';
import type {
  ClientAuthority,
  ClientState,
  ClientTransport,
  NetworkPlugin,
  TelemetryReporter,
  VrPlugin,
} from '../../src/index.ts';
import { createAwarenessView } from './awareness-view.ts';
import type { AwarenessView } from './awareness-view.ts';
import { createEntityViews } from './entity-views.ts';
import type { EntityViews } from './entity-views.ts';
import { createGrabber } from './grab.ts';
import type { Grabber } from './grab.ts';
import { defineRoomProtocol, MAX_MODEL_BYTES } from './protocol.ts';
import type { RoomProtocol } from './protocol.ts';
import { writeDevice } from './pose-io.ts';
import { claimDisplayName, wantedDisplayName } from './display-name.ts';
import { createNameTags } from './name-tags.ts';
import type { NameTags } from './name-tags.ts';
import { roomAwareness } from './room-awareness.ts';
import { createAvatarColors } from './avatar.ts';
import type { AvatarColors } from './avatar.ts';
import { attachControllerModels } from './controller-models.ts';
import type { ControllerModels } from './controller-models.ts';
import { createHandViews, JOINT_NAMES } from './hand-views.ts';
import type { HandViews } from './hand-views.ts';
import { createLocomotion } from './locomotion.ts';
import type { Locomotion } from './locomotion.ts';
import { createVoiceView } from './voice-view.ts';
import type { VoiceView } from './voice-view.ts';
import { readRoomStats } from './room-telemetry.ts';
import type { RoomStatsView } from './room-telemetry.ts';
import { createModelLibrary } from './room-models.ts';
import type { ModelLibrary } from './room-models.ts';
import type { RoomScene } from './scene.ts';

/** Without tracked controllers (desktop view), the hands rest here relative to the head, in metres. */
const REST_HAND_OFFSET: Record<'left' | 'right', [number, number, number]> = {
  left: [-0.2, -0.45, -0.3],
  right: [0.2, -0.45, -0.3],
};

/** Gamepad button indices of the xr-standard mapping: trigger 0, squeeze 1. */
const TRIGGER_BUTTON = 0;
const SQUEEZE_BUTTON = 1;

/** The running client side of the room. */
export interface RoomClient {
  readonly world: ReturnType<typeof createWorld>;
  readonly room: RoomProtocol;
  readonly net: NetworkPlugin;
  readonly vr: VrPlugin;
  readonly authority: ClientAuthority;
  readonly views: EntityViews;
  readonly grabber: Grabber;
  readonly nameTags: NameTags;
  /** Selections: everyone's, outlined in their colour. */
  readonly selections: AwarenessView;
  /** Spatial voice with everyone in the room. */
  readonly voice: VoiceView;
  /** Reports this page's frame times and link figures to the server once a second (the page feeds it frames). */
  readonly telemetry: TelemetryReporter;
  /** The room's aggregate as the server last replicated it, or null before it arrives. */
  roomStats(): RoomStatsView | null;
  /** The local controllers' device models, and thumbstick locomotion. */
  readonly controllerModels: ControllerModels;
  readonly locomotion: Locomotion;
  /** Tracked hands drawn as hands (this user's and everyone else's). */
  readonly hands: HandViews;
  /** Avatar colours chosen on entry. */
  readonly colors: AvatarColors;
  /** Shared glTF models: share one, and what this page holds. */
  readonly models: ModelLibrary;
  readonly state: ClientState;
  /** Runs one frame; `frame` is the XRFrame inside a session. */
  tick(frame: XRFrame | undefined): void;
  /** Where the local hand's grip is this frame, in room coordinates (what the page writes for it). */
  handPosition(hand: 'left' | 'right'): [number, number, number] | null;
  /** The joints this page wrote for its own tracked hand this frame (25 x 7, room coordinates), or null. */
  handJoints(hand: 'left' | 'right'): Float32Array | null;
}

/** Connects to the room over `transport` and draws it into `view`. */
export function createRoomClient(transport: ClientTransport, view: RoomScene): RoomClient {
  const world = createWorld();
  const room = defineRoomProtocol();
  const { poses } = room;
  const net = createNetworkPlugin(world, { role: 'client', protocol: room.protocol, transport });
  const vr = createVrPlugin(world, { components: poses });
  addHandTracking(world, { hands: room.hands });
  // Held objects are attachments: drawn by every page at the holder's RenderPose of that frame times the offset.
  addAttachments(world, { attachment: room.Attachment, pose: room.objectPose, flight: room.Flight });
  const authority = createClientAuthority(world, { pose: room.objectPose });
  // A user whose link dropped keeps their session for a while (they may come back): their avatar is hidden meanwhile.
  const isAway = (clientId: number) => presenceOf(world).some((u) => u.clientId === clientId && u.suspended);
  const models = createModelLibrary(createClientAssets(world, { maxAssetBytes: MAX_MODEL_BYTES }));
  const views = createEntityViews(world, room, view.scene, isAway, models);
  const nameTags = createNameTags(world, room.DisplayName, poses.HeadPose, view.scene, views);
  const wantedName = wantedDisplayName(globalThis.location?.search ?? '');

  const ownedDevice = (store: object): number => {
    for (const eid of query(world, [Networked, store])) if (isOwnedLocally(world, eid)) return eid;
    return 0;
  };
  const handOf = (hand: 'left' | 'right') =>
    ownedDevice(hand === 'left' ? poses.LeftControllerPose : poses.RightControllerPose);
  const grabber = createGrabber(world, room, view.controllers, authority, handOf, (eid) => views.matrixOf(eid));
  const awareness = createClientAwareness(world, { schema: roomAwareness });
  const telemetry = createTelemetryReporter(world, { rateHz: 1 });
  const selections = createAwarenessView(world, awareness, views, view.controllers);
  const voice = createVoiceView(world, room, views, view.camera, authority, awareness);
  const controllerModels = attachControllerModels(view.controllers);
  const locomotion = createLocomotion(view.rig);
  const handViews = createHandViews(world, room, view.scene, views, view.controllers, controllerModels);
  const colors = createAvatarColors(
    world,
    room,
    awareness,
    views,
    view.controllers,
    globalThis.document?.getElementById('swatches') ?? null,
  );
  let lastTickMs = -1;
  const padOf = (frame: XRFrame | undefined, hand: 'left' | 'right'): Gamepad | null => {
    for (const source of frame?.session.inputSources ?? [])
      if (source.handedness === hand) return source.gamepad ?? null;
    return null;
  };

  const head = new THREE.Matrix4();
  const hands = { left: new THREE.Matrix4(), right: new THREE.Matrix4() };
  const velocity = { left: new THREE.Vector3(), right: new THREE.Vector3() };
  const spin = { left: new THREE.Vector3(), right: new THREE.Vector3() };
  const gamepads: Record<'left' | 'right', Gamepad | null> = { left: null, right: null };
  const tracked = { left: false, right: false };
  /** This frame's joints of each tracked hand (room coordinates), and whether the hand is tracked now. */
  const joints = { left: new Float32Array(HAND_JOINTS_LENGTH), right: new Float32Array(HAND_JOINTS_LENGTH) };
  const handTracked = { left: false, right: false };
  const jointPosition = new THREE.Vector3();
  const jointRotation = new THREE.Quaternion();
  const jointScale = new THREE.Vector3();
  const rest = new THREE.Matrix4();
  const rigRotation = new THREE.Quaternion();
  const zero = new THREE.Vector3();

  /** Reads this frame's head and hand poses in room coordinates (the rig places the tracking origin). */
  const sampleLocalPoses = (frame: XRFrame | undefined) => {
    const space = view.renderer.xr.getReferenceSpace();
    const viewer = frame && space ? frame.getViewerPose(space) : null;
    if (viewer) head.multiplyMatrices(view.rig.matrixWorld, rest.fromArray(viewer.transform.matrix));
    else head.copy(view.camera.matrixWorld);
    view.rig.getWorldQuaternion(rigRotation);
    tracked.left = tracked.right = false;
    for (const c of view.controllers) {
      if (!frame || c.isHand || !c.grip.visible || (c.handedness !== 'left' && c.handedness !== 'right')) continue;
      const hand = c.handedness;
      hands[hand].copy(c.grip.matrixWorld);
      // Velocities are in the reference space: turn them with the rig into room coordinates.
      velocity[hand].copy(c.grip.hasLinearVelocity ? c.grip.linearVelocity : zero).applyQuaternion(rigRotation);
      spin[hand].copy(c.grip.hasAngularVelocity ? c.grip.angularVelocity : zero).applyQuaternion(rigRotation);
      tracked[hand] = true;
    }
    handTracked.left = handTracked.right = false;
    for (const c of view.controllers) {
      if (!frame || !c.isHand || !c.hand.visible || (c.handedness !== 'left' && c.handedness !== 'right')) continue;
      // three has posed the hand's joints from this frame (in the rig): their world matrices are room coordinates.
      const out = joints[c.handedness];
      let all = true;
      for (let j = 0; j < JOINT_NAMES.length && all; j++) {
        const joint = c.hand.joints[JOINT_NAMES[j]];
        if (!joint?.visible) all = false;
        else {
          joint.matrixWorld.decompose(jointPosition, jointRotation, jointScale);
          out.set([jointPosition.x, jointPosition.y, jointPosition.z], j * 7);
          out.set([jointRotation.x, jointRotation.y, jointRotation.z, jointRotation.w], j * 7 + 3);
        }
      }
      handTracked[c.handedness] = all;
      if (!all) continue;
      // A tracked hand's device pose is its wrist (writeHandJoints sets it too); WebXR gives hands no velocities.
      hands[c.handedness].copy(c.hand.joints.wrist!.matrixWorld);
      velocity[c.handedness].set(0, 0, 0);
      spin[c.handedness].set(0, 0, 0);
      tracked[c.handedness] = true;
    }
    for (const hand of ['left', 'right'] as const) {
      gamepads[hand] = null;
      if (tracked[hand]) continue;
      const [x, y, z] = REST_HAND_OFFSET[hand];
      hands[hand].multiplyMatrices(head, rest.makeTranslation(x, y, z));
      velocity[hand].set(0, 0, 0);
      spin[hand].set(0, 0, 0);
    }
    for (const source of frame?.session.inputSources ?? []) {
      if (source.handedness === 'left' || source.handedness === 'right')
        gamepads[source.handedness] = source.gamepad ?? null;
    }
  };

  /** Writes the sampled poses (and buttons) into the devices this user owns. */
  const writeOwnedDevices = () => {
    for (const eid of query(world, [Networked, poses.HeadPose])) {
      if (isOwnedLocally(world, eid)) writeDevice(poses.HeadPose, eid, head, zero, zero);
    }
    for (const hand of ['left', 'right'] as const) {
      const store = hand === 'left' ? poses.LeftControllerPose : poses.RightControllerPose;
      const pad = gamepads[hand];
      for (const eid of query(world, [Networked, store])) {
        if (!isOwnedLocally(world, eid)) continue;
        writeDevice(store, eid, hands[hand], velocity[hand], spin[hand]);
        // A tracked hand: its joints go to the hand layer, and the device pose becomes the wrist.
        writeHandJoints(world, eid, handTracked[hand] ? joints[hand] : null);
        const grip = poses.GripState;
        grip.grip[eid] = pad?.buttons[SQUEEZE_BUTTON]?.value ?? 0;
        grip.trigger[eid] = pad?.buttons[TRIGGER_BUTTON]?.value ?? 0;
        let buttons = 0;
        pad?.buttons.forEach((b, i) => {
          if (b.pressed && i < 16) buttons |= 1 << i;
        });
        grip.buttons[eid] = buttons;
      }
    }
  };

  return {
    world,
    room,
    net,
    vr,
    authority,
    views,
    grabber,
    nameTags,
    selections,
    voice,
    telemetry,
    roomStats: () => readRoomStats(world, room.RoomStats),
    controllerModels,
    locomotion,
    hands: handViews,
    colors,
    models,
    get state() {
      return connectionStateOf(world);
    },
    tick(frame) {
      net.receive(world);
      vr.reconcile(world);
      const me = clientIdOf(world);
      if (me !== 0) view.sitAt(me);
      const nowMs = performance.now();
      // The sticks move the rig before this frame's poses are read (the head of the last frame gives the direction).
      if (frame)
        locomotion.update(lastTickMs < 0 ? 0 : nowMs - lastTickMs, padOf(frame, 'left'), padOf(frame, 'right'), head);
      lastTickMs = nowMs;
      view.scene.updateMatrixWorld(); // grips moved by the XR frame
      sampleLocalPoses(frame);
      writeOwnedDevices();
      claimDisplayName(world, room.DisplayName, poses.HeadPose, wantedName);
      vr.record(world);
      net.send(world);
      vr.render(world);
      handRenderSystem(world);
      attachmentSystem(world);
      views.update(performance.now());
      handViews.update();
      colors.update();
      nameTags.update();
      selections.update();
      voice.update();
    },
    handPosition(hand) {
      if (clientIdOf(world) === 0) return null;
      const p = new THREE.Vector3().setFromMatrixPosition(hands[hand]);
      return [p.x, p.y, p.z];
    },
    handJoints: (hand) => (handTracked[hand] ? joints[hand].slice() : null),
  };
}
