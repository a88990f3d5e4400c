/** A protocol with every field kind, worlds to run it, and a deterministic stepper over the in-memory network. */
import { addComponent, addEntity, createWorld, hasComponent, query, type World } from 'bitecs';
import {
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  field,
  Networked,
  networkIdOf,
  registerComponent,
  type ClientPluginOptions,
  type Link,
  type LinkConditions,
  type ManualClock,
  type MemoryNetwork,
  type NetworkPlugin,
  type Protocol,
  type Random,
  type ServerPluginOptions,
} from '../../src/index.ts';

export const MAX = 4096;

/** Components of one world: one per field family, plus a tag. */
export function defineFixture() {
  const Pose = {
    px: new Float32Array(MAX),
    py: new Float32Array(MAX),
    pz: new Float32Array(MAX),
    qx: new Float32Array(MAX),
    qy: new Float32Array(MAX),
    qz: new Float32Array(MAX),
    qw: new Float32Array(MAX).fill(1),
  };
  const Ints = {
    b: new Uint8Array(MAX),
    u8: new Uint8Array(MAX),
    u16: new Uint16Array(MAX),
    u32: new Uint32Array(MAX),
    i8: new Int8Array(MAX),
    i16: new Int16Array(MAX),
    i32: new Int32Array(MAX),
  };
  const Floats = { f32: new Float32Array(MAX), f64: new Float64Array(MAX), kind: new Uint8Array(MAX) };
  const Link = { target: new Uint32Array(MAX) };
  const Tagged = {};
  const protocol = createProtocol();
  const m = field.quantized(-100, 100, 0.001);
  registerComponent(protocol, Pose, { name: 'Pose', fields: { px: m, py: m, pz: m, rot: field.quat() } });
  registerComponent(protocol, Ints, {
    name: 'Ints',
    fields: {
      b: field.bool(),
      u8: field.u8(),
      u16: field.u16(),
      u32: field.u32(),
      i8: field.i8(),
      i16: field.i16(),
      i32: field.i32(),
    },
  });
  registerComponent(protocol, Floats, {
    name: 'Floats',
    fields: { f32: field.f32(), f64: field.f64(), kind: field.enum(['a', 'b', 'c', 'd', 'e']) },
  });
  registerComponent(protocol, Link, { name: 'Link', fields: { target: field.entity() } });
  registerComponent(protocol, Tagged, { name: 'Tagged', fields: {} });
  return { protocol, Pose, Ints, Floats, Link, Tagged, stores: [Pose, Ints, Floats, Link, Tagged] as object[] };
}

export type Fixture = ReturnType<typeof defineFixture>;

export interface Peer extends Fixture {
  world: World;
  net: NetworkPlugin;
  errors: Error[];
  /** The client's in-memory link (absent on the server), for `network.setConditions`. */
  link?: Link;
}

/** Server and clients over one memory network, stepped by a manual clock. */
export class Stepper {
  readonly clock: ManualClock;
  readonly network: MemoryNetwork;
  readonly server: Peer;
  readonly clients: Peer[] = [];
  frameMs: number;

  constructor(
    opts: {
      seed?: number;
      frameMs?: number;
      sendRateHz?: number;
      server?: (fx: Fixture) => Partial<Omit<ServerPluginOptions, 'role' | 'protocol' | 'transport' | 'clock'>>;
    } = {},
  ) {
    this.clock = createManualClock();
    this.network = createMemoryNetwork({ clock: this.clock, seed: opts.seed ?? 1 });
    this.frameMs = opts.frameMs ?? 1000 / 60;
    const fx = defineFixture();
    const world = createWorld();
    const errors: Error[] = [];
    const net = createNetworkPlugin(world, {
      role: 'server',
      protocol: fx.protocol,
      transport: this.network.server,
      clock: this.clock,
      sendRateHz: opts.sendRateHz ?? 60,
      onError: (e) => errors.push(e),
      ...opts.server?.(fx),
    });
    this.server = { ...fx, world, net, errors };
    this.sendRateHz = opts.sendRateHz ?? 60;
  }

  private readonly sendRateHz: number;

