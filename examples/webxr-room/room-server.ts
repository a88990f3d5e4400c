/**
 * The room's server world: the authoritative bitecs world behind every page. It creates the grabbable objects,
 * gives each user who joins a head and two controllers they own (streamed and validated by the VR pose layer), and
 * hands an object to whoever asks for it first (the authority layer). The plugins do the networking; this file is
 * the whole game logic.
 */
import { addComponent, addEntity, createWorld, hasComponent, query, removeEntity } from 'bitecs';
import {
  addHandTracking,
  addServerExtension,
  addServerFlights,
  createNetworkPlugin,
  createServerAssets,
  createServerAuthority,
  createServerAwareness,
  createTelemetryAggregator,
  createVrPlugin,
  Networked,
  ownerOf,
  setOwner,
} from '../../src/index.ts';
import type { Box, NetworkPlugin, ServerFlightStats, ServerTransport, TelemetryAggregator } from '../../src/index.ts';
import { defineRoomProtocol, GLB_MIME, MAX_MODEL_BYTES, OBJECTS, REST_HEIGHT_M, seatOf, SHAPES } from './protocol.ts';
import type { RoomProtocol } from './protocol.ts';
import { nameHead } from './display-name.ts';
import { roomAwareness } from './room-awareness.ts';
import { publishRoomStats, spawnRoomStats } from './room-telemetry.ts';

/** Server ticks per second: receive, apply, send (the plugin sends at its own 30 Hz inside). */
export const SERVER_TICK_HZ = 60;

/**
 * Where devices may be, in metres: the seats are 0.9 m from the centre, so 4 m each way and 3 m up leaves every
 * user arm's reach and a walk around the table; a pose outside is clamped (and the owner corrected).
 */
export const PLAY_AREA: Box = { min: [-4, -0.5, -4], max: [4, 3, 4] };

/** Shared models in the room at most: each is a grabbable object; a 13th replaces the oldest. */
export const MAX_MODELS = 12;

/** A running room. */
export interface RoomServer {
  readonly net: NetworkPlugin;
  /** The pages' telemetry (frame times, link figures) per user and for the room; the dashboard reads it. */
  readonly telemetry: TelemetryAggregator;
  /** Users in the room. */
  userCount(): number;
  /** Throws the server took over and flew, and how many have landed. */
  flights(): ServerFlightStats;
  /** The display name of a user in the room, or undefined. */
  displayNameOf(clientId: number): string | undefined;
  /** Stops ticking and closes every connection. */
  close(): Promise<void>;
}

/**
 * An object is attached only to a hand of the user who holds it: when its holder is not such a hand (it was let go
 * and the release reached the server before the owner's last write, the holder left, or a client named someone
 * else's hand), the server clears the attachment, so every viewer draws it free at its own pose.
 */
function releaseStaleAttachments(world: object, room: RoomProtocol, avatars: ReadonlyMap<number, number[]>): void {
  const { Attachment } = room;
  for (const eid of query(world, [Networked, room.Grabbable, Attachment])) {
    const holder = Attachment.holder[eid];
    if (holder === 0) continue;
    const owner = ownerOf(world, eid);
    const hands = avatars.get(owner);
    if (owner !== 0 && hands !== undefined && (hands[1] === holder || hands[2] === holder)) continue;
    Attachment.holder[eid] = 0;
  }
}

type PoseStore = Record<'px' | 'py' | 'pz' | 'qx' | 'qy' | 'qz' | 'qw', Float32Array>;

