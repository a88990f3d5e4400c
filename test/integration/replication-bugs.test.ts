/**
 * Regression tests for replication bugs found by a chaos run (issue 11, items 9-13 and the unresolved-reference
 * bound of item 4). Each of these failed before its fix.
 */
import { addComponent, removeComponent } from 'bitecs';
import { describe, expect, it } from 'vitest';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { getNetContext } from '../../src/context.ts';
import { clientIdOf, entityOfNetworkId, networkIdOf, setOwner, Tag } from '../../src/index.ts';
import { writeEntityBlock } from '../../src/replication/entity-block.ts';
import { ShadowStore } from '../../src/replication/shadow-store.ts';
import { beginMessage } from '../../src/replication/wire-bodies.ts';
import { dump, type Peer, spawn, Stepper } from '../helpers/fixture.ts';

function serverCtx(s: Stepper) {
  const ctx = getNetContext(s.server.world);
  if (ctx.role !== 'server') throw new Error('server expected');
  return ctx;
}

function clientCtx(p: Peer) {
  const ctx = getNetContext(p.world);
  if (ctx.role !== 'client') throw new Error('client expected');
  return ctx;
}

/** A Delta body written by the real entity-block writer: one entity, `fields` of component `comp` set. */
function forgedDelta(p: Peer, tick: number, netId: number, comp: string, fields: Record<number, number>): Uint8Array {
  const comps = p.protocol.components;
  const present = new Uint8Array(comps.length);
  const masks = new Uint32Array(comps.length);
  const shadow = new ShadowStore(comps, { toNet: () => 0, toLocal: () => 0 }, 1);
  const wire = shadow.wire;
  const c = comps.findIndex((x) => x.name === comp);
  present[c] = 1;
  for (const [f, v] of Object.entries(fields)) {
    masks[c] |= 1 << Number(f);
    wire[c][Number(f)][0] = v;
  }
  const w = new BitWriter();
  beginMessage(w, Tag.Delta);
  w.writeVarUint(tick);
  w.writeBits(0xffff, 16);
  w.writeVarUint(1);
  w.writeVarUint(netId);
  writeEntityBlock(w, comps, present, masks, shadow, 0);
  return w.toBytes();
}

const U16 = 2; // index of Ints.u16