  /** Connects a new client over a link with the given conditions. */
  addClient(
    conditions?: LinkConditions,
    protocol?: (fx: Fixture) => Protocol,
    options?: Partial<Omit<ClientPluginOptions, 'role' | 'protocol' | 'link' | 'clock'>>,
  ): Peer {
    const fx = defineFixture();
    const world = createWorld();
    const errors: Error[] = [];
    const link = this.network.connect({ up: conditions, down: conditions });
    const net = createNetworkPlugin(world, {
      role: 'client',
      protocol: protocol ? protocol(fx) : fx.protocol,
      link,
      clock: this.clock,
      sendRateHz: this.sendRateHz,
      onError: (e) => errors.push(e),
      ...options,
    });
    const peer = { ...fx, world, net, errors, link };
    this.clients.push(peer);
    return peer;
  }

  /** One frame: time passes, packets arrive, everyone receives, runs `game`, and sends. */
  step(game?: (peer: Peer, isServer: boolean) => void): void {
    this.clock.advance(this.frameMs);
    this.network.pump();
    this.server.net.receive(this.server.world);
    game?.(this.server, true);
    this.server.net.send(this.server.world);
    for (const c of this.clients) {
      c.net.receive(c.world);
      game?.(c, false);
      c.net.send(c.world);
    }
  }

  /** Runs `frames` frames. */
  run(frames: number, game?: (peer: Peer, isServer: boolean) => void): void {
    for (let i = 0; i < frames; i++) this.step(game);
  }
}

/** Spawns a replicated entity on the server with the given components. */
export function spawn(peer: Peer, stores: object[]): number {
  const eid = addEntity(peer.world);
  for (const s of stores) addComponent(peer.world, eid, s);
  addComponent(peer.world, eid, Networked);
  return eid;
}

/**
 * Everything a peer holds of the replicated state, keyed by network id: present components and field values
 * exactly as stored locally (entity references as network ids).
 */
export function dump(peer: Peer): Map<number, Record<string, number[]>> {
  const out = new Map<number, Record<string, number[]>>();
  for (const eid of query(peer.world, [Networked])) {
    const netId = networkIdOf(peer.world, eid);
    if (netId === 0) continue;
    const rec: Record<string, number[]> = {};
    for (const comp of peer.protocol.components) {
      if (!hasComponent(peer.world, eid, comp.store)) continue;
      const store = comp.store as Record<string, ArrayLike<number>>;
      rec[comp.name] = Object.keys(store).map((k) =>
        comp.name === 'Link' ? networkIdOf(peer.world, store[k][eid]) : store[k][eid],
      );
    }
    out.set(netId, rec);
  }
  return out;
}

/**
 * Gives every replicated field of `eid` a random value (a reference to a random live entity 70 % of the time);
 * `negativeZeroShare` of the f32 values are -0 (no extra draw when it is 0, so seeded runs keep their sequence).
 */
export function randomizeEntity(p: Peer, eid: number, rnd: Random, negativeZeroShare = 0): void {
  const { Pose, Ints, Floats, Link } = p;
  Pose.px[eid] = rnd.range(-100, 100);
  Pose.py[eid] = rnd.range(-100, 100);
  Pose.pz[eid] = rnd.range(-100, 100);
  const q = [rnd.gaussian(), rnd.gaussian(), rnd.gaussian(), rnd.gaussian()];
  const n = Math.hypot(...q) || 1;
  [Pose.qx[eid], Pose.qy[eid], Pose.qz[eid], Pose.qw[eid]] = q.map((v) => v / n);
  Ints.b[eid] = rnd.int(2);
  Ints.u8[eid] = rnd.int(256);
  Ints.u16[eid] = rnd.int(65536);
  Ints.u32[eid] = rnd.int(2 ** 32);
  Ints.i8[eid] = rnd.int(256) - 128;
  Ints.i16[eid] = rnd.int(65536) - 32768;
  Ints.i32[eid] = rnd.int(2 ** 32) - 2 ** 31;
  Floats.f32[eid] = negativeZeroShare > 0 && rnd.next() < negativeZeroShare ? -0 : rnd.gaussian() * 1e3;
  Floats.f64[eid] = rnd.gaussian() * 1e9;
  Floats.kind[eid] = rnd.int(5);
  const all = query(p.world, [Networked]);
  Link.target[eid] = all.length > 0 && rnd.next() < 0.7 ? all[rnd.int(all.length)] : 0;
}
