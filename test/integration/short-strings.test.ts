/**
 * Short strings replicated like any field, over the memory network with the link conditioner: spawn and snapshot
 * carry them, changes travel in reliable Deltas (their component never in the unreliable Delta), interest
 * enter/leave, owner writes both ways, refused local writes, and "deltas equal a snapshot" under loss.
 */
import { addComponent, hasComponent, query, removeComponent, removeEntity } from 'bitecs';
import { describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import {
  addWriteRule,
  createRandom,
  entityOfNetworkId,
  Networked,
  networkIdOf,
  setOwner,
  shortStringStatsOf,
  type LinkConditions,
  type Random,
} from '../../src/index.ts';
import {
  dumpStrings,
  NAME_BYTES,
  spawnWith,
  StringStepper,
  TITLE_BYTES,
  type StringPeer,
} from '../helpers/strings-fixture.ts';

const NAMES = ['', 'Alice', 'Bob', 'Zoë', '日本語', '🎉 party', 'Ωmega-7', 'x'.repeat(NAME_BYTES), 'é'.repeat(12)];
const TITLES = ['', 'host', 'guest', '🦄🦄', 'ünï'];

function codes(p: StringPeer): string[] {
  return p.errors.map((e) => e.code);
}

/** Random server activity: spawns, despawns, component add/remove, string and number changes. */
function chaos(p: StringPeer, rnd: Random): void {
  const live = [...query(p.world, [Networked])];
  if (rnd.next() < 0.25 || live.length < 5) {
    const eid = spawnWith(
      p,
      p.stores.filter(() => rnd.next() < 0.7),
    );
    p.Label.name[eid] = NAMES[rnd.int(NAMES.length)];
    p.Label.color[eid] = rnd.int(256);
    p.Badge.title[eid] = TITLES[rnd.int(TITLES.length)];
    p.Body.x[eid] = rnd.range(-50, 50);
  }
  if (live.length > 0 && rnd.next() < 0.06) removeEntity(p.world, live[rnd.int(live.length)]);
  const left = [...query(p.world, [Networked])];
  if (left.length > 0 && rnd.next() < 0.1) {
    const eid = left[rnd.int(left.length)];
    const store = p.stores[rnd.int(p.stores.length)];
    if (hasComponent(p.world, eid, store)) removeComponent(p.world, eid, store);
    else addComponent(p.world, eid, store);
  }
  for (const eid of query(p.world, [Networked])) {
    const r = rnd.next();
    if (r < 0.05) p.Label.name[eid] = NAMES[rnd.int(NAMES.length)];
    else if (r < 0.08) p.Badge.title[eid] = TITLES[rnd.int(TITLES.length)];
    else if (r < 0.1) p.Label.color[eid] = rnd.int(256);
    else if (r < 0.4) p.Body.x[eid] += rnd.range(-1, 1);
  }
}

describe('short strings: replication', () => {
  it('spawn carries strings; a change arrives through a reliable Delta, the numbers beside it too', () => {
    const s = new StringStepper();
    const c = s.addClient();
    s.run(10);
    const e = spawnWith(s.server, [s.server.Body, s.server.Label]);
    s.server.Label.name[e] = 'Zoë 🎉';
    s.server.Label.color[e] = 7;
    s.server.Body.x[e] = 1.5;
    s.run(5);
    const netId = networkIdOf(s.server.world, e);
    const local = entityOfNetworkId(c.world, netId);
    expect(local).not.toBe(0);
    expect(c.Label.name[local]).toBe('Zoë 🎉');
    expect(c.Label.color[local]).toBe(7);
    expect(shortStringStatsOf(s.server.world).reliableDeltas).toBe(0);

    s.server.Label.name[e] = '日本語のラベル';
    s.server.Label.color[e] = 9;
    s.server.Body.x[e] = -2;
    s.run(5);
    expect(c.Label.name[local]).toBe('日本語のラベル');
    expect(c.Label.color[local]).toBe(9);
    expect(c.Body.x[local]).toBeCloseTo(-2, 2);
    expect(shortStringStatsOf(s.server.world).reliableDeltas).toBe(1);
    // The same value again is no change: nothing more goes out.
    s.server.Label.name[e] = '日本語' + 'のラベル';
    s.run(5);
    expect(shortStringStatsOf(s.server.world).reliableDeltas).toBe(1);
    expect(c.errors).toEqual([]);
  });

  it('a string change survives 100 % loss of the unreliable lane for a while: it rides the reliable one', () => {
    const s = new StringStepper({ seed: 3 });
    const c = s.addClient({ latencyMs: 30, loss: 0.5 });
    s.run(60);
    const e = spawnWith(s.server, [s.server.Label]);
    s.server.Label.name[e] = 'first';
    s.run(60);
    const local = entityOfNetworkId(c.world, networkIdOf(s.server.world, e));
    for (let i = 0; i < 20; i++) {
      s.server.Label.name[e] = `name ${i}`;
      s.run(3);
    }
    s.run(120);
    expect(c.Label.name[local]).toBe('name 19');
    // Every change went reliably (one reliable Delta per changed tick), never as an unreliable resend.
    expect(shortStringStatsOf(s.server.world).reliableDeltas).toBe(20);
  });

  it('the state hash covers strings: a local tamper with a replicated name is found and resynced', () => {
    const s = new StringStepper({ seed: 4 });
    const c = s.addClient();
    s.run(10);
    const e = spawnWith(s.server, [s.server.Label]);
    s.server.Label.name[e] = 'truth';
    s.run(10);
    const local = entityOfNetworkId(c.world, networkIdOf(s.server.world, e));
    c.Label.name[local] = 'tampered';
    s.run(150); // past two state-hash periods (1 s each at 60 Hz)
    expect(c.Label.name[local]).toBe('truth');
    expect(codes(c)).toContain('HashMismatch');
  });

  it('interest: an entity out of interest misses changes, and comes back with its current strings', () => {
    const hidden = new Set<number>();
    const s = new StringStepper({
      server: () => ({ interest: { rateHz: 60, predicate: (_c: number, eid: number) => !hidden.has(eid) } }),
    });
    const c = s.addClient();
    s.run(10);
    const e = spawnWith(s.server, [s.server.Label, s.server.Badge]);
    s.server.Label.name[e] = 'visible';
    s.server.Badge.title[e] = 'host';
    s.run(5);
    const netId = networkIdOf(s.server.world, e);
    expect(c.Label.name[entityOfNetworkId(c.world, netId)]).toBe('visible');
    hidden.add(e);
    s.run(5);
    expect(entityOfNetworkId(c.world, netId)).toBe(0);
    s.server.Label.name[e] = 'changed while away';
    s.server.Badge.title[e] = 'guest';
    s.run(5);
    hidden.delete(e);
    s.run(5);
    const back = entityOfNetworkId(c.world, netId);
    expect(back).not.toBe(0);
    expect(c.Label.name[back]).toBe('changed while away');
    expect(c.Badge.title[back]).toBe('guest');
  });

  it('owner writes: a client renames what it owns; the server and another client follow', () => {
    const s = new StringStepper({ seed: 5 });
    const a = s.addClient({ latencyMs: 20, loss: 0.2 });
    const b = s.addClient({ latencyMs: 20, loss: 0.2 });
    s.run(30);
    const e = spawnWith(s.server, [s.server.Body, s.server.Label]);
    s.server.Label.name[e] = 'server-made';
    s.run(30);
    const clientA = getNetContext(a.world);
    if (clientA.role !== 'client') throw new Error('client expected');
    setOwner(s.server.world, e, clientA.session.clientId);
    s.run(30);
    const netId = networkIdOf(s.server.world, e);
    const la = entityOfNetworkId(a.world, netId);
    const lb = entityOfNetworkId(b.world, netId);
    for (let i = 0; i < 10; i++) {
      a.Label.name[la] = `Ann #${i} ✓`;
      a.Body.x[la] = i;
      s.run(4);
    }
    s.run(120);
    expect(s.server.Label.name[e]).toBe('Ann #9 ✓');
    expect(b.Label.name[lb]).toBe('Ann #9 ✓');
    expect(b.Body.x[lb]).toBeCloseTo(9, 2);
    expect(shortStringStatsOf(a.world).reliableDeltas).toBeGreaterThanOrEqual(10);
    expect(codes(s.server).filter((x) => x !== 'HashMismatch')).toEqual([]);
  });

  it('a local write over maxBytes (or not a string) is refused once, reported, and the last valid value stays', () => {
    const s = new StringStepper();
    const a = s.addClient();
    s.run(10);
    const e = spawnWith(s.server, [s.server.Label, s.server.Badge]);
    s.server.Badge.title[e] = 'ok';
    s.run(5);
    const netId = networkIdOf(s.server.world, e);
    const la = entityOfNetworkId(a.world, netId);
    // Server side: 9 bytes in an 8-byte field (an astral emoji is 4 bytes: 'abcde' + '🎉' = 9).
    s.server.Badge.title[e] = 'abcde🎉';
    s.run(30);
    expect(a.Badge.title[la]).toBe('ok');
    expect(codes(s.server).filter((x) => x === 'InvalidString')).toHaveLength(1);
    expect(shortStringStatsOf(s.server.world).invalidStrings).toBe(1);
    (s.server.Badge.title as unknown[])[e] = 42;
    s.run(5);
    expect(shortStringStatsOf(s.server.world).invalidStrings).toBe(2);
    expect(a.Badge.title[la]).toBe('ok');
    s.server.Badge.title[e] = 'abcd🎉'; // exactly 8 bytes
    s.run(5);
    expect(a.Badge.title[la]).toBe('abcd🎉');

    // Owner side: the same refusal on the client, nothing reaches the server.
    const ctx = getNetContext(a.world);
    if (ctx.role !== 'client') throw new Error('client expected');
    setOwner(s.server.world, e, ctx.session.clientId);
    s.run(10);
    a.Badge.title[la] = 'x'.repeat(TITLE_BYTES + 1);
    s.run(30);
    expect(s.server.Badge.title[e]).toBe('abcd🎉');
    expect(codes(a).filter((x) => x === 'InvalidString')).toHaveLength(1);
    a.Badge.title[la] = 'fits';
    s.run(10);
    expect(s.server.Badge.title[e]).toBe('fits');
  });
});

describe('short strings: the write gate', () => {
  it('a refused owner write of a string component is corrected back, and not echoed to the server again', () => {
    const s = new StringStepper({ seed: 8 });
    const a = s.addClient();
    const b = s.addClient();
    s.run(20);
    addWriteRule(s.server.world, s.server.Label, (w) => (w.proposed[w.slot.color] > 100 ? 'too bright' : undefined));
    const e = spawnWith(s.server, [s.server.Label]);
    s.server.Label.name[e] = 'server name';
    s.server.Label.color[e] = 5;
    s.run(10);
    const ctx = getNetContext(a.world);
    if (ctx.role !== 'client') throw new Error('client expected');
    setOwner(s.server.world, e, ctx.session.clientId);
    s.run(20);
    const netId = networkIdOf(s.server.world, e);
    const la = entityOfNetworkId(a.world, netId);
    const sent = shortStringStatsOf(a.world).reliableDeltas;
    a.Label.name[la] = 'sneaky';
    a.Label.color[la] = 250;
    s.run(20);
    expect(s.server.Label.name[e]).toBe('server name');
    expect(b.Label.name[entityOfNetworkId(b.world, netId)]).toBe('server name');
    expect(codes(s.server)).toContain('InvalidWrite');
    // Corrected: the owner holds the server's values again and does not send them back.
    expect(a.Label.name[la]).toBe('server name');
    expect(a.Label.color[la]).toBe(5);
    s.run(30);
    expect(shortStringStatsOf(a.world).reliableDeltas).toBe(sent + 1);
    a.Label.name[la] = 'allowed';
    s.run(10);
    expect(s.server.Label.name[e]).toBe('allowed');
  });
  it('a write rule sees the proposed text and may refuse it', () => {
    const s = new StringStepper({ seed: 9 });
    const a = s.addClient();
    s.run(20);
    const seen: string[] = [];
    addWriteRule(s.server.world, s.server.Label, (w) => {
      seen.push(w.text.name);
      return /admin/i.test(w.text.name) ? 'reserved name' : undefined;
    });
    const e = spawnWith(s.server, [s.server.Label]);
    s.server.Label.name[e] = 'guest';
    s.run(10);
    const ctx = getNetContext(a.world);
    if (ctx.role !== 'client') throw new Error('client expected');
    setOwner(s.server.world, e, ctx.session.clientId);
    s.run(20);
    const la = entityOfNetworkId(a.world, networkIdOf(s.server.world, e));
    a.Label.name[la] = 'The Admin';
    s.run(20);
    expect(s.server.Label.name[e]).toBe('guest');
    expect(a.Label.name[la]).toBe('guest');
    expect(s.server.errors.some((x) => x.code === 'InvalidWrite' && /reserved name/.test(x.message))).toBe(true);
    a.Label.name[la] = 'Ann';
    s.run(20);
    expect(s.server.Label.name[e]).toBe('Ann');
    expect(seen).toEqual(['The Admin', 'Ann']);
  });
});

describe('short strings: deltas equal a snapshot', () => {
  const cases: Array<[string, LinkConditions]> = [
    ['no loss', {}],
    ['10% loss', { latencyMs: 20, jitterMs: 10, loss: 0.1, duplicate: 0.05, reorder: 0.1 }],
    ['30% loss', { latencyMs: 40, jitterMs: 30, loss: 0.3, duplicate: 0.1, reorder: 0.2 }],
  ];
  for (const [name, conditions] of cases) {
    it(`strings and numbers converge after random changes with ${name}`, () => {
      const s = new StringStepper({ seed: 42 });
      const rnd = createRandom(77);
      const a = s.addClient(conditions);
      const b = s.addClient(conditions);
      s.run(30);
      s.run(300, (p, isServer) => {
        if (isServer) chaos(p, rnd);
      });
      s.run(300);
      const server = dumpStrings(s.server);
      expect(server.size).toBeGreaterThan(15);
      const fresh = s.addClient();
      s.run(60);
      const truth = dumpStrings(fresh);
      expect(truth.size).toBe(server.size);
      for (const [netId, rec] of server) {
        const got = truth.get(netId)!;
        expect(Object.keys(got).sort()).toEqual(Object.keys(rec).sort());
        if (rec.Label) expect(got.Label).toEqual(rec.Label);
        if (rec.Badge) expect(got.Badge).toEqual(rec.Badge);
        if (rec.Body) expect(Math.abs((got.Body[0] as number) - (rec.Body[0] as number))).toBeLessThan(0.006);
      }
      expect(dumpStrings(a)).toEqual(truth);
      expect(dumpStrings(b)).toEqual(truth);
      expect(codes(a).filter((x) => x !== 'UnknownEntity')).toEqual([]);
    });
  }
});
