/**
 * ecsync-owned storage and change marks through the real plugins (server, clients, in-memory network, manual
 * clock): an owned store replicates like user-owned arrays on the WASM SIMD and the JS kernel; with
 * `changes: 'marked'` an unmarked write is not sent, a marked one is, marking later converges, and an owner's
 * accepted write is relayed to the other clients without a mark.
 */
import { addComponent, addEntity, createWorld } from 'bitecs';
import type { World } from 'bitecs';
import { describe, expect, it } from 'vitest';
import {
  changeDetectionOf,
  clientIdOf,
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  createReplicatedStore,
  entityOfNetworkId,
  field,
  markChanged,
  Networked,
  networkIdOf,
  registerComponent,
  setOwner,
} from '../../src/index.ts';
import type { NetworkPlugin, Protocol } from '../../src/index.ts';

const CAPACITY = 512;
const SCHEMA = { px: 'f32', py: 'f32', qx: 'f32', qy: 'f32', qz: 'f32', qw: 'f32', hp: 'u32' } as const;

type Body = Record<keyof typeof SCHEMA, Float32Array | Uint32Array>;

function userBody(): Body {
  return {
    px: new Float32Array(CAPACITY),
    py: new Float32Array(CAPACITY),
    qx: new Float32Array(CAPACITY),
    qy: new Float32Array(CAPACITY),
    qz: new Float32Array(CAPACITY),
    qw: new Float32Array(CAPACITY).fill(1),
    hp: new Uint32Array(CAPACITY),
  };
}

function registerBody(protocol: Protocol, Body: Body, changes?: 'scan' | 'marked'): void {
  const m = field.quantized(-100, 100, 0.001);
  registerComponent(protocol, Body, {
    name: 'Body',
    fields: { px: m, py: m, rot: field.quat(['qx', 'qy', 'qz', 'qw']), hp: field.u32() },
    ...(changes === undefined ? {} : { changes }),
  });
}

interface Peer {
  world: World;
  net: NetworkPlugin;
  Body: Body;
  errors: Error[];
}

function room(server: { Body: Body; changes?: 'scan' | 'marked' }, clients: number, ownedClients = false) {
  const clock = createManualClock();
  const network = createMemoryNetwork({ clock, seed: 5 });
  const protocol = createProtocol();
  registerBody(protocol, server.Body, server.changes);
  const world = createWorld();
  const errors: Error[] = [];
  const net = createNetworkPlugin(world, {
    role: 'server',
    protocol,
    transport: network.server,
    clock,
    sendRateHz: 60,
    hashIntervalMs: 0,
    onError: (e) => errors.push(e),
  });
  const srv: Peer = { world, net, Body: server.Body, errors };
  const peers: Peer[] = [];
  for (let i = 0; i < clients; i++) {
    const Body = ownedClients ? createReplicatedStore(SCHEMA, { capacity: CAPACITY }) : userBody();
    const p = createProtocol();
    registerBody(p, Body, server.changes); // the same registration on both sides: clients ignore `changes`
    const w = createWorld();
    const errs: Error[] = [];
    const link = network.connect({ up: { latencyMs: 20, loss: 0.02 }, down: { latencyMs: 20, loss: 0.02 } });
    const n = createNetworkPlugin(w, {
      role: 'client',
      protocol: p,
      link,
      clock,
      sendRateHz: 60,
      onError: (e) => errs.push(e),
    });
    peers.push({ world: w, net: n, Body, errors: errs });
  }
  const step = (game?: () => void) => {
    clock.advance(1000 / 60);
    network.pump();
    srv.net.receive(srv.world);
    game?.();
    srv.net.send(srv.world);
    for (const c of peers) {
      c.net.receive(c.world);
      c.net.send(c.world);
    }
  };
  const run = (frames: number, game?: () => void) => {
    for (let i = 0; i < frames; i++) step(game);
  };
  const spawnBody = () => {
    const eid = addEntity(world);
    addComponent(world, eid, server.Body);
    addComponent(world, eid, Networked);
    return eid;
  };
  const on = (c: Peer, eid: number) => entityOfNetworkId(c.world, networkIdOf(world, eid));
  return { server: srv, clients: peers, run, spawnBody, on, protocol };
}

