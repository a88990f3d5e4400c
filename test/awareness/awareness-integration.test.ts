/**
 * Awareness over the memory network with the link conditioner, on the deterministic stepper: latest-wins under
 * loss and reordering, discrete fields delivered reliably, records cleared on leave, filtered by scope, and the
 * current records handed to a late joiner.
 */
import { describe, expect, it } from 'vitest';
import {
  awarenessField,
  clientIdOf,
  createClientAwareness,
  createServerAwareness,
  field,
  setClientScope,
  setOwner,
  setViewEntity,
  type AwarenessRecord,
  type ClientAwareness,
  type LinkConditions,
} from '../../src/index.ts';
import { createWorld } from 'bitecs';
import { connectionStateOf, createNetworkPlugin, type ClientTransport, type Link } from '../../src/index.ts';
import { defineFixture, spawn, Stepper, type Peer } from '../helpers/fixture.ts';
import { flushMicrotasks } from '../session/session-harness.ts';
import { roomAwareness } from './schema-fixture.ts';

const HARSH: LinkConditions = {
  latencyMs: 40,
  jitterMs: 20,
  loss: 0.2,
  reorder: 0.3,
  reorderDelayMs: 60,
  duplicate: 0.1,
};

function room(seed = 1) {
  const s = new Stepper({ seed });
  const server = createServerAwareness(s.server.world, { schema: roomAwareness });
  const join = (conditions?: LinkConditions) => {
    const peer = s.addClient(conditions);
    return { peer, aw: createClientAwareness(peer.world, { schema: roomAwareness }) };
  };
  return { s, server, join };
}

const idOf = (p: Peer) => clientIdOf(p.world);

/** Records what `aw` saw of user `u` through its events. */
function watch(aw: ClientAwareness, u: () => number) {
  const seen: AwarenessRecord[] = [];
  const cleared: string[] = [];
  aw.events.on('changed', (id, r) => id === u() && seen.push(r));
  aw.events.on('cleared', (id, why) => id === u() && cleared.push(why));
  return { seen, cleared };
}

