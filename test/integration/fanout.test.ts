/**
 * Fan-out to many clients (the pull model): each client's interest comes from the shared grid and equals a
 * brute-force distance check as viewers move; each tick every client receives exactly the changes of the entities
 * it has (not those it owns, paused, or that are muted), as the per-client fan-out did; under a cap every client
 * stays within it and is sent its nearest entities more often than its far ones.
 */
import { query } from 'bitecs';
import { describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import {
  clientIdOf,
  createRandom,
  entityOfNetworkId,
  Networked,
  networkIdOf,
  setOwner,
  setPublish,
  setReceiving,
  setViewPosition,
} from '../../src/index.ts';
import { spawn, Stepper, type Peer } from '../helpers/fixture.ts';

const RADIUS = 10;
const CELL = 5;
const WORLD = 60;

function gridStepper(seed: number, extra: Record<string, unknown> = {}) {
  return new Stepper({
    seed,
    server: (fx) => ({
      interest: {
        rateHz: 60,
        grid: { cellSize: CELL, radius: RADIUS, position: { component: fx.Pose, x: 'px', y: 'py', z: 'pz' } },
      },
      hashIntervalMs: 0,
      ...extra,
    }),
  });
}

function netIds(p: Peer): Set<number> {
  return new Set([...query(p.world, [Networked])].map((e) => networkIdOf(p.world, e)));
}

function within(s: Stepper, e: number, view: number[]): boolean {
  const P = s.server.Pose;
  return (P.px[e] - view[0]) ** 2 + (P.py[e] - view[1]) ** 2 + (P.pz[e] - view[2]) ** 2 <= RADIUS * RADIUS;
}

function populate(s: Stepper, n: number, seed: number): number[] {
  const rnd = createRandom(seed);
  const ents: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = spawn(s.server, [s.server.Pose, s.server.Ints]);
    s.server.Pose.px[e] = rnd.range(0, WORLD);
    s.server.Pose.pz[e] = rnd.range(0, WORLD);
    ents.push(e);
  }
  return ents;
}

