/**
 * Resume with replication on top: a client whose link is cut mid-session reconnects through its transport,
 * presents its token and gets the same session back (id, role, owned entities), converges, and loses none of the
 * writes it made while cut. After the resume window its entities go back to the server.
 */
import { createWorld } from 'bitecs';
import { describe, expect, it } from 'vitest';
import {
  clientIdOf,
  connectionStateOf,
  createNetworkPlugin,
  entityOfNetworkId,
  isOwnedLocally,
  networkIdOf,
  ownerOf,
  presenceOf,
  setOwner,
} from '../../src/index.ts';
import { getNetContext } from '../../src/context.ts';
import type { NetError } from '../../src/errors.ts';
import type { ClientTransport, Link } from '../../src/transport/transport.ts';
import { defineFixture, dump, spawn, Stepper, type Peer } from '../helpers/fixture.ts';
import { flushMicrotasks } from './session-harness.ts';

/** A client plugin that connects through a transport of the stepper's network; `offline` makes connects fail. */
function addTransportClient(s: Stepper, auth: string) {
  const fx = defineFixture();
  const world = createWorld();
  const errors: NetError[] = [];
  const links: Link[] = [];
  const net = { offline: false };
  const transport: ClientTransport = {
    connect: () => {
      if (net.offline) return Promise.reject(new Error('network unreachable'));
      const link = s.network.connect();
      links.push(link);
      return Promise.resolve(link);
    },
  };
  const plugin = createNetworkPlugin(world, {
    role: 'client',
    protocol: fx.protocol,
    transport,
    auth,
    clock: s.clock,
    sendRateHz: 60,
    reconnect: { seed: 3 },
    onError: (e) => errors.push(e),
  });
  const peer: Peer = { ...fx, world, net: plugin, errors };
  s.clients.push(peer);
  return { peer, links, net, errors };
}

async function run(s: Stepper, frames: number, game?: (p: Peer, isServer: boolean) => void): Promise<void> {
  for (let i = 0; i < frames; i++) {
    s.step(game);
    await flushMicrotasks();
  }
}

function serverSession(s: Stepper) {
  const ctx = getNetContext(s.server.world);
  if (ctx.role !== 'server') throw new Error('server expected');
  return ctx.session;
}

function newStepper(seed: number, resumeWindowMs: number): Stepper {
  return new Stepper({
    seed,
    server: () => ({
      resumeWindowMs,
      authorize: (hello) => ({ role: hello.auth === 'a' ? 'admin' : 'participant', userId: hello.auth }),
    }),
  });
}

describe('resume', () => {
  it('a cut client comes back with the same id, role and entities, converges, and loses no owned writes', async () => {
    const s = newStepper(41, 20_000);
    const a = addTransportClient(s, 'a');
    const b = s.addClient();
    await run(s, 20);
    const idA = clientIdOf(a.peer.world);
    expect(idA).toBeGreaterThan(0);
    const hand = spawn(s.server, [s.server.Pose, s.server.Ints]);
    const box = spawn(s.server, [s.server.Pose]);
    setOwner(s.server.world, hand, idA);
    await run(s, 20);
    const netId = networkIdOf(s.server.world, hand);
    const onA = entityOfNetworkId(a.peer.world, netId);
    expect(isOwnedLocally(a.peer.world, onA)).toBe(true);

    // A moves its hand in 1/8 m steps (exact after quantization); the server moves the box.
    let step = 0;
    let writing = true;
    const game = (p: Peer, isServer: boolean) => {
      if (isServer) p.Pose.px[box] = (step % 300) / 8;
      else if (p === a.peer && writing) {
        p.Pose.px[onA] = (step % 400) / 8;
        p.Ints.u16[onA] = step;
      }
      step++;
    };
    await run(s, 30, game);
    s.network.cut(a.links[0]);
    // Writes during the cut: one more second of them, then A holds still.
    await run(s, 60, game);
    writing = false;
    const lastPx = a.peer.Pose.px[onA];
    const lastU16 = a.peer.Ints.u16[onA];
    expect(lastPx).not.toBe(s.server.Pose.px[hand]);
    // Silence is noticed after 3 s; the client reconnects and resumes.
    const states: string[] = [];
    for (
      let i = 0;
      i < 600 && !(states.includes('reconnecting') && connectionStateOf(a.peer.world) === 'connected');
      i++
    ) {
      await run(s, 1, game);
      const st = connectionStateOf(a.peer.world);
      if (states[states.length - 1] !== st) states.push(st);
    }
    expect(states).toEqual(['connected', 'reconnecting', 'connected']);
    expect(a.links.length).toBe(2);
    expect(clientIdOf(a.peer.world)).toBe(idA);
    const session = serverSession(s);
    const peer = session.peers.get(idA)!;
    expect(peer.role).toBe('admin');
    expect(peer.userId).toBe('a');
    expect(peer.counters.resumes).toBe(1);
    expect(ownerOf(s.server.world, hand)).toBe(idA);
    expect(isOwnedLocally(a.peer.world, onA)).toBe(true);
    await run(s, 60, game);
    // The writes made while cut arrived; everyone agrees with a client that never left and a fresh one.
    expect(s.server.Pose.px[hand]).toBe(lastPx);
    expect(s.server.Ints.u16[hand]).toBe(lastU16);
    const onB = entityOfNetworkId(b.world, netId);
    expect(b.Pose.px[onB]).toBe(lastPx);
    const fresh = s.addClient();
    await run(s, 60, game);
    expect(dump(a.peer)).toEqual(dump(b));
    expect(dump(fresh)).toEqual(dump(b));
    expect(dump(a.peer).size).toBe(2);
    // Presence: A is back, not suspended, with its first connectedAt.
    const seenByB = presenceOf(b.world).find((u) => u.clientId === idA)!;
    expect(seenByB).toMatchObject({ role: 'admin', userId: 'a', suspended: false, status: 'active' });
  });

  it('after the resume window the session ends and owned entities go back to the server', async () => {
    const s = newStepper(42, 5000);
    const a = addTransportClient(s, 'a');
    const b = s.addClient();
    await run(s, 20);
    const idA = clientIdOf(a.peer.world);
    const hand = spawn(s.server, [s.server.Pose]);
    setOwner(s.server.world, hand, idA);
    await run(s, 20);
    a.net.offline = true;
    s.network.cut(a.links[0]);
    // Suspended after ~3 s, still owning its hand; the session is kept for 5 s more.
    await run(s, 4 * 60);
    const session = serverSession(s);
    expect(session.suspended.has(idA)).toBe(true);
    expect(ownerOf(s.server.world, hand)).toBe(idA);
    expect(presenceOf(b.world).find((u) => u.clientId === idA)?.suspended).toBe(true);
    expect(connectionStateOf(a.peer.world)).toBe('reconnecting');
    await run(s, 5 * 60);
    expect(session.suspended.has(idA)).toBe(false);
    expect(ownerOf(s.server.world, hand)).toBe(0);
    const onB = entityOfNetworkId(b.world, networkIdOf(s.server.world, hand));
    expect(ownerOf(b.world, onB)).toBe(0);
    expect(presenceOf(b.world).map((u) => u.clientId)).toEqual([clientIdOf(b.world)]);
    // The client gave up once the window it was told about had passed, and stays down.
    expect(connectionStateOf(a.peer.world)).toBe('error');
    expect(a.errors.some((e) => e.fatal && /resume window/.test(e.message))).toBe(true);
    a.net.offline = false;
    await run(s, 120);
    expect(connectionStateOf(a.peer.world)).toBe('error');
    expect(a.links.length).toBe(1);
  });
});
