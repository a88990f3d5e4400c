/**
 * A room for authority tests: the deterministic stepper's server with an authority layer, and clients that
 * connect through a transport of the stepper's network (so they can be cut, reconnect and resume), each with
 * its own authority layer. A client's `auth` is 'role:user' and decides its role and user id.
 */
import { createWorld } from 'bitecs';
import {
  type ClientAuthority,
  type ClientAuthorityOptions,
  createClientAuthority,
  createNetworkPlugin,
  createServerAuthority,
  type ServerAuthority,
  type ServerAuthorityOptions,
  type ServerPluginOptions,
} from '../../src/index.ts';
import type { LinkConditions } from '../../src/transport/link-conditioner.ts';
import type { ClientTransport, Link } from '../../src/transport/transport.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { getNetContext } from '../../src/context.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { beginMessage } from '../../src/replication/wire-bodies.ts';
import { defineFixture, type Fixture, type Peer, Stepper } from '../helpers/fixture.ts';

/** A client of the room. */
export interface RoomClient extends Peer {
  authority: ClientAuthority;
  links: Link[];
  /** While true, reconnect attempts fail (the network is down for this client). */
  offline: { value: boolean };
}

/** Options of `createRoom`. */
export interface RoomOptions {
  seed?: number;
  resumeWindowMs?: number;
  authority?: (fx: Fixture) => ServerAuthorityOptions;
  server?: Partial<Omit<ServerPluginOptions, 'role' | 'protocol' | 'transport' | 'clock'>>;
}

/** The pose of the fixture's Pose component, as the authority layer's `pose` option. */
export function poseOf(fx: Fixture) {
  return {
    component: fx.Pose,
    position: ['px', 'py', 'pz'] as const,
    rotation: ['qx', 'qy', 'qz', 'qw'] as const,
  };
}

/** A stepper whose server has an authority layer; roles come from the clients' `auth` ('role:user'). */
export function createRoom(opts: RoomOptions = {}): { s: Stepper; authority: ServerAuthority } {
  const s = new Stepper({
    seed: opts.seed ?? 1,
    server: () => ({
      resumeWindowMs: opts.resumeWindowMs ?? 5000,
      authorize: (hello) => {
        const [role, userId] = (hello.auth ?? 'participant:anon').split(':');
        return { role, userId };
      },
      ...opts.server,
    }),
  });
  const authority = createServerAuthority(s.server.world, opts.authority?.(s.server));
  return { s, authority };
}

/** Connects a client with `auth` ('role:user') and an authority layer. */
export function join(
  s: Stepper,
  auth: string,
  options: (fx: Fixture) => ClientAuthorityOptions = () => ({}),
  conditions?: LinkConditions,
): RoomClient {
  const fx = defineFixture();
  const world = createWorld();
  const errors: Error[] = [];
  const links: Link[] = [];
  const offline = { value: false };
  const transport: ClientTransport = {
    connect: () => {
      if (offline.value) return Promise.reject(new Error('network unreachable'));
      const link = s.network.connect({ up: conditions, down: conditions });
      links.push(link);
      return Promise.resolve(link);
    },
  };
  const net = createNetworkPlugin(world, {
    role: 'client',
    protocol: fx.protocol,
    transport,
    auth,
    clock: s.clock,
    sendRateHz: 60,
    reconnect: { seed: 7, initialDelayMs: 100, maxDelayMs: 400 },
    onError: (e) => errors.push(e),
  });
  const authority = createClientAuthority(world, options(fx));
  const client: RoomClient = { ...fx, world, net, errors, authority, links, offline };
  s.clients.push(client);
  return client;
}

/** Lets promise callbacks (transport connects, action results) run; no time passes. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Runs `frames` frames of the stepper, settling promises after each. */
export async function run(s: Stepper, frames: number, game?: (peer: Peer, isServer: boolean) => void): Promise<void> {
  for (let i = 0; i < frames; i++) {
    s.step(game);
    await settle();
  }
}

/** A forged owner write from `client`: a Delta setting Pose.px of `netId` to `x` (within the fixture's range). */
export function forgeDelta(client: Peer, netId: number, x: number): void {
  const w = new BitWriter();
  beginMessage(w, Tag.Delta);
  w.writeVarUint(999); // tick
  w.writeBits(0xffff, 16); // depends on nothing
  w.writeVarUint(1); // one entity
  w.writeVarUint(netId);
  for (const comp of client.protocol.components) w.writeBits(comp.name === 'Pose' ? 1 : 0, 1);
  w.writeBits(0, 1); // not all fields
  w.writeBits(0b0001, 4); // px only
  w.writeBits(Math.round((x + 100) / 0.001), 18);
  const ctx = getNetContext(client.world);
  if (ctx.role !== 'client' || !ctx.session.connection) throw new Error('connected client expected');
  ctx.session.connection.sendUnreliable(w.toBytes());
}

/** Sends a raw framed message from `client` on its reliable lane. */
export function sendRaw(client: Peer, message: Uint8Array): void {
  const ctx = getNetContext(client.world);
  if (ctx.role !== 'client' || !ctx.session.connection) throw new Error('connected client expected');
  ctx.session.connection.sendReliable(message);
}

/** The server's per-peer counters of a client. */
export function peerCounters(s: Stepper, clientId: number) {
  const ctx = getNetContext(s.server.world);
  if (ctx.role !== 'server') throw new Error('server expected');
  const peer = ctx.session.peer(clientId);
  if (!peer) throw new Error(`client ${clientId} is not in the session`);
  return peer.counters;
}