describe('fan-out to many clients', () => {
  it("every moving client's entities equal a brute-force distance check (5 % loss, 30 ms latency)", () => {
    const s = gridStepper(41);
    const rnd = createRandom(41);
    const ents = populate(s, 600, 41);
    const clients = Array.from({ length: 10 }, () => s.addClient({ latencyMs: 30, jitterMs: 5, loss: 0.05 }));
    s.run(30);
    const views = clients.map(() => [rnd.range(0, WORLD), 0, rnd.range(0, WORLD)]);
    let checked = 0;
    for (let round = 0; round < 25; round++) {
      clients.forEach((c, i) => {
        const v = views[i];
        // Walk (within a cell, following the interest rate) or now and then jump (recomputed at once).
        if (rnd.next() < 0.15) v.splice(0, 3, rnd.range(0, WORLD), 0, rnd.range(0, WORLD));
        else v.splice(0, 3, v[0] + rnd.range(-3, 3), 0, v[2] + rnd.range(-3, 3));
        setViewPosition(s.server.world, clientIdOf(c.world), v[0], v[1], v[2]);
      });
      for (let k = 0; k < 20; k++) s.server.Pose.px[ents[rnd.int(ents.length)]] += rnd.range(-1, 1);
      s.run(20);
      clients.forEach((c, i) => {
        const expected = new Set(ents.filter((e) => within(s, e, views[i])).map((e) => networkIdOf(s.server.world, e)));
        expect(netIds(c), `round ${round}, client ${i}`).toEqual(expected);
        checked += expected.size;
      });
    }
    expect(checked).toBeGreaterThan(2000);
  });

  // Many changes (each client walks its known list) and few (it walks the change list).
  for (const share of [0.2, 0.01])
    it(`each tick every client receives exactly the changes of what it has, owns not, paused not (${share * 100} % change)`, () => {
      const s = gridStepper(42, { bandwidthKbps: 0 });
      const rnd = createRandom(42);
      const ents = populate(s, 400, 42);
      const clients = Array.from({ length: 6 }, () => s.addClient());
      s.run(10);
      const views = clients.map(() => [rnd.range(10, WORLD - 10), 0, rnd.range(10, WORLD - 10)]);
      const ids = clients.map((c) => clientIdOf(c.world));
      clients.forEach((_, i) => setViewPosition(s.server.world, ids[i], views[i][0], 0, views[i][2]));
      s.run(5);
      // Client 0 owns an entity it sees; client 1 pauses one it sees; one entity is muted for everyone.
      const seen = (i: number) => ents.filter((e) => within(s, e, views[i]));
      const owned = seen(0)[0];
      setOwner(s.server.world, owned, ids[0]);
      const paused = seen(1)[0];
      const muted = seen(2)[1];
      setPublish(s.server.world, { eid: muted }, false);
      s.run(5);
      setReceiving(
        clients[1].world,
        { eid: entityOfNetworkId(clients[1].world, networkIdOf(s.server.world, paused)) },
        false,
      );
      s.run(5);
      const value = (c: Peer, e: number) => {
        const local = entityOfNetworkId(c.world, networkIdOf(s.server.world, e));
        return local === 0 ? undefined : c.Ints.u32[local];
      };
      let delivered = 0;
      let previous: number[] = [];
      for (let step = 1; step <= 120; step++) {
        // Scripted changes: a share of the entities (always the three special ones), each to this step's number.
        const changed = ents.filter((e) => e === owned || e === paused || e === muted || rnd.next() < share);
        const before = clients.map((c) => ents.map((e) => value(c, e)));
        s.step((p, isServer) => {
          if (isServer) for (const e of changed) p.Ints.u32[e] = 1000 + step;
        });
        // What arrived in this step is what the server sent in the previous one (no latency, no loss, no cap).
        clients.forEach((c, i) => {
          const received = new Set<number>();
          ents.forEach((e, k) => {
            const now = value(c, e);
            if (before[i][k] !== undefined && now !== before[i][k]) received.add(e);
          });
          const expected = new Set(
            previous.filter(
              (e) =>
                within(s, e, views[i]) &&
                !(i === 0 && e === owned) &&
                !(i === 1 && e === paused) &&
                e !== muted &&
                before[i][ents.indexOf(e)] !== undefined,
            ),
          );
          expect(received).toEqual(expected);
          for (const e of received) expect(value(c, e)).toBe(1000 + step - 1);
          delivered += received.size;
        });
        previous = changed;
      }
      expect(delivered).toBeGreaterThan(share * 5000);
    });

  it('under a cap every client stays within it and is sent near entities more often than far ones', () => {
    // 400 entities change every tick; each client sees ~90 of them (~9 B each: ~50 kB/s at 60 Hz); cap at 32 kbps.
    const capKbps = 32;
    const s = gridStepper(43, { bandwidthKbps: capKbps });
    const rnd = createRandom(43);
    const ents = populate(s, 400, 43);
    const clients = Array.from({ length: 6 }, () => s.addClient());
    s.run(10);
    const views = clients.map(() => [rnd.range(15, WORLD - 15), 0, rnd.range(15, WORLD - 15)]);
    clients.forEach((c, i) => setViewPosition(s.server.world, clientIdOf(c.world), views[i][0], 0, views[i][2]));
    const ctx = getNetContext(s.server.world);
    if (ctx.role !== 'server') throw new Error('server expected');
    const bytes = () => clients.map((c) => ctx.session.peers.get(clientIdOf(c.world))!.connection.stats.bytesOut);
    // Pay off the join snapshots first (the whole world, sent before the viewpoints were set).
    s.run(240, (p, isServer) => {
      if (isServer) for (const e of ents) p.Ints.u32[e]++;
    });
    const start = bytes();
    const updates = clients.map(() => new Map<number, number>());
    const last = clients.map(() => new Map<number, number>());
    const frames = 360;
    for (let f = 0; f < frames; f++) {
      s.step((p, isServer) => {
        if (isServer) for (const e of ents) p.Ints.u32[e]++;
      });
      clients.forEach((c, i) => {
        for (const e of ents) {
          if (!within(s, e, views[i])) continue;
          const local = entityOfNetworkId(c.world, networkIdOf(s.server.world, e));
          const now = c.Ints.u32[local];
          if (last[i].get(e) !== now) updates[i].set(e, (updates[i].get(e) ?? 0) + 1);
          last[i].set(e, now);
        }
      });
    }
    const end = bytes();
    clients.forEach((_, i) => {
      const kbps = ((end[i] - start[i]) * 8) / 1000 / (frames / 60);
      // The cap is a token bucket: over the window, at most the rate plus the quarter second it may save up.
      expect(kbps).toBeLessThanOrEqual(capKbps * (1 + 0.25 / (frames / 60)));
      expect(kbps).toBeGreaterThan(capKbps * 0.7);
      // Near (within a cell) against far (beyond 7 m): the near ones are refreshed clearly more often.
      const P = s.server.Pose;
      const dist = (e: number) => Math.hypot(P.px[e] - views[i][0], P.pz[e] - views[i][2]);
      const rate = (pick: (e: number) => boolean) => {
        const sel = ents.filter((e) => within(s, e, views[i]) && pick(e));
        return sel.reduce((a, e) => a + (updates[i].get(e) ?? 0), 0) / Math.max(1, sel.length);
      };
      const near = rate((e) => dist(e) < CELL);
      const far = rate((e) => dist(e) > 7);
      expect(near).toBeGreaterThan(far * 1.15);
      // Nobody starves: far entities are still refreshed.
      expect(far).toBeGreaterThan(frames / 60);
    });
  });
});