/** Starts the room on `transport` (server.ts merges geckos.io and WebSocket into one). */
export function startRoomServer(transport: ServerTransport): RoomServer {
  const world = createWorld();
  const room = defineRoomProtocol();
  const {
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
  } = room;
  // 2 Mbps per client: poses take ~100-300 kbps, and a shared model streams at half the cap (~125 kB/s).
  const net = createNetworkPlugin(world, { role: 'server', protocol, transport, bandwidthKbps: 2000 });
  const vr = createVrPlugin(world, { components: poses, validation: { playArea: PLAY_AREA } });
  // Tracked hands: each owner's hand codes are checked and relayed to the others (only to who knows the entity).
  addHandTracking(world, { hands });
  // A thrown object is the server's from its release: it flies (gravity, no drag) until it rests on the floor.
  const flights = addServerFlights(world, { flight: Flight, pose: objectPose, floorY: REST_HEIGHT_M });
  /** A grabbable object: a pose, what it looks like, and the attachment and flight of the held-objects layer. */
  const addObject = (at: [number, number, number], shape: (typeof SHAPES)[number], color: number): number => {
    const eid = addEntity(world);
    addComponent(world, eid, Pose);
    place(Pose, eid, at[0], at[1], at[2], 0);
    addComponent(world, eid, Grabbable);
    Grabbable.shape[eid] = SHAPES.indexOf(shape);
    Grabbable.color[eid] = color;
    addComponent(world, eid, Attachment);
    addComponent(world, eid, Flight);
    return eid;
  };

  const place = (store: PoseStore, eid: number, x: number, y: number, z: number, yaw: number) => {
    store.px[eid] = x;
    store.py[eid] = y;
    store.pz[eid] = z;
    store.qx[eid] = store.qz[eid] = 0;
    store.qy[eid] = Math.sin(yaw / 2);
    store.qw[eid] = Math.cos(yaw / 2);
  };

  for (const o of OBJECTS) addComponent(world, addObject(o.at, o.shape, o.color), Networked);
  // Only the room's objects can be grabbed (never an avatar's head or hands), and not while they fly. First come,
  // first served: a free object goes to the first hand that asks; a held one is refused (the default 'refuse' policy).
  createServerAuthority(world, {
    pose: objectPose,
    grabbable: (eid) => hasComponent(world, eid, Grabbable) && Flight.flying[eid] !== 1,
  });

  // Who selected what: validated and relayed to every page (the room uses no scopes, so everyone sees everyone).
  createServerAwareness(world, { schema: roomAwareness });

  // Each page reports once a second; the room aggregate goes to every page as the RoomStats entity (the overlay).
  const telemetry = createTelemetryAggregator(world, { maxClients: 256 });
  const roomStats = spawnRoomStats(world, RoomStats);
  telemetry.events.on('room', (room) => publishRoomStats(RoomStats, roomStats, room));
  // Shared models: a user's .glb goes through the asset layer (checked by SHA-256, cached, offered to everyone);
  // each one becomes a grabbable object that draws it. The oldest goes when there are too many.
  const assets = createServerAssets(world, { maxAssetBytes: MAX_MODEL_BYTES });
  const models: number[] = [];
  assets.events.on('added', (manifest) => {
    if (manifest.mime !== GLB_MIME) return;
    if (models.length >= MAX_MODELS) removeEntity(world, models.shift()!);
    const k = models.length;
    const eid = addObject([-0.3 + 0.2 * (k % 4), 1.35 + 0.2 * Math.floor(k / 4), 0.1], 'model', 0xffffff);
    addComponent(world, eid, ModelAsset);
    ModelAsset.hash[eid] = manifest.hash;
    addComponent(world, eid, Networked);
    models.push(eid);
  });

  const avatars = new Map<number, number[]>();
  addServerExtension(world, {
    joined(peer) {
      // Head and controllers start at the user's seat; the user's page streams them from the next frame on.
      const seat = seatOf(peer.clientId);
      const devices = [poses.HeadPose, poses.LeftControllerPose, poses.RightControllerPose];
      const parts = devices.map((store, i) => {
        const eid = addEntity(world);
        addComponent(world, eid, store);
        place(store, eid, seat.x, i === 0 ? 1.6 : 1.1, seat.z, seat.yaw);
        if (i > 0) addComponent(world, eid, poses.GripState);
        addComponent(world, eid, Networked);
        setOwner(world, eid, peer.clientId);
        return eid;
      });
      nameHead(world, DisplayName, parts[0], peer.clientId);
      avatars.set(peer.clientId, parts);
    },
    left(peer) {
      for (const eid of avatars.get(peer.clientId) ?? []) removeEntity(world, eid);
      avatars.delete(peer.clientId);
      // Objects the user held go back to the server by themselves (the plugin does it when an owner leaves).
    },
  });
  const timer = setInterval(() => {
    net.receive(world);
    releaseStaleAttachments(world, room, avatars);
    net.send(world);
  }, 1000 / SERVER_TICK_HZ);

  return {
    net,
    telemetry,
    userCount: () => avatars.size,
    flights: () => flights.stats(),
    displayNameOf: (clientId) => {
      const head = avatars.get(clientId)?.[0];
      return head === undefined ? undefined : DisplayName.name[head];
    },
    async close() {
      clearInterval(timer);
      vr.dispose();
      await net.dispose();
    },
  };
}
