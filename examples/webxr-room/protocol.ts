/**
 * The shared protocol of the WebXR room, imported by the server and every page: what is replicated (the VR pose
 * layer's heads and controllers, tracked hands on them, and the poses of grabbable objects with their attachment to a
 * hand while held and their flight when thrown) and the room's layout. Grabs go through the authority layer's
 * ownership requests, so the room has no messages of its own.
 */
import {
  createAttachment,
  createFlight,
  createHandComponents,
  createPoseComponents,
  createProtocol,
  field,
  registerAttachment,
  registerComponent,
  registerFlight,
  registerPoseComponents,
} from '../../src/index.ts';
import type { PoseAccess } from '../../src/index.ts';
import { registerDisplayName } from './display-name.ts';
import { registerRoomStats } from './room-telemetry.ts';

/** Most entities one world holds: 3 per user and a few objects leave a lot of room. */
export const MAX_ENTITIES = 1024;

/** Parts of an avatar: one entity each, with HeadPose, LeftControllerPose or RightControllerPose. */
export const AVATAR_PARTS = ['head', 'left', 'right'] as const;
export type AvatarPartName = (typeof AVATAR_PARTS)[number];

/** Shapes of the grabbable objects, in the order of `Grabbable.shape`'s enum; 'model' draws a shared glTF asset. */
export const SHAPES = ['cube', 'ball', 'ring', 'model'] as const;

/** The MIME type of a binary glTF: the room turns such shared assets into grabbable objects. */
export const GLB_MIME = 'model/gltf-binary';

/** Largest model a user may share: 8 MiB is a detailed prop with textures, and a few seconds to stream. */
export const MAX_MODEL_BYTES = 8 * 1024 * 1024;

/** Builds the components of one world and the protocol that replicates them (one set per world). */
export function defineRoomProtocol() {
  const Pose = {
    px: new Float32Array(MAX_ENTITIES),
    py: new Float32Array(MAX_ENTITIES),
    pz: new Float32Array(MAX_ENTITIES),
    qx: new Float32Array(MAX_ENTITIES),
    qy: new Float32Array(MAX_ENTITIES),
    qz: new Float32Array(MAX_ENTITIES),
    qw: new Float32Array(MAX_ENTITIES).fill(1),
  };
  const Grabbable = { shape: new Uint8Array(MAX_ENTITIES), color: new Uint32Array(MAX_ENTITIES) };
  const poses = createPoseComponents(MAX_ENTITIES);
  // Tracked hands ride on the controller entities (the hand layer's own messages, no component to register).
  const hands = createHandComponents(MAX_ENTITIES);
  // A held object replicates as an attachment to the holder's hand; a thrown one carries its release velocity.
  const Attachment = createAttachment(MAX_ENTITIES);
  const Flight = createFlight(MAX_ENTITIES);

  const protocol = createProtocol();
  // 1 mm steps over a 40 m room (16 bits per axis); a quaternion in 32 bits (~0.1 degree).
  const mm = field.quantized(-20, 20, 0.001);
  registerComponent(protocol, Pose, { name: 'Pose', fields: { px: mm, py: mm, pz: mm, rot: field.quat() } });
  registerComponent(protocol, Grabbable, {
    name: 'Grabbable',
    fields: { shape: field.enum(SHAPES), color: field.u32() },
  });
  registerPoseComponents(protocol, poses);
  registerAttachment(protocol, Attachment);
  registerFlight(protocol, Flight);
  const DisplayName = registerDisplayName(protocol);
  const RoomStats = registerRoomStats(protocol, MAX_ENTITIES);
  // The SHA-256 (64 hex digits) of the glTF asset a 'model' object draws; the bytes come by the asset layer.
  const ModelAsset = { hash: [] as string[] };
  registerComponent(protocol, ModelAsset, { name: 'ModelAsset', fields: { hash: field.shortString(64) } });
  /** Where an object's pose lives, for the authority layer (held objects follow the hand; releases carry it). */
  const objectPose: PoseAccess = { component: Pose, position: ['px', 'py', 'pz'], rotation: ['qx', 'qy', 'qz', 'qw'] };
  return {
    protocol,
    Pose,
    Grabbable,
    poses,
    hands,
    Attachment,
    Flight,
    objectPose,
    DisplayName,
    RoomStats,
    ModelAsset,
  };
}