describe('replication regressions', () => {
  it('bug 9: a reference to an entity that left interest is not redirected to the entity recycling its local id', () => {
    const hidden = new Set<number>();
    const s = new Stepper({
      seed: 9,
      server: () => ({ interest: { rateHz: 60, predicate: (_c: number, eid: number) => !hidden.has(eid) } }),
    });
    const c = s.addClient();
    s.run(10);
    const a = spawn(s.server, [s.server.Link]);
    const b = spawn(s.server, [s.server.Ints]);
    s.server.Link.target[a] = b;
    s.run(10);
    const netA = networkIdOf(s.server.world, a);
    const netB = networkIdOf(s.server.world, b);
    const bOnClient = entityOfNetworkId(c.world, netB);
    expect(dump(c).get(netA)!.Link).toEqual([netB]);
    // B leaves the client's interest, then C spawns there and takes B's recycled local id.
    hidden.add(b);
    s.run(10);
    expect(entityOfNetworkId(c.world, netB)).toBe(0);
    const cc = spawn(s.server, [s.server.Ints]);
    s.run(10);
    const netC = networkIdOf(s.server.world, cc);
    expect(entityOfNetworkId(c.world, netC)).toBe(bOnClient); // the precondition: the local id was recycled
    const localA = entityOfNetworkId(c.world, netA);
    expect(c.Link.target[localA]).not.toBe(bOnClient);
    // B comes back: A points at it again.
    hidden.delete(b);
    s.run(10);
    expect(dump(c).get(netA)!.Link).toEqual([netB]);
    expect(dump(c)).toEqual(dump(s.server));
  });

  it('bug 10: a new owner starts from the value the server set in the tick of the handover', () => {
    for (const loss of [0, 0.3]) {
      const s = new Stepper({ seed: 10 });
      const a = s.addClient({ latencyMs: 20, loss, duplicate: loss / 3 });
      s.run(60);
      const e = spawn(s.server, [s.server.Ints]);
      s.server.Ints.u16[e] = 1;
      s.run(120);
      const local = entityOfNetworkId(a.world, networkIdOf(s.server.world, e));
      expect(a.Ints.u16[local], `loss ${loss}`).toBe(1);
      s.server.Ints.u16[e] = 2;
      setOwner(s.server.world, e, clientIdOf(a.world));
      s.run(300);
      expect(a.Ints.u16[local]).toBe(2);
      expect(s.server.Ints.u16[e]).toBe(2);
    }
  });

  it('bug 11: loss recovery never resends fields of a component removed (and re-added) since', () => {
    const s = new Stepper({ seed: 11 });
    const a = s.addClient();
    const b = s.addClient();
    s.run(10);
    const e = spawn(s.server, [s.server.Ints]);
    setOwner(s.server.world, e, clientIdOf(a.world));
    s.run(10);
    const local = entityOfNetworkId(a.world, networkIdOf(s.server.world, e));
    // The owner's write is lost on the way up while the server removes the component.
    s.network.setConditions(a.link!, { up: { loss: 1 } });
    a.Ints.u16[local] = 5;
    removeComponent(s.server.world, e, s.server.Ints);
    s.step();
    s.network.setConditions(a.link!, { up: {}, down: {} });
    // The server re-adds it with 9; the announcement to the owner is lost and comes later by retransmission.
    addComponent(s.server.world, e, s.server.Ints);
    s.server.Ints.u16[e] = 9;
    s.network.setConditions(a.link!, { down: { loss: 1 } });
    s.step();
    s.network.setConditions(a.link!, { up: {}, down: {} });
    const seen: number[] = [];
    for (let i = 0; i < 200; i++) {
      s.step();
      seen.push(s.server.Ints.u16[e]);
    }
    expect(seen.filter((v) => v !== 9)).toEqual([]);
    const onB = entityOfNetworkId(b.world, networkIdOf(s.server.world, e));
    expect(b.Ints.u16[onB]).toBe(9);
    expect(a.Ints.u16[local]).toBe(9);
  });

  it('bug 12: -0 replicates after +0 (f32 and f64, both lanes of the raw scan) and back', () => {
    const s = new Stepper({ seed: 12 });
    const c = s.addClient();
    s.run(5);
    const eids = [0, 1, 2, 3].map(() => spawn(s.server, [s.server.Floats]));
    s.run(10);
    const locals = eids.map((e) => entityOfNetworkId(c.world, networkIdOf(s.server.world, e)));
    // One entity at a time, so a sign flip in one lane of the 64-bit raw compare happens next to an unchanged zero.
    for (const sign of [-0, 0, -0]) {
      for (let i = 0; i < eids.length; i++) {
        s.server.Floats.f32[eids[i]] = sign;
        s.server.Floats.f64[eids[i]] = sign;
        s.run(10);
        expect(Object.is(c.Floats.f32[locals[i]], sign), `f32 of entity ${eids[i]}`).toBe(true);
        expect(Object.is(c.Floats.f64[locals[i]], sign), `f64 of entity ${eids[i]}`).toBe(true);
      }
    }
  });

  it('bug 13: an owner Delta with a far-future tick is refused and counted, later writes still land', () => {
    const s = new Stepper({ seed: 13 });
    const a = s.addClient();
    s.run(10);
    const e = spawn(s.server, [s.server.Ints]);
    setOwner(s.server.world, e, clientIdOf(a.world));
    s.run(10);
    const netId = networkIdOf(s.server.world, e);
    const local = entityOfNetworkId(a.world, netId);
    a.Ints.u16[local] = 3;
    s.run(10);
    expect(s.server.Ints.u16[e]).toBe(3);
    clientCtx(a).session.connection!.sendUnreliable(forgedDelta(a, 2_000_000_000, netId, 'Ints', { [U16]: 77 }));
    s.run(5);
    expect(s.server.Ints.u16[e]).toBe(3);
    expect(serverCtx(s).replicator.counters.futureTicks).toBe(1);
    expect(s.server.errors.some((x) => (x as { code?: string }).code === 'DecodeError')).toBe(true);
    a.Ints.u16[local] = 500;
    s.run(10);
    expect(s.server.Ints.u16[e]).toBe(500);
  });

  it('bug 13: a server Delta with a far-future tick is refused and counted by the client', () => {
    const s = new Stepper({ seed: 14 });
    const c = s.addClient();
    s.run(10);
    const e = spawn(s.server, [s.server.Ints]);
    s.server.Ints.u16[e] = 3;
    s.run(10);
    const netId = networkIdOf(s.server.world, e);
    const peer = [...serverCtx(s).session.peers.values()][0];
    peer.connection.sendUnreliable(forgedDelta(s.server, 2_000_000_000, netId, 'Ints', { [U16]: 77 }));
    s.run(5);
    const local = entityOfNetworkId(c.world, netId);
    expect(c.Ints.u16[local]).toBe(3);
    expect(clientCtx(c).replicator.counters.futureTicks).toBe(1);
    s.server.Ints.u16[e] = 500;
    s.run(10);
    expect(c.Ints.u16[local]).toBe(500);
    // A long quiet period (ticks advance with time) does not make the next honest delta look far-future.
    s.run(2000);
    s.server.Ints.u16[e] = 501;
    s.run(10);
    expect(c.Ints.u16[local]).toBe(501);
    expect(clientCtx(c).replicator.counters.futureTicks).toBe(1);
  });

  it('item 4: unresolved references are one per field (dedupe) and capped in total, counted', () => {
    const hidden = new Set<number>();
    const s = new Stepper({
      seed: 4,
      server: () => ({ interest: { rateHz: 60, predicate: (_c: number, eid: number) => !hidden.has(eid) } }),
    });
    const c = s.addClient(undefined, undefined, { maxUnresolvedRefs: 8 });
    s.run(5);
    const targets = Array.from({ length: 40 }, () => spawn(s.server, [s.server.Ints]));
    for (const t of targets) hidden.add(t);
    const holders = Array.from({ length: 4 }, () => spawn(s.server, [s.server.Link]));
    // The same holders name ever new invisible targets: the old code kept one entry per update.
    for (let round = 0; round < 10; round++) {
      holders.forEach((h, i) => (s.server.Link.target[h] = targets[(round * 4 + i) % targets.length]));
      s.run(3);
    }
    const counters = clientCtx(c).replicator.counters;
    expect(counters.unresolvedRefs).toBe(4);
    expect(counters.droppedRefs).toBe(0);
    // Twelve more holders of invisible targets: the cap (8) is hit, the rest are refused and counted.
    for (let i = 0; i < 12; i++) s.server.Link.target[spawn(s.server, [s.server.Link])] = targets[i];
    s.run(10);
    expect(counters.unresolvedRefs).toBe(8);
    expect(counters.droppedRefs).toBeGreaterThanOrEqual(8);
    expect(c.errors.some((x) => (x as { code?: string }).code === 'Oversize')).toBe(true);
    // A target coming into view resolves what still names it.
    hidden.delete(targets[36]);
    hidden.delete(targets[37]);
    s.run(10);
    for (const h of holders.slice(0, 2)) {
      const local = entityOfNetworkId(c.world, networkIdOf(s.server.world, h));
      expect(networkIdOf(c.world, c.Link.target[local])).toBe(networkIdOf(s.server.world, s.server.Link.target[h]));
    }
  });
});