describe('awareness over the memory network', () => {
  it('continuous values are latest-wins under loss and reordering, and the resting value arrives exactly', () => {
    const { s, join } = room(7);
    const a = join(HARSH);
    const b = join(HARSH);
    s.run(60);
    const b_sees = watch(b.aw, () => idOf(a.peer));
    // A moves its cursor along x, one step per frame: every value B shows must be later than the one before.
    for (let i = 1; i <= 240; i++) s.step((p) => p === a.peer && a.aw.set({ cursor: [i / 100, 0, 0] }));
    s.run(60);
    const xs = b_sees.seen.map((r) => (r.cursor as number[])[0]);
    expect(xs.length).toBeGreaterThan(20);
    for (let i = 1; i < xs.length; i++) expect(xs[i]).toBeGreaterThan(xs[i - 1]);
    const [x, y, z] = b.aw.get(idOf(a.peer))?.cursor as number[];
    expect([x, y, z]).toEqual([expect.closeTo(2.4, 9), 0, 0]);
    // Reordering did deliver older motions late (dropped by the sequence check), and the rest copy went reliably.
    expect(b.aw.stats().motionStale).toBeGreaterThan(0);
    expect(a.aw.stats().restCopies).toBeGreaterThan(0);
  });

  it('a resting value whose unreliable copies were all lost still arrives, by its one reliable copy', () => {
    const { s, server, join } = room(4);
    const a = join();
    const b = join();
    s.run(30);
    // Up: A's motion is lost on the way to the server.
    a.aw.set({ cursor: [7, 7, 7] });
    s.network.cut(a.peer.link!);
    s.run(3);
    s.network.restore(a.peer.link!);
    s.run(30);
    expect(server.get(idOf(a.peer))?.cursor).toEqual([7, 7, 7]);
    expect(b.aw.get(idOf(a.peer))?.cursor).toEqual([7, 7, 7]);
    // Down: the server's relay to B is lost.
    s.network.cut(b.peer.link!);
    a.aw.set({ cursor: [8, 8, 8] });
    s.run(4);
    s.network.restore(b.peer.link!);
    expect(server.get(idOf(a.peer))?.cursor).toEqual([8, 8, 8]);
    expect(b.aw.get(idOf(a.peer))?.cursor).toEqual([7, 7, 7]);
    s.run(30);
    expect(b.aw.get(idOf(a.peer))?.cursor).toEqual([8, 8, 8]);
    expect(server.stats().restCopies).toBeGreaterThanOrEqual(2);
  });

  it('discrete fields arrive reliably and in order through heavy loss', () => {
    const { s, server, join } = room(3);
    const a = join(HARSH);
    const b = join(HARSH);
    s.run(60);
    const b_sees = watch(b.aw, () => idOf(a.peer));
    const tools = ['select', 'move', 'draw'];
    for (let i = 0; i < 30; i++) {
      a.aw.set({ tool: tools[i % 3], talking: i % 2 === 0, selection: [i, i + 1] });
      s.run(3);
    }
    s.run(120);
    const last = b.aw.get(idOf(a.peer));
    expect(last).toEqual({ tool: 'draw', talking: false, selection: [29, 30] });
    // Every selection A set reached B, in order (reliable lane: nothing lost, nothing reordered).
    const selections = b_sees.seen.map((r) => (r.selection as number[])[0]);
    expect(selections).toEqual([...Array(30).keys()]);
    expect(server.get(idOf(a.peer))?.tool).toBe('draw');
    expect(a.aw.get(idOf(a.peer))?.tool).toBe('draw');
  });

  it("a late joiner gets everyone's current awareness, and a user who leaves is cleared for the others", async () => {
    const { s, server, join } = room(5);
    const a = join({ latencyMs: 20 });
    const b = join({ latencyMs: 20 });
    s.run(30);
    a.aw.set({ tool: 'move', cursor: [1, 2, 3] });
    b.aw.set({ selection: [5], talking: true });
    s.run(30);
    const c = join({ latencyMs: 20 });
    s.run(20);
    expect(c.aw.get(idOf(a.peer))).toEqual({ tool: 'move', cursor: [1, 2, 3] });
    expect(c.aw.get(idOf(b.peer))).toEqual({ selection: [5], talking: true });
    expect(c.aw.users().sort()).toEqual([idOf(a.peer), idOf(b.peer)].sort());

    const aId = idOf(a.peer);
    const c_sees = watch(c.aw, () => aId);
    const b_sees = watch(b.aw, () => aId);
    let serverCleared = 0;
    server.events.on('cleared', (id, why) => id === aId && why === 'left' && serverCleared++);
    await a.peer.net.dispose();
    s.clients.splice(s.clients.indexOf(a.peer), 1);
    s.run(30);
    expect(c_sees.cleared).toEqual(['left']);
    expect(b_sees.cleared).toEqual(['left']);
    expect(c.aw.get(aId)).toBeUndefined();
    expect(server.get(aId)).toBeUndefined();
    expect(serverCleared).toBe(1);
    expect(server.users()).toEqual([idOf(b.peer)]);
  });

  it('goes only to clients that share a scope with the user; entering and leaving the scope snapshot and clear', () => {
    const { s, server, join } = room(9);
    const a = join({ latencyMs: 10 });
    const b = join({ latencyMs: 10 });
    const c = join({ latencyMs: 10 });
    s.run(20);
    setClientScope(s.server.world, idOf(a.peer), 'red', true);
    setClientScope(s.server.world, idOf(b.peer), 'red', true);
    setClientScope(s.server.world, idOf(c.peer), 'blue', true);
    s.run(20);
    a.aw.set({ tool: 'draw', cursor: [4, 5, 6] });
    s.run(30);
    expect(b.aw.get(idOf(a.peer))).toEqual({ tool: 'draw', cursor: [4, 5, 6] });
    expect(c.aw.get(idOf(a.peer))).toBeUndefined();
    expect(c.aw.stats().updatesApplied + c.aw.stats().motionApplied).toBe(0);
    expect(server.visibleTo(idOf(c.peer))).toEqual([]);

    setClientScope(s.server.world, idOf(c.peer), 'red', true);
    s.run(20);
    expect(c.aw.get(idOf(a.peer))).toEqual({ tool: 'draw', cursor: [4, 5, 6] });
    const c_sees = watch(c.aw, () => idOf(a.peer));
    setClientScope(s.server.world, idOf(c.peer), 'red', false);
    s.run(20);
    expect(c_sees.cleared).toEqual(['out-of-interest']);
    a.aw.set({ tool: 'select' });
    s.run(20);
    expect(c.aw.get(idOf(a.peer))).toBeUndefined();
    expect(b.aw.get(idOf(a.peer))?.tool).toBe('select');
  });

  it('a custom relevance predicate decides who sees whom', () => {
    const s = new Stepper({ seed: 2 });
    const ids: number[] = [];
    createServerAwareness(s.server.world, { schema: roomAwareness, relevant: (v, u) => v === ids[0] || u === ids[0] });
    const peers = [0, 1, 2].map(() => s.addClient({ latencyMs: 10 }));
    const aws = peers.map((p) => createClientAwareness(p.world, { schema: roomAwareness }));
    s.run(20);
    ids.push(...peers.map(idOf));
    s.run(20);
    aws.forEach((aw, i) => aw.set({ talking: i === 1 }));
    s.run(30);
    expect(aws[0].users().sort()).toEqual([ids[1], ids[2]].sort());
    expect(aws[1].users()).toEqual([ids[0]]);
    expect(aws[2].users()).toEqual([ids[0]]);
  });

  it('a client whose schema differs turns awareness off and reports AwarenessSchemaMismatch', () => {
    const { s, join } = room();
    const a = join();
    const other = s.addClient();
    const odd = createClientAwareness(other.world, {
      schema: { ...roomAwareness, mood: awarenessField.discrete(field.u8()) },
    });
    s.run(30);
    a.aw.set({ tool: 'move' });
    odd.set({ mood: 3 });
    s.run(30);
    expect(odd.stats().schemaMismatch).toBe(true);
    expect(other.errors.some((e) => /AwarenessSchemaMismatch/.test(e.message))).toBe(true);
    expect(odd.get(idOf(a.peer))).toBeUndefined();
    expect(odd.stats().setsSent).toBe(0);
  });

  it('refuses programmer mistakes at once and leaves the record as it was', () => {
    const { s, join } = room();
    const a = join();
    s.run(20);
    a.aw.set({ tool: 'move' });
    expect(() => a.aw.set({ tool: 'draw', nope: 1 })).toThrow(/Usage.*nope/);
    expect(() => a.aw.set({ selection: [1, 2, 3, 4, 5, 6, 7, 8, 9] })).toThrow(/Usage/);
    expect(() => a.aw.set({ cursor: [Number.NaN, 0, 0] })).toThrow(/Usage/);
    expect(a.aw.get(idOf(a.peer))).toEqual({ tool: 'move' });
    expect(() => createServerAwareness(a.peer.world, { schema: roomAwareness })).toThrow(/server world/);
    expect(() => createClientAwareness(s.server.world, { schema: roomAwareness })).toThrow(/client world/);
  });

  it("keeps a suspended user's record, and after resume both sides catch up on what the lost connection carried", async () => {
    const s = new Stepper({ seed: 12, server: () => ({ resumeWindowMs: 20_000 }) });
    const server = createServerAwareness(s.server.world, { schema: roomAwareness });
    const fx = defineFixture();
    const world = createWorld();
    const links: Link[] = [];
    const transport: ClientTransport = {
      connect: () => {
        const link = s.network.connect();
        links.push(link);
        return Promise.resolve(link);
      },
    };
    const net = createNetworkPlugin(world, {
      role: 'client',
      protocol: fx.protocol,
      transport,
      clock: s.clock,
      sendRateHz: 60,
      reconnect: { seed: 3 },
    });
    const a: Peer = { ...fx, world, net, errors: [] };
    s.clients.push(a);
    const aw = createClientAwareness(world, { schema: roomAwareness });
    const b = s.addClient();
    const bw = createClientAwareness(b.world, { schema: roomAwareness });
    const run = async (frames: number) => {
      for (let i = 0; i < frames; i++) {
        s.step();
        await flushMicrotasks();
      }
    };
    await run(30);
    aw.set({ tool: 'move' });
    bw.set({ talking: true });
    await run(20);
    const aId = idOf(a);
    expect(bw.get(aId)).toEqual({ tool: 'move' });
    const cleared: number[] = [];
    bw.events.on('cleared', (id) => cleared.push(id));

    s.network.cut(links[0]);
    aw.set({ tool: 'draw', cursor: [1, 1, 1] }); // sent on the connection that is being lost
    bw.set({ selection: [9] }); // relayed to A's lost connection
    const states: string[] = [];
    for (let i = 0; i < 600 && !(states.includes('reconnecting') && connectionStateOf(world) === 'connected'); i++) {
      await run(1);
      const st = connectionStateOf(world);
      if (states[states.length - 1] !== st) states.push(st);
    }
    expect(states).toEqual(['connected', 'reconnecting', 'connected']);
    expect(idOf(a)).toBe(aId);
    await run(30);
    expect(cleared).toEqual([]); // suspended is not gone
    expect(aw.get(idOf(b))).toEqual({ talking: true, selection: [9] });
    expect(bw.get(aId)).toEqual({ tool: 'draw', cursor: [1, 1, 1] });
    expect(server.get(aId)).toEqual({ tool: 'draw', cursor: [1, 1, 1] });
  });

  it("a client holds at most maxRecords others' records; more are refused and counted", () => {
    const { s, join } = room(6);
    const small = s.addClient();
    const aw = createClientAwareness(small.world, { schema: roomAwareness, maxRecords: 2 });
    const others = [join(), join(), join()];
    s.run(20);
    others.forEach((o, i) => o.aw.set({ selection: [i] }));
    s.run(20);
    expect(aw.users()).toHaveLength(2);
    expect(aw.stats().recordsRefused).toBeGreaterThan(0);
  });

  it("with the interest grid, a viewer sees a user's awareness while the user's head is in its interest", () => {
    // The fixture's Pose component is the grid's position; each client's view entity is its own head.
    const s = new Stepper({
      seed: 8,
      server: (fx) => ({
        interest: { grid: { cellSize: 5, radius: 10, position: { component: fx.Pose, x: 'px', y: 'py', z: 'pz' } } },
      }),
    });
    createServerAwareness(s.server.world, { schema: roomAwareness });
    const a = s.addClient();
    const b = s.addClient();
    const aw = createClientAwareness(a.world, { schema: roomAwareness });
    const bw = createClientAwareness(b.world, { schema: roomAwareness });
    s.run(20);
    const heads = [a, b].map((p) => {
      const eid = spawn(s.server, [s.server.Pose]);
      setOwner(s.server.world, eid, idOf(p));
      setViewEntity(s.server.world, idOf(p), eid);
      return eid;
    });
    s.server.Pose.px[heads[1]] = 50; // B far away
    s.run(30);
    aw.set({ tool: 'draw' });
    s.run(20);
    expect(bw.get(idOf(a))).toBeUndefined();
    s.server.Pose.px[heads[1]] = 3; // B walks over
    s.run(30);
    expect(bw.get(idOf(a))).toEqual({ tool: 'draw' });
    expect(aw.users()).toEqual([]); // B set nothing
  });
});
