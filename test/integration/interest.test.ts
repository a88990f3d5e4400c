/** Interest management, priority and budget, chunked compressed snapshots, and hash-checked resync. */
import { query } from 'bitecs';
import { describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import {
  createRandom,
  entityOfNetworkId,
  Networked,
  networkIdOf,
  setAlwaysRelevant,
  setClientScope,
  setEntityScopes,
  setPublish,
  setReceiving,
  setViewPosition,
  subscribeScope,
} from '../../src/index.ts';
import { dump, spawn, Stepper, type Peer } from '../helpers/fixture.ts';

const RADIUS = 10;

function gridStepper(seed: number) {
  return new Stepper({
    seed,
    server: (fx) => ({
      interest: {
        rateHz: 20,
        grid: { cellSize: 5, radius: RADIUS, position: { component: fx.Pose, x: 'px', y: 'py', z: 'pz' } },
      },
    }),
  });
}

function netIds(p: Peer): Set<number> {
  return new Set([...query(p.world, [Networked])].map((e) => networkIdOf(p.world, e)));
}

describe('interest', () => {
  it('a client moving through a grid world receives exactly the entities within its radius', () => {
    const s = gridStepper(31);
    const rnd = createRandom(31);
    const entities: number[] = [];
    for (let i = 0; i < 400; i++) {
      const eid = spawn(s.server, [s.server.Pose, s.server.Ints]);
      s.server.Pose.px[eid] = rnd.range(0, 100);
      s.server.Pose.pz[eid] = rnd.range(0, 100);
      s.server.Ints.u16[eid] = i;
      entities.push(eid);
    }
    const c = s.addClient();
    const events: Array<[number, 'in' | 'out']> = [];
    c.net.events.on('spawn', (_e, netId) => events.push([netId, 'in']));
    c.net.events.on('despawn', (_e, netId, outOfInterest) => {
      expect(outOfInterest).toBe(true);
      events.push([netId, 'out']);
    });
    s.run(5);
    const clientId = s.server.net.stats()[0].clientId;
    let view: [number, number, number] = [50, 0, 50];
    let checks = 0;
    for (let step = 0; step < 60; step++) {
      // Walk (or sometimes jump) and let a few entities drift.
      view =
        rnd.next() < 0.2
          ? [rnd.range(0, 100), 0, rnd.range(0, 100)]
          : [view[0] + rnd.range(-4, 4), 0, view[2] + rnd.range(-4, 4)];
      setViewPosition(s.server.world, clientId, ...view);
      for (let k = 0; k < 10; k++) {
        const e = entities[rnd.int(entities.length)];
        s.server.Pose.px[e] += rnd.range(-1, 1);
      }
      s.run(8);
      // Oracle: brute force over every entity.
      const expected = new Set<number>();
      for (const e of entities) {
        const d = Math.hypot(
          s.server.Pose.px[e] - view[0],
          s.server.Pose.py[e] - view[1],
          s.server.Pose.pz[e] - view[2],
        );
        if (d <= RADIUS) expected.add(networkIdOf(s.server.world, e));
      }
      expect(netIds(c)).toEqual(expected);
      checks += expected.size;
      // Converged on every entity it sees.
      for (const netId of expected) {
        const local = entityOfNetworkId(c.world, netId);
        const e = entities.find((x) => networkIdOf(s.server.world, x) === netId)!;
        expect(Math.abs(c.Pose.px[local] - s.server.Pose.px[e])).toBeLessThanOrEqual(0.0005 + 1e-5);
        expect(c.Ints.u16[local]).toBe(s.server.Ints.u16[e]);
      }
    }
    expect(checks).toBeGreaterThan(200);
    // Events alternate in, out, in, ... for every entity.
    const last = new Map<number, 'in' | 'out'>();
    for (const [netId, kind] of events) {
      expect(last.get(netId) ?? 'out').not.toBe(kind);
      last.set(netId, kind);
    }
    expect(events.some(([, k]) => k === 'out')).toBe(true);
  });

  it('scopes, always-relevant entities, and client subscriptions decide what a client gets', () => {
    const s = new Stepper({ seed: 32 });
    const red = spawn(s.server, [s.server.Ints]);
    const blue = spawn(s.server, [s.server.Ints]);
    const lobby = spawn(s.server, [s.server.Ints]);
    setEntityScopes(s.server.world, red, ['red']);
    setEntityScopes(s.server.world, blue, ['blue']);
    setEntityScopes(s.server.world, lobby, ['hidden']);
    setAlwaysRelevant(s.server.world, lobby, true);
    const c = s.addClient();
    s.run(10);
    const id = (e: number) => networkIdOf(s.server.world, e);
    expect(netIds(c)).toEqual(new Set([id(lobby)]));
    setClientScope(s.server.world, s.server.net.stats()[0].clientId, 'red', true);
    s.run(10);
    expect(netIds(c)).toEqual(new Set([id(lobby), id(red)]));
    subscribeScope(c.world, 'blue');
    s.run(10);
    expect(netIds(c)).toEqual(new Set([id(lobby), id(red), id(blue)]));
    subscribeScope(c.world, 'red', false);
    s.run(10);
    expect(netIds(c)).toEqual(new Set([id(lobby), id(blue)]));
  });

  it('publish and receive toggles freeze updates and resync when switched back on', () => {
    const s = new Stepper({ seed: 33 });
    const e = spawn(s.server, [s.server.Ints]);
    const c = s.addClient();
    s.run(10);
    const local = () => entityOfNetworkId(c.world, networkIdOf(s.server.world, e));
    setPublish(s.server.world, { eid: e }, false);
    s.server.Ints.u32[e] = 7;
    s.run(10);
    expect(c.Ints.u32[local()]).toBe(0);
    setPublish(s.server.world, { eid: e }, true);
    s.run(10);
    expect(c.Ints.u32[local()]).toBe(7);
    setReceiving(c.world, { eid: local() }, false);
    s.run(10);
    s.server.Ints.u32[e] = 8;
    s.run(10);
    expect(c.Ints.u32[local()]).toBe(7);
    setReceiving(c.world, { eid: local() }, true);
    s.run(10);
    expect(c.Ints.u32[local()]).toBe(8);
  });
});

describe('priority and bandwidth budget', () => {
  it('updates every entity within a bounded time when the cap fits a tenth of the changes, and stays under the cap', () => {
    // 300 entities change every tick; each costs ~6 bytes, so 60 Hz x 300 x 6 B = 108 kB/s; cap to a tenth.
    const capKbps = 86;
    const s = new Stepper({ seed: 34, server: () => ({ bandwidthKbps: capKbps, hashIntervalMs: 0 }) });
    const ents: number[] = [];
    for (let i = 0; i < 300; i++) ents.push(spawn(s.server, [s.server.Ints]));
    const c = s.addClient();
    s.run(60);
    let tick = 0;
    const game = (p: Peer, isServer: boolean) => {
      if (isServer) for (const e of ents) p.Ints.u32[e] = tick;
    };
    const conn = () => {
      const ctx = getNetContext(s.server.world);
      if (ctx.role !== 'server') throw new Error();
      return [...ctx.session.peers.values()][0].connection;
    };
    let worstAge = 0;
    let bytesStart = 0;
    for (; tick < 600; tick++) {
      if (tick === 120) bytesStart = conn().stats.bytesOut;
      s.step(game);
      if (tick >= 120) {
        for (const e of ents) {
          const local = entityOfNetworkId(c.world, networkIdOf(s.server.world, e));
          worstAge = Math.max(worstAge, tick - c.Ints.u32[local]);
        }
      }
    }
    const seconds = (600 - 120) / 60;
    const kbps = ((conn().stats.bytesOut - bytesStart) * 8) / 1000 / seconds;
    expect(kbps).toBeLessThanOrEqual(capKbps);
    expect(kbps).toBeGreaterThan(capKbps * 0.7);
    // No starvation: with a tenth of the changes fitting, every entity is refreshed within ~10-20 ticks.
    expect(worstAge).toBeLessThanOrEqual(30);
  });
});

describe('snapshots and resync', () => {
  it('a late joiner into 10,000 entities gets a chunked, compressed snapshot and converges', () => {
    const s = new Stepper({ seed: 35 });
    const rnd = createRandom(35);
    for (let i = 0; i < 10_000; i++) {
      const e = spawn(s.server, [s.server.Ints]);
      s.server.Ints.u8[e] = rnd.int(4);
      s.server.Ints.u16[e] = i;
    }
    s.run(3);
    const c = s.addClient({ latencyMs: 20, loss: 0.02 });
    s.run(240);
    expect(dump(c)).toEqual(dump(s.server));
    const ctx = getNetContext(s.server.world);
    if (ctx.role !== 'server') throw new Error();
    const { snapshotRawBytes, snapshotSentBytes } = ctx.replicator.counters;
    expect(snapshotSentBytes).toBeLessThan(snapshotRawBytes * 0.9);
    expect(snapshotRawBytes / 16384).toBeGreaterThan(2);
  });

  it('forced divergence is detected by the state hash and repaired by resync', () => {
    const s = new Stepper({ seed: 36, server: () => ({ hashIntervalMs: 200 }) });
    const ents: number[] = [];
    for (let i = 0; i < 100; i++) {
      const e = spawn(s.server, [s.server.Ints, s.server.Pose]);
      s.server.Ints.u16[e] = i;
      s.server.Pose.px[e] = i * 0.1;
      ents.push(e);
    }
    const c = s.addClient({ latencyMs: 15, jitterMs: 5, loss: 0.05 });
    s.run(60);
    expect(dump(c)).toEqual(dump(s.server));
    // Corrupt the client: stray local writes to a replicated entity.
    const victim = entityOfNetworkId(c.world, networkIdOf(s.server.world, ents[42]));
    c.Ints.u16[victim] = 9999;
    c.Pose.px[victim] = 123;
    const ctx = getNetContext(c.world);
    if (ctx.role !== 'client') throw new Error();
    expect(ctx.replicator.counters.hashMismatches).toBe(0);
    s.run(60);
    expect(ctx.replicator.counters.hashMismatches).toBeGreaterThan(0);
    expect(c.errors.some((e) => (e as { code?: string }).code === 'HashMismatch')).toBe(true);
    expect(dump(c)).toEqual(dump(s.server));
    expect(c.Ints.u16[victim]).toBe(42);
  });
});
