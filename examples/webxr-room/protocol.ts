/**
 * The shared protocol of the WebXR room, imported by the server and every page: what is replicated (poses of heads,
 * hands and grabbable objects), the room's layout, and the two small messages a hand uses to grab and release.
 */
import { createProtocol, field, registerComponent } from '../../src/index.ts';

/** Most entities one world holds: 3 per user and a few objects leave a lot of room. */
export const MAX_ENTITIES = 1024;

/** Parts of an avatar, in the order of `AvatarPart.part`'s enum. */
export const AVATAR_PARTS = ['head', 'left', 'right'] as const;
export type AvatarPartName = (typeof AVATAR_PARTS)[number];

/** Shapes of the grabbable objects, in the order of `Grabbable.shape`'s enum. */
export const SHAPES = ['cube', 'ball', 'ring'] as const;

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
  const AvatarPart = { part: new Uint8Array(MAX_ENTITIES) };
  const Grabbable = { shape: new Uint8Array(MAX_ENTITIES), color: new Uint32Array(MAX_ENTITIES) };

  const protocol = createProtocol();
  // 1 mm steps over a 40 m room (16 bits per axis); a quaternion in 32 bits (~0.1 degree).
  const mm = field.quantized(-20, 20, 0.001);
  registerComponent(protocol, Pose, { name: 'Pose', fields: { px: mm, py: mm, pz: mm, rot: field.quat() } });
  registerComponent(protocol, AvatarPart, { name: 'AvatarPart', fields: { part: field.enum(AVATAR_PARTS) } });
  registerComponent(protocol, Grabbable, {
    name: 'Grabbable',
    fields: { shape: field.enum(SHAPES), color: field.u32() },
  });
  return { protocol, Pose, AvatarPart, Grabbable };
}

/** The components of one room world. */
export type RoomProtocol = ReturnType<typeof defineRoomProtocol>;

// ── Room layout (room coordinates: metres, y up, origin on the floor at the centre) ─────────────────────────────

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

/** The grabbable objects the server creates: shape, colour, position. */
export const OBJECTS: ReadonlyArray<{ shape: (typeof SHAPES)[number]; color: number; at: [number, number, number] }> = [
  { shape: 'cube', color: 0xff8800, at: [-0.3, 1.1, 0] },
  { shape: 'ball', color: 0x33aaff, at: [0, 1.1, 0.15] },
  { shape: 'ring', color: 0xdd44cc, at: [0.3, 1.1, 0] },
  { shape: 'cube', color: 0x66dd44, at: [0, 1.1, -0.25] },
];

// ── Grab messages (application tags: 8000+ is the range ecsync leaves unassigned) ───────────────────────────────
//   GrabRequest  : u16 tag | u32 netId                              (client -> server, reliable)
//   GrabRelease  : u16 tag | u32 netId | 7 x f32 pose (p xyz, q xyzw) (client -> server, reliable)

/** Message tags of the room. */
export const RoomTag = { GrabRequest: 8000, GrabRelease: 8001 } as const;

const REQUEST_BYTES = 6;
const RELEASE_BYTES = 6 + 7 * 4;

/** Asks the server for ownership of the object `netId`. */
export function encodeGrabRequest(netId: number): Uint8Array {
  const bytes = new Uint8Array(REQUEST_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, RoomTag.GrabRequest, true);
  view.setUint32(2, netId, true);
  return bytes;
}

/** Gives `netId` back to the server, with the pose it was let go at (so no late write is lost). */
export function encodeGrabRelease(netId: number, pose: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(RELEASE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, RoomTag.GrabRelease, true);
  view.setUint32(2, netId, true);
  for (let i = 0; i < 7; i++) view.setFloat32(6 + 4 * i, pose[i], true);
  return bytes;
}

/** A decoded grab message, or null when the bytes are not a well-formed one (never throws). */
export function decodeGrabMessage(
  tag: number,
  bytes: Uint8Array,
): { netId: number; release: boolean; pose: number[] } | null {
  const release = tag === RoomTag.GrabRelease;
  if (bytes.length !== (release ? RELEASE_BYTES : REQUEST_BYTES)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pose: number[] = [];
  for (let i = 0; release && i < 7; i++) {
    const v = view.getFloat32(6 + 4 * i, true);
    if (!Number.isFinite(v) || Math.abs(v) > 20) return null;
    pose.push(v);
  }
  return { netId: view.getUint32(2, true), release, pose };
}
