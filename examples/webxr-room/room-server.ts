/**
 * The room's server world: the authoritative bitecs world behind every page. It creates the grabbable objects,
 * gives each user who joins a head and two hands they own (their writes replicate to everyone), and hands an
 * object to whoever asks for it first. The plugin does the networking; this file is the whole game logic.
 */
import { addComponent, addEntity, createWorld, removeEntity } from 'bitecs';
import {
  addServerExtension,
  createNetworkPlugin,
  entityOfNetworkId,
  Networked,
  ownerOf,
  setOwner,
} from '../../src/index.ts';
import type { NetworkPlugin, ServerTransport } from '../../src/index.ts';
import { AVATAR_PARTS, decodeGrabMessage, defineRoomProtocol, OBJECTS, RoomTag, seatOf, SHAPES } from './protocol.ts';

/** Server ticks per second: receive, apply, send (the plugin sends at its own 30 Hz inside). */
export const SERVER_TICK_HZ = 60;

/** A running room. */
export interface RoomServer {
  readonly net: NetworkPlugin;
  /** Users in the room. */
  userCount(): number;
  /** Stops ticking and closes every connection. */
  close(): Promise<void>;
}

/** Starts the room on `transport` (server.ts merges geckos.io and WebSocket into one). */
export function startRoomServer(transport: ServerTransport): RoomServer {
  const world = createWorld();
  const { protocol, Pose, AvatarPart, Grabbable } = defineRoomProtocol();
  const net = createNetworkPlugin(world, { role: 'server', protocol, transport });

  const spawn = (x: number, y: number, z: number, yaw: number): number => {
    const eid = addEntity(world);
    addComponent(world, eid, Pose);
    Pose.px[eid] = x;
    Pose.py[eid] = y;
    Pose.pz[eid] = z;
    Pose.qx[eid] = Pose.qz[eid] = 0;
    Pose.qy[eid] = Math.sin(yaw / 2);
    Pose.qw[eid] = Math.cos(yaw / 2);
    return eid;
  };

  const grabbables = new Set<number>();
  for (const o of OBJECTS) {
    const eid = spawn(o.at[0], o.at[1], o.at[2], 0);
    grabbables.add(eid);
    addComponent(world, eid, Grabbable);
    Grabbable.shape[eid] = SHAPES.indexOf(o.shape);
    Grabbable.color[eid] = o.color;
    addComponent(world, eid, Networked);
  }

  const avatars = new Map<number, number[]>();
  addServerExtension(world, {
    joined(peer) {
      // Head and hands start at the user's seat; the user's page moves them from the next frame on.
      const seat = seatOf(peer.clientId);
      const parts = AVATAR_PARTS.map((_, i) => {
        const eid = spawn(seat.x, i === 0 ? 1.6 : 1.1, seat.z, seat.yaw);
        addComponent(world, eid, AvatarPart);
        AvatarPart.part[eid] = i;
        addComponent(world, eid, Networked);
        setOwner(world, eid, peer.clientId);
        return eid;
      });
      avatars.set(peer.clientId, parts);
    },
    left(peer) {
      for (const eid of avatars.get(peer.clientId) ?? []) removeEntity(world, eid);
      avatars.delete(peer.clientId);
      // Objects the user held go back to the server by themselves (the plugin does it when an owner leaves).
    },
    message(peer, tag, bytes) {
      if (tag !== RoomTag.GrabRequest && tag !== RoomTag.GrabRelease) return false;
      const grab = decodeGrabMessage(tag, bytes);
      const eid = grab ? entityOfNetworkId(world, grab.netId) : 0;
      if (!grab || !grabbables.has(eid)) return true; // malformed, or not an object: dropped
      const owner = ownerOf(world, eid);
      if (!grab.release && owner === 0) setOwner(world, eid, peer.clientId); // first come, first served
      if (grab.release && owner === peer.clientId) {
        const [x, y, z, qx, qy, qz, qw] = grab.pose;
        const n = Math.hypot(qx, qy, qz, qw);
        if (!(n > 0.5 && n < 1.5)) return true; // not a rotation: keep the object where the server has it
        Pose.px[eid] = x;
        Pose.py[eid] = y;
        Pose.pz[eid] = z;
        Pose.qx[eid] = qx / n;
        Pose.qy[eid] = qy / n;
        Pose.qz[eid] = qz / n;
        Pose.qw[eid] = qw / n;
        setOwner(world, eid, 0);
      }
      return true;
    },
  });
  const timer = setInterval(() => {
    net.receive(world);
    net.send(world);
  }, 1000 / SERVER_TICK_HZ);

  return {
    net,
    userCount: () => avatars.size,
    async close() {
      clearInterval(timer);
      await net.dispose();
    },
  };
}
