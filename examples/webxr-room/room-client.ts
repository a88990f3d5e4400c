/**
 * The page's side of the room: a bitecs world joined to the server by the ecsync client plugin. Each frame it
 * receives, writes the local head and hands into the avatar entities this user owns, moves held objects, updates
 * the views of everything else, and sends. The plugin does the networking.
 */
import * as THREE from 'three';
import { createWorld, query } from 'bitecs';
import {
  addClientExtension,
  clientIdOf,
  connectionStateOf,
  createNetworkPlugin,
  isOwnedLocally,
  Networked,
  presenceOf,
} from '../../src/index.ts';
import type { ClientState, ClientTransport, NetworkPlugin } from '../../src/index.ts';
import { createEntityViews } from './entity-views.ts';
import type { EntityViews } from './entity-views.ts';
import { createGrabber } from './grab.ts';
import type { Grabber } from './grab.ts';
import { AVATAR_PARTS, defineRoomProtocol } from './protocol.ts';
import type { RoomProtocol } from './protocol.ts';
import { writePoseFromMatrix } from './pose-io.ts';
import type { RoomScene } from './scene.ts';

/** Without tracked controllers (desktop view), the hands rest here relative to the head, in metres. */
const REST_HAND_OFFSET: Record<'left' | 'right', [number, number, number]> = {
  left: [-0.2, -0.45, -0.3],
  right: [0.2, -0.45, -0.3],
};

/** The running client side of the room. */
export interface RoomClient {
  readonly world: ReturnType<typeof createWorld>;
  readonly room: RoomProtocol;
  readonly net: NetworkPlugin;
  readonly views: EntityViews;
  readonly grabber: Grabber;
  readonly state: ClientState;
  /** Runs one frame; `frame` is the XRFrame inside a session. */
  tick(frame: XRFrame | undefined): void;
  /** Where the local hand's grip is this frame, in room coordinates (what the page writes for it). */
  handPosition(hand: 'left' | 'right'): [number, number, number] | null;
}

/** Connects to the room over `transport` and draws it into `view`. */
export function createRoomClient(transport: ClientTransport, view: RoomScene): RoomClient {
  const world = createWorld();
  const room = defineRoomProtocol();
  const net = createNetworkPlugin(world, { role: 'client', protocol: room.protocol, transport });
  // A user whose link dropped keeps their session for a while (they may come back): their avatar is hidden meanwhile.
  const isAway = (clientId: number) => presenceOf(world).some((u) => u.clientId === clientId && u.suspended);
  const views = createEntityViews(world, room, view.scene, isAway);
  const grabber = createGrabber(world, room, view.controllers, (eid) => views.matrixOf(eid));
  net.events.on('ownership', (eid, owner) => grabber.ownershipChanged(eid, owner));
  addClientExtension(world, {
    send(connection) {
      for (const message of grabber.outbox.splice(0)) connection.sendReliable(message);
    },
  });

  const head = new THREE.Matrix4();
  const hands = { left: new THREE.Matrix4(), right: new THREE.Matrix4() };
  const tracked = { left: false, right: false };
  const rest = new THREE.Matrix4();
  let lastMs = performance.now();

  /** Reads this frame's head and hand poses in room coordinates (the rig places the tracking origin). */
  const sampleLocalPoses = (frame: XRFrame | undefined) => {
    const space = view.renderer.xr.getReferenceSpace();
    const viewer = frame && space ? frame.getViewerPose(space) : null;
    if (viewer) head.multiplyMatrices(view.rig.matrixWorld, rest.fromArray(viewer.transform.matrix));
    else head.copy(view.camera.matrixWorld);
    tracked.left = tracked.right = false;
    for (const c of view.controllers) {
      if (!frame || !c.grip.visible || (c.handedness !== 'left' && c.handedness !== 'right')) continue;
      hands[c.handedness].copy(c.grip.matrixWorld);
      tracked[c.handedness] = true;
    }
    for (const hand of ['left', 'right'] as const) {
      if (tracked[hand]) continue;
      const [x, y, z] = REST_HAND_OFFSET[hand];
      hands[hand].multiplyMatrices(head, rest.makeTranslation(x, y, z));
    }
  };

  return {
    world,
    room,
    net,
    views,
    grabber,
    get state() {
      return connectionStateOf(world);
    },
    tick(frame) {
      const nowMs = performance.now(); // one time base for animation frames, XR frames and timer ticks
      net.receive(world);
      const me = clientIdOf(world);
      if (me !== 0) view.sitAt(me);
      view.scene.updateMatrixWorld(); // grips moved by the XR frame
      sampleLocalPoses(frame);
      for (const eid of query(world, [Networked, room.AvatarPart])) {
        if (!isOwnedLocally(world, eid)) continue;
        const part = AVATAR_PARTS[room.AvatarPart.part[eid]];
        writePoseFromMatrix(room.Pose, eid, part === 'head' ? head : hands[part]);
      }
      grabber.update(nowMs);
      views.update(nowMs - lastMs, (eid) => grabber.localMatrix(eid));
      lastMs = nowMs;
      net.send(world);
    },
    handPosition(hand) {
      if (clientIdOf(world) === 0) return null;
      const p = new THREE.Vector3().setFromMatrixPosition(hands[hand]);
      return [p.x, p.y, p.z];
    },
  };
}
