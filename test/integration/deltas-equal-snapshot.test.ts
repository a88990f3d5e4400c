/**
 * "Deltas equal a snapshot": after random spawns, despawns, component changes and packet loss, a client built
 * from deltas holds exactly what a fresh client gets from a snapshot, and that matches the server within the
 * quantization bounds.
 */
import { addComponent, hasComponent, query, removeComponent, removeEntity } from 'bitecs';
import { describe, expect, it } from 'vitest';
import { createRandom, Networked, type LinkConditions, type Random } from '../../src/index.ts';
import { dump, type Peer, randomizeEntity, spawn, Stepper } from '../helpers/fixture.ts';

/** Random server activity for one frame. */
function chaos(p: Peer, rnd: Random): void {
  const live = [...query(p.world, [Networked])];
  if (rnd.next() < 0.3 || live.length < 5) {
    const stores = p.stores.filter(() => rnd.next() < 0.6);
    const eid = spawn(p, stores);
    randomizeEntity(p, eid, rnd);
  }
  if (live.length > 0 && rnd.next() < 0.08) removeEntity(p.world, live[rnd.int(live.length)]);
  if (live.length > 0 && rnd.next() < 0.1) {
    const eid = live[rnd.int(live.length)];
    const store = p.stores[rnd.int(p.stores.length)];
    if (hasComponent(p.world, eid, store)) removeComponent(p.world, eid, store);
    else addComponent(p.world, eid, store);
  }
  for (const eid of query(p.world, [Networked])) {
    if (rnd.next() < 0.3) {
      // Partial change: one family of fields, so masks are exercised.
      const which = rnd.int(4);
      if (which === 0) p.Pose.px[eid] += rnd.range(-0.01, 0.01);
      else if (which === 1) p.Ints.u16[eid] = rnd.int(65536);
      else if (which === 2) p.Floats.f32[eid] = rnd.gaussian();
      else randomizeEntity(p, eid, rnd);
    }
  }
}

function expectConverged(s: Stepper, clients: Peer[]): void {
  const fresh = s.addClient();
  s.run(120);
  const truth = dump(fresh);
  const server = dump(s.server);
  expect(truth.size).toBe(server.size);
  // The snapshot matches the server within quantization (1 mm; quaternions ~0.2 degree).
  for (const [netId, rec] of server) {
    const got = truth.get(netId)!;
    expect(Object.keys(got).sort()).toEqual(Object.keys(rec).sort());
    for (let i = 0; i < 3; i++)
      if (rec.Pose) expect(Math.abs(got.Pose[i] - rec.Pose[i])).toBeLessThanOrEqual(0.0005 + 1e-5);
    if (rec.Ints) expect(got.Ints).toEqual(rec.Ints);
    if (rec.Link) expect(got.Link).toEqual(rec.Link);
  }
  for (const c of clients) expect(dump(c)).toEqual(truth);
}

describe('deltas equal a snapshot', () => {
  const cases: Array<[string, LinkConditions]> = [
    ['no loss', {}],
    ['10% loss', { latencyMs: 20, jitterMs: 10, loss: 0.1, duplicate: 0.05, reorder: 0.1 }],
    ['30% loss', { latencyMs: 40, jitterMs: 30, loss: 0.3, duplicate: 0.1, reorder: 0.2 }],
  ];
  for (const [name, conditions] of cases) {
    it(`converges after random changes with ${name}, duplication and reordering`, () => {
      const s = new Stepper({ seed: 42 });
      const rnd = createRandom(1234);
      const a = s.addClient(conditions);
      const b = s.addClient(conditions);
      s.run(30);
      s.run(400, (p, isServer) => {
        if (isServer) chaos(p, rnd);
      });
      // Quiet period: no changes, time for every resend.
      s.run(400);
      expect(query(s.server.world, [Networked]).length).toBeGreaterThan(20);
      expectConverged(s, [a, b]);
      expect(a.errors.filter((e) => !/unknown/i.test(e.message))).toEqual([]);
    });
  }

  it('a late joiner gets the current state by snapshot and then follows deltas', () => {
    const s = new Stepper({ seed: 3 });
    const rnd = createRandom(9);
    for (let i = 0; i < 200; i++) randomizeEntity(s.server, spawn(s.server, s.server.stores), rnd);
    s.run(5);
    const late = s.addClient({ latencyMs: 30, loss: 0.1 });
    s.run(60);
    expect(dump(late).size).toBe(200);
    s.run(100, (p, isServer) => {
      if (isServer) chaos(p, rnd);
    });
    s.run(300);
    expectConverged(s, [late]);
  });

  it('slow drift below the precision is never lost', () => {
    const s = new Stepper({ seed: 5 });
    const c = s.addClient({ latencyMs: 10 });
    const eid = spawn(s.server, [s.server.Pose]);
    s.run(20);
    // 0.0002 m per frame: each step is below the 1 mm precision, the sum is 0.1 m.
    s.run(500, (p, isServer) => {
      if (isServer) p.Pose.px[eid] += 0.0002;
    });
    s.run(30);
    const local = [...query(c.world, [Networked])][0];
    expect(Math.abs(c.Pose.px[local] - s.server.Pose.px[eid])).toBeLessThanOrEqual(0.0005 + 1e-6);
    expect(c.Pose.px[local]).toBeGreaterThan(0.09);
  });
});