/** The components of one room world. */
export type RoomProtocol = ReturnType<typeof defineRoomProtocol>;

// ── Room layout (room coordinates: metres, y up, origin on the floor at the centre) ─────────────────────────────

/**
 * A thrown object comes to rest with its centre this high above the floor: the largest half-size of the shapes (the
 * ball's and the ring's 7 cm radius), so none sinks into the floor.
 */
export const REST_HEIGHT_M = 0.07;

/** Users stand on a circle this far from the centre, facing it; the objects float in between. */
export const SEAT_RADIUS_M = 0.9;

/** Seat angles in the order users get them: the first two face each other, then the gaps fill. */
const SEAT_ANGLES = [0, 4, 2, 6, 1, 5, 3, 7].map((k) => (k * Math.PI) / 4);

/** Where a client stands and which way it faces (yaw in radians, 0 = looking towards -z). */
export function seatOf(clientId: number): { x: number; z: number; yaw: number } {
  const angle = SEAT_ANGLES[(Math.max(1, clientId) - 1) % SEAT_ANGLES.length];
  // Seat 0 is at +z looking towards -z (the centre); the others turn around the centre.
  return { x: SEAT_RADIUS_M * Math.sin(angle), z: SEAT_RADIUS_M * Math.cos(angle), yaw: angle };
}

/**
 * Where each user's own object waits, relative to their seat: where a right hand rests when the session starts
 * (0.42 m ahead, 0.2 m to the right, 1.4 m up: the emulated Touch controller's start, and arm's length for a
 * standing adult), so a squeeze reaches something before anyone walks.
 */
const WITHIN_REACH = { ahead: 0.42, right: 0.2, up: 1.4 };

/** Colours of the per-seat objects, one per seat. */
const SEAT_OBJECT_COLORS = [0xffd166, 0x06d6a0, 0xef476f, 0x118ab2, 0xf78c6b, 0x83d483, 0xa0522d, 0x9aa5b1];

/** Shapes of the per-seat objects: the built-in ones ('model' draws a shared asset, which these have none of). */
const SEAT_SHAPES = ['cube', 'ball', 'ring'] as const;

/** A point `ahead`, `right` of seat `clientId`'s standing point, `up` above the floor. */
function nearSeat(clientId: number, ahead: number, right: number, up: number): [number, number, number] {
  const { x, z, yaw } = seatOf(clientId);
  // Facing yaw: forward is (-sin yaw, -cos yaw), right is (cos yaw, -sin yaw).
  return [x - ahead * Math.sin(yaw) + right * Math.cos(yaw), up, z - ahead * Math.cos(yaw) - right * Math.sin(yaw)];
}

/** The grabbable objects the server creates: shape, colour, position (four on the table, one within each seat's reach). */
export const OBJECTS: ReadonlyArray<{ shape: (typeof SHAPES)[number]; color: number; at: [number, number, number] }> = [
  { shape: 'cube', color: 0xff8800, at: [-0.3, 1.1, 0] },
  { shape: 'ball', color: 0x33aaff, at: [0, 1.1, 0.15] },
  { shape: 'ring', color: 0xdd44cc, at: [0.3, 1.1, 0] },
  { shape: 'cube', color: 0x66dd44, at: [0, 1.1, -0.25] },
  ...SEAT_OBJECT_COLORS.map((color, i) => ({
    shape: SEAT_SHAPES[i % SEAT_SHAPES.length],
    color,
    at: nearSeat(i + 1, WITHIN_REACH.ahead, WITHIN_REACH.right, WITHIN_REACH.up),
  })),
];
