/**
 * A protocol with short-string fields (a reliable-only Label beside an unreliable Body), worlds to run it, and a
 * deterministic stepper over the in-memory network with the link conditioner.
 */
import { addComponent, addEntity, createWorld, hasComponent, query, type World } from 'bitecs';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { beginMessage } from '../../src/replication/wire-bodies.ts';
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
  type NetError,
  type NetworkPlugin,
  type ServerPluginOptions,
  Tag,
} from '../../src/index.ts';

export const MAX = 1024;
/** Byte limits of the fixture's string fields. */
export const NAME_BYTES = 24;
export const TITLE_BYTES = 8;

/** Components of one world: Body (numbers only), Label (a string and a number), Badge (a string only). */
export function defineStringFixture() {
  const Body = { x: new Float32Array(MAX), y: new Float32Array(MAX) };
  const Label = { name: [] as string[], color: new Uint8Array(MAX) };
  const Badge = { title: [] as string[] };
  const protocol = createProtocol();
  const m = field.quantized(-100, 100, 0.01);
  registerComponent(protocol, Body, { name: 'Body', fields: { x: m, y: m } });
  registerComponent(protocol, Label, {
    name: 'Label',
    fields: { name: field.shortString(NAME_BYTES), color: field.u8() },
  });
  registerComponent(protocol, Badge, { name: 'Badge', fields: { title: field.shortString(TITLE_BYTES) } });
  return { protocol, Body, Label, Badge, stores: [Body, Label, Badge] as object[] };
}

export type StringFixture = ReturnType<typeof defineStringFixture>;

export interface StringPeer extends StringFixture {
  world: World;
  net: NetworkPlugin;
  errors: NetError[];
  link?: Link;
}

/** Server and clients over one memory network, stepped by a manual clock at 60 Hz. */
export class StringStepper {
  readonly clock: ManualClock;
  readonly network: MemoryNetwork;
  readonly server: StringPeer;
  readonly clients: StringPeer[] = [];

  constructor(
    opts: {
      seed?: number;
      server?: (fx: StringFixture) => Partial<Omit<ServerPluginOptions, 'role' | 'protocol' | 'transport' | 'clock'>>;
    } = {},
  ) {
    this.clock = createManualClock();
    this.network = createMemoryNetwork({ clock: this.clock, seed: opts.seed ?? 1 });
    const fx = defineStringFixture();
    const world = createWorld();
    const errors: NetError[] = [];
    const net = createNetworkPlugin(world, {
      role: 'server',
      protocol: fx.protocol,
      transport: this.network.server,
      clock: this.clock,
      sendRateHz: 60,
      onError: (e) => errors.push(e),
      ...opts.server?.(fx),
    });
    this.server = { ...fx, world, net, errors };
  }

  /** Connects a new client over a link with the given conditions. */
  addClient(
    conditions?: LinkConditions,
    options?: Partial<Omit<ClientPluginOptions, 'role' | 'protocol' | 'link' | 'clock'>>,
  ): StringPeer {
    const fx = defineStringFixture();
    const world = createWorld();
    const errors: NetError[] = [];
    const link = this.network.connect({ up: conditions, down: conditions });
    const net = createNetworkPlugin(world, {
      role: 'client',
      protocol: fx.protocol,
      link,
      clock: this.clock,
      sendRateHz: 60,
      onError: (e) => errors.push(e),
      ...options,
    });
    const peer = { ...fx, world, net, errors, link };
    this.clients.push(peer);
    return peer;
  }

  /** One frame: time passes, packets arrive, everyone receives, runs `game`, and sends. */
  step(game?: (peer: StringPeer, isServer: boolean) => void): void {
    this.clock.advance(1000 / 60);
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
  run(frames: number, game?: (peer: StringPeer, isServer: boolean) => void): void {
    for (let i = 0; i < frames; i++) this.step(game);
  }
}

/** Spawns a replicated entity on `peer`'s world with the given components. */
export function spawnWith(peer: StringPeer, stores: object[]): number {
  const eid = addEntity(peer.world);
  for (const s of stores) addComponent(peer.world, eid, s);
  addComponent(peer.world, eid, Networked);
  return eid;
}

/** The local entity of network id `netId` on `peer`, or 0. */
export function localOf(peer: StringPeer, netId: number): number {
  for (const eid of query(peer.world, [Networked])) if (networkIdOf(peer.world, eid) === netId) return eid;
  return 0;
}

/** Everything a peer holds of the replicated state, by network id: components and values (strings as strings). */
export function dumpStrings(peer: StringPeer): Map<number, Record<string, Array<number | string>>> {
  const out = new Map<number, Record<string, Array<number | string>>>();
  for (const eid of query(peer.world, [Networked])) {
    const netId = networkIdOf(peer.world, eid);
    if (netId === 0) continue;
    const rec: Record<string, Array<number | string>> = {};
    for (const comp of peer.protocol.components) {
      if (!hasComponent(peer.world, eid, comp.store)) continue;
      const store = comp.store as Record<string, ArrayLike<number | string | undefined>>;
      rec[comp.name] = Object.keys(store).map((k) => store[k][eid] ?? '');
    }
    out.set(netId, rec);
  }
  return out;
}

/**
 * A Delta body as a hostile peer would forge it: entity `netId`, its Label's name given as a raw length prefix
 * `len` and raw `bytes` (not checked here), at `tick`.
 */
export function forgeNameDelta(netId: number, len: number, bytes: readonly number[], tick: number): Uint8Array {
  const w = new BitWriter();
  beginMessage(w, Tag.Delta);
  w.writeVarUint(tick);
  w.writeBits(0xffff, 16); // depends on nothing
  w.writeVarUint(1); // one entity
  w.writeVarUint(netId);
  w.writeBits(0b010, 3); // presence: Label only
  w.writeBits(0, 1); // not all fields
  w.writeBits(0b01, 2); // mask: name
  w.writeVarUint(len);
  w.writeBytes(Uint8Array.from(bytes));
  return w.toBytes();
}