describe('owned storage through the plugins', () => {
  for (const wasm of [true, false]) {
    it(`an owned store replicates like user arrays (${wasm ? 'WASM SIMD' : 'JS'} kernel)`, () => {
      const Body = createReplicatedStore(SCHEMA, { capacity: CAPACITY, wasm });
      const r = room({ Body }, 2);
      expect(changeDetectionOf(r.server.world, Body)).toBe(wasm ? 'wasm-simd' : 'js');
      r.run(10);
      const ents = Array.from({ length: 40 }, () => r.spawnBody());
      r.run(30);
      for (let round = 0; round < 20; round++) {
        r.run(3, () => {
          for (const [k, e] of ents.entries()) {
            if ((k + round) % 3 !== 0) continue;
            Body.px[e] = Math.sin(round + k) * 50;
            Body.hp[e] = round * 100 + k;
            Body.qy[e] = Math.sin(round / 7);
            Body.qw[e] = Math.cos(round / 7);
          }
          Body.py[ents[round]] = -0; // a sign flip alone is a raw change; it quantizes to the same wire value
        });
      }
      r.run(40);
      for (const c of r.clients) {
        for (const e of ents) {
          const local = r.on(c, e);
          expect(local).toBeGreaterThan(0);
          expect(Math.abs(c.Body.px[local] - Body.px[e])).toBeLessThanOrEqual(0.0005);
          expect(c.Body.hp[local]).toBe(Body.hp[e]);
          // q and -q are one rotation (the codec may send either)
          const same = Math.abs(c.Body.qy[local] - Body.qy[e]) + Math.abs(c.Body.qw[local] - Body.qw[e]);
          const flipped = Math.abs(c.Body.qy[local] + Body.qy[e]) + Math.abs(c.Body.qw[local] + Body.qw[e]);
          expect(Math.min(same, flipped)).toBeLessThan(0.004);
        }
        expect(c.errors).toEqual([]);
      }
      expect(r.server.errors).toEqual([]);
    });
  }
});

describe('change marks', () => {
  it('sends marked writes, not unmarked ones, and converges once marked (user arrays and owned store)', () => {
    for (const owned of [false, true]) {
      const Body = owned ? createReplicatedStore(SCHEMA, { capacity: CAPACITY }) : userBody();
      const r = room({ Body, changes: 'marked' }, 1);
      expect(changeDetectionOf(r.server.world, Body)).toBe('marks');
      const [client] = r.clients;
      r.run(10);
      const a = r.spawnBody();
      const b = r.spawnBody();
      Body.px[a] = 1;
      Body.px[b] = 2;
      r.run(30);
      // Spawns go out whole without marks.
      expect(client.Body.px[r.on(client, a)]).toBeCloseTo(1, 3);
      expect(client.Body.px[r.on(client, b)]).toBeCloseTo(2, 3);
      Body.px[a] = 10; // not marked: documented as not sent
      Body.px[b] = 20;
      markChanged(r.server.world, Body, b);
      r.run(30);
      expect(client.Body.px[r.on(client, a)]).toBeCloseTo(1, 3);
      expect(client.Body.px[r.on(client, b)]).toBeCloseTo(20, 3);
      // Marked later, it converges.
      expect(markChanged(r.server.world, Body, a)).toBe(true);
      r.run(30);
      expect(client.Body.px[r.on(client, a)]).toBeCloseTo(10, 3);
      // Many marks at once (the sweep path) and repeated marks of one entity.
      const ents = Array.from({ length: 100 }, () => r.spawnBody());
      r.run(30);
      for (const e of ents) {
        Body.hp[e] = e * 3;
        markChanged(r.server.world, Body, e);
        markChanged(r.server.world, Body, e);
      }
      r.run(40);
      for (const e of ents) expect(client.Body.hp[r.on(client, e)]).toBe(e * 3);
      // Ids no replicated entity can have are ignored, not stored.
      expect(markChanged(r.server.world, Body, -1)).toBe(false);
      expect(markChanged(r.server.world, Body, 2 ** 40)).toBe(false);
      expect(markChanged(r.server.world, Body, 1.5)).toBe(false);
      expect(r.server.errors).toEqual([]);
    }
  });

  it("relays an owner's accepted write without a mark (clients on owned stores too)", () => {
    const Body = userBody();
    const r = room({ Body, changes: 'marked' }, 2, true);
    const [a, b] = r.clients;
    r.run(10);
    const hand = r.spawnBody();
    setOwner(r.server.world, hand, clientIdOf(a.world));
    r.run(30);
    const onA = r.on(a, hand);
    const onB = r.on(b, hand);
    expect(onA).toBeGreaterThan(0);
    for (let i = 0; i < 60; i++) {
      a.Body.px[onA] += 0.05;
      r.run(1);
    }
    r.run(40);
    expect(Math.abs(Body.px[hand] - a.Body.px[onA])).toBeLessThanOrEqual(0.0005);
    expect(Math.abs(b.Body.px[onB] - a.Body.px[onA])).toBeLessThanOrEqual(0.0005);
  });

  it('is a server call on registered components; the schema hash ignores it', () => {
    const p1 = createProtocol();
    const p2 = createProtocol();
    registerBody(p1, userBody());
    registerBody(p2, userBody(), 'marked');
    expect(p2.schemaHash).toBe(p1.schemaHash);
    const Body = userBody();
    const r = room({ Body }, 1);
    expect(() => markChanged(r.server.world, userBody(), 1)).toThrow(/not registered/);
    expect(() => markChanged(r.clients[0].world, r.clients[0].Body, 1)).toThrow(/server call/);
    expect(changeDetectionOf(r.server.world, Body)).toBe('arrays');
    expect(() =>
      registerComponent(createProtocol(), userBody(), { name: 'X', fields: {}, changes: 'x' as 'scan' }),
    ).toThrow(/changes/);
  });
});
