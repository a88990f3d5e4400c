/**
 * Bad input never throws into the game loop: thousands of seeded random, truncated and mutated replication
 * messages into a client and a server. Truncated messages change nothing; forged owner writes from a client
 * that owns nothing change nothing; and afterwards both still converge on good traffic. Each test counts the
 * inputs that reached the replication decoders: a sender cut off early would leave most of them untested.
 */
import { describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import { clientIdOf, connectionStateOf, createRandom, Tag } from '../../src/index.ts';
import { tap } from '../helpers/decoder-tap.ts';
import { dump, spawn, Stepper, type Peer } from '../helpers/fixture.ts';

function serverPeerConnection(s: Stepper, clientIndex: number) {
  const ctx = getNetContext(s.server.world);
  if (ctx.role !== 'server') throw new Error('server expected');
  return [...ctx.session.peers.values()][clientIndex].connection;
}

function clientConnection(p: Peer) {
  const ctx = getNetContext(p.world);
  if (ctx.role !== 'client') throw new Error('client expected');
  return ctx.session.connection!;
}

/** Sends unreliably, flushing first when the packet being built has no room left (so nothing is dropped here). */
function sendUnreliable(conn: ReturnType<typeof clientConnection>, m: Uint8Array): void {
  if (conn.sendUnreliable(m)) return;
  conn.flush();
  if (!conn.sendUnreliable(m)) throw new Error('message does not fit an empty packet');
}

function populate(s: Stepper): void {
  const rnd = createRandom(77);
  for (let i = 0; i < 40; i++) {
    const eid = spawn(
      s.server,
      s.server.stores.filter(() => rnd.next() < 0.7),
    );
    s.server.Pose.px[eid] = rnd.range(-50, 50);
    s.server.Ints.u16[eid] = rnd.int(65536);
    s.server.Link.target[eid] = rnd.int(eid);
  }
}

describe('replication decoders under bad input', () => {
  it('a client drops truncated messages without a change, survives mutated and random ones, and recovers', () => {
    const s = new Stepper({ seed: 21 });
    const victim = s.addClient();
    // Record real server → client traffic to mutate.
    const samples: Uint8Array[] = [];
    s.run(5);
    const conn = serverPeerConnection(s, 0);
    const reliable = conn.sendReliable.bind(conn);
    const unreliable = conn.sendUnreliable.bind(conn);
    conn.sendReliable = (m) => (samples.push(m.slice()), reliable(m));
    conn.sendUnreliable = (m) => (samples.push(m.slice()), unreliable(m));
    populate(s);
    s.run(60, (p, isServer) => {
      if (isServer) for (let e = 1; e < 40; e++) p.Pose.px[e] += 0.01;
    });
    conn.sendReliable = reliable;
    conn.sendUnreliable = unreliable;
    // The client was granted `ackedbase2`: the server's unreliable Deltas are BaselineDeltas.
    expect(samples.some((m) => (m[0] | (m[1] << 8)) === Tag.BaselineDelta)).toBe(true);
    expect(samples.some((m) => (m[0] | (m[1] << 8)) === Tag.Spawn)).toBe(true);
    s.run(30);
    const victimCtx = getNetContext(victim.world);
    if (victimCtx.role !== 'client') throw new Error('client expected');
    const reached = tap(victimCtx.replicator, 'onMessage', (args) => args[0] as number);
    const sentByTag = new Map<number, number>();
    const note = (m: Uint8Array) => {
      const tag = m[0] | (m[1] << 8);
      sentByTag.set(tag, (sentByTag.get(tag) ?? 0) + 1);
    };

    // 1. Truncations of every sample: dropped, reported, no state change.
    const before = dump(victim);
    const errorsBefore = victim.errors.length;
    let truncated = 0;
    for (const m of samples) {
      const tag = m[0] | (m[1] << 8);
      if (tag === Tag.Welcome || tag === Tag.Snapshot) continue;
      for (const cut of [3, Math.floor(m.length / 2), m.length - 1]) {
        if (cut < 3 || cut >= m.length) continue;
        conn.sendReliable(m.subarray(0, cut));
        note(m);
        truncated++;
      }
      s.step();
    }
    s.run(20);
    expect(truncated).toBeGreaterThan(100);
    expect(dump(victim)).toEqual(before);
    expect(victim.errors.length).toBeGreaterThan(errorsBefore);

    // 2. Mutations and random messages: never throw.
    const rnd = createRandom(5150);
    for (let i = 0; i < 4000; i++) {
      const base = samples[rnd.int(samples.length)];
      let m: Uint8Array;
      if (i % 4 === 0) {
        m = new Uint8Array(2 + rnd.int(64));
        for (let k = 0; k < m.length; k++) m[k] = rnd.int(256);
        const tags = [
          Tag.Delta,
          Tag.BaselineDelta,
          Tag.Spawn,
          Tag.Despawn,
          Tag.ComponentAdd,
          Tag.ComponentRemove,
          Tag.OwnershipGrant,
          Tag.Snapshot,
        ];
        const t = tags[rnd.int(tags.length)];
        m[0] = t & 0xff;
        m[1] = t >> 8;
      } else {
        m = base.slice();
        const flips = 1 + rnd.int(4);
        for (let k = 0; k < flips; k++) m[2 + rnd.int(Math.max(1, m.length - 2))] ^= 1 << rnd.int(8);
      }
      if (rnd.next() < 0.5) sendUnreliable(conn, m.subarray(0, Math.min(m.length, 1000)));
      else conn.sendReliable(m);
      note(m);
      if (i % 20 === 0) expect(() => s.step()).not.toThrow();
    }
    s.run(30);
    // Every input reached the client's decoders (the server's own traffic adds StateHashes and the like).
    expect([...sentByTag.values()].reduce((a, b) => a + b, 0)).toBe(truncated + 4000);
    const decoders = [
      Tag.Delta,
      Tag.BaselineDelta,
      Tag.Spawn,
      Tag.Despawn,
      Tag.ComponentAdd,
      Tag.ComponentRemove,
      Tag.OwnershipGrant,
      Tag.Snapshot,
      Tag.StateHash,
    ];
    let fed = 0;
    for (const tag of decoders) {
      const n = sentByTag.get(tag) ?? 0;
      fed += n;
      expect(reached.get(tag), `tag ${tag}`).toBeGreaterThanOrEqual(n);
    }
    expect(fed).toBeGreaterThan(3000);

    // 3. Recovery: a fresh snapshot repairs whatever the valid-looking mutations did.
    const ctx = getNetContext(s.server.world);
    if (ctx.role === 'server') for (const p of ctx.replicator.peers.values()) ctx.replicator.sendSnapshot(p);
    s.run(60);
    const fresh = s.addClient();
    s.run(60);
    expect(dump(victim)).toEqual(dump(fresh));
  });

  it('a server ignores forged and garbled owner writes from a client that owns nothing', () => {
    // Limits raised for the test: the session's decode-error limit would cut the attacker off after ~75 messages.
    const s = new Stepper({ seed: 22, server: () => ({ rateLimits: false }) });
    let attacker = s.addClient();
    const bystander = s.addClient();
    s.run(5);
    populate(s);
    s.run(30);
    const serverBefore = dump(s.server);
    const bystanderBefore = dump(bystander);
    let conn = clientConnection(attacker);
    const serverCtx = getNetContext(s.server.world);
    if (serverCtx.role !== 'server') throw new Error('server expected');
    const reached = tap(serverCtx.replicator, 'onMessage', (args) => args[1] as number);
    const rnd = createRandom(99);
    let sentDeltas = 0;
    let attackers = 1;
    for (let i = 0; i < 5000; i++) {
      // A random tag may still end the session (Goodbye): a fresh attacker takes over.
      if (!conn.isOpen || connectionStateOf(attacker.world) !== 'connected') {
        attacker = s.addClient();
        attackers++;
        s.run(10);
        conn = clientConnection(attacker);
      }
      const m = new Uint8Array(2 + rnd.int(200));
      for (let k = 2; k < m.length; k++) m[k] = rnd.int(256);
      const tag = i % 3 === 0 ? rnd.int(8000) : Tag.Delta;
      m[0] = tag & 0xff;
      m[1] = tag >> 8;
      if (i % 2) conn.sendReliable(m);
      else sendUnreliable(conn, m.subarray(0, 900));
      if (tag === Tag.Delta) sentDeltas++;
      if (i % 25 === 0) expect(() => s.step()).not.toThrow();
    }
    s.run(30);
    // The owner-write decoder saw every forged Delta (before, the attacker was cut off after 75 messages).
    expect(sentDeltas).toBeGreaterThan(3000);
    expect(reached.get(Tag.Delta)).toBe(sentDeltas);
    expect(attackers).toBeLessThan(10);
    expect(dump(s.server)).toEqual(serverBefore);
    expect(dump(bystander)).toEqual(bystanderBefore);
    // The bystander is still served (the attacker may have been disconnected as a repeat offender).
    const bystanderId = getNetContext(bystander.world).role === 'client' ? clientIdOf(bystander.world) : 0;
    expect(s.server.net.stats().some((x) => x.clientId === bystanderId)).toBe(true);
  });
});
