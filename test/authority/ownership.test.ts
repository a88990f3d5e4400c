/** Ownership transfer: simultaneous grabs, Forbidden writes, release and re-grab, holding, resume and timeout. */
import { describe, expect, it } from 'vitest';
import {
  clientIdOf,
  compareStamps,
  connectionStateOf,
  entityOfNetworkId,
  holdSystem,
  isOwnedLocally,
  networkIdOf,
  ownerOf,
  Grabbable,
} from '../../src/index.ts';
import type { NetError } from '../../src/errors.ts';
import { spawn, type Stepper } from '../helpers/fixture.ts';
import { createRoom, forgeDelta, join, peerCounters, poseOf, type RoomClient, run } from './authority-harness.ts';

function twoGrabbers(seed: number, policy: 'refuse' | 'queue' = 'refuse') {
  const room = createRoom({ seed, authority: (fx) => ({ pose: poseOf(fx), ownershipPolicy: policy }) });
  const a = join(room.s, 'participant:ann', (fx) => ({ pose: poseOf(fx) }));
  const b = join(room.s, 'participant:bob', (fx) => ({ pose: poseOf(fx) }));
  return { ...room, a, b };
}

function owners(s: Stepper, box: number, clients: RoomClient[]): number[] {
  const netId = networkIdOf(s.server.world, box);
  return [ownerOf(s.server.world, box), ...clients.map((c) => ownerOf(c.world, entityOfNetworkId(c.world, netId)))];
}

describe('ownership', () => {
  it('two clients grab the same object in the same tick: every peer agrees on the Lamport winner', async () => {
    const { s, authority, a, b } = twoGrabbers(21);
    await run(s, 10);
    const box = spawn(s.server, [s.server.Pose, Grabbable]);
    s.server.Pose.px[box] = 1;
    await run(s, 10);
    const netId = networkIdOf(s.server.world, box);
    const onA = entityOfNetworkId(a.world, netId);
    const onB = entityOfNetworkId(b.world, netId);
    const ida = clientIdOf(a.world);
    const idb = clientIdOf(b.world);
    const denied: string[] = [];
    b.authority.events.on('denied', (_eid, reason) => denied.push(reason));

    // Round 1: equal Lamport counters, so the client id breaks the tie (the lower one wins).
    const grabA = a.authority.requestOwnership(onA);
    const grabB = b.authority.requestOwnership(onB);
    expect(a.authority.lamport.counter).toBe(b.authority.lamport.counter);
    await run(s, 10);
    const first = compareStamps(1, ida, 1, idb) < 0 ? ida : idb;
    expect(first).toBe(ida);
    expect([await grabA, await grabB]).toEqual([true, false]);
    expect(owners(s, box, [a, b])).toEqual([ida, ida, ida]);
    expect(denied).toEqual(['refused']);
    expect([authority.authoritySeqOf(box), a.authority.authoritySeqOf(onA), b.authority.authoritySeqOf(onB)]).toEqual([
      1, 1, 1,
    ]);

    // The loser's writes are refused with Forbidden, counted, never applied.
    const before = peerCounters(s, idb).rejectedWrites;
    forgeDelta(b, netId, 50);
    await run(s, 5);
    expect(peerCounters(s, idb).rejectedWrites).toBe(before + 1);
    expect(s.server.Pose.px[box]).toBeCloseTo(1, 3);
    expect(b.errors.some((e) => (e as NetError).code === 'Forbidden')).toBe(true);

    // Release: back to the server everywhere.
    a.authority.release(onA);
    await run(s, 10);
    expect(owners(s, box, [a, b])).toEqual([0, 0, 0]);

    // Round 2: A's clock is ahead, so B's request has the smaller stamp and wins although its id is higher.
    a.authority.lamport.counter += 10;
    const again = [a.authority.requestOwnership(onA), b.authority.requestOwnership(onB)];
    await run(s, 10);
    expect(await Promise.all(again)).toEqual([false, true]);
    expect(owners(s, box, [a, b])).toEqual([idb, idb, idb]);
    expect([authority.authoritySeqOf(box), a.authority.authoritySeqOf(onA), b.authority.authoritySeqOf(onB)]).toEqual([
      3, 3, 3,
    ]);
    // Now A is the loser: its writes are the forbidden ones.
    const rejectedA = peerCounters(s, ida).rejectedWrites;
    forgeDelta(a, netId, -40);
    await run(s, 5);
    expect(peerCounters(s, ida).rejectedWrites).toBe(rejectedA + 1);
    expect(s.server.Pose.px[box]).not.toBeCloseTo(-40, 1);
  });

  it('emits gained, lost and changed on both sides', async () => {
    const { s, authority, a, b } = twoGrabbers(22);
    await run(s, 10);
    const box = spawn(s.server, [s.server.Pose, Grabbable]);
    await run(s, 10);
    const onA = entityOfNetworkId(a.world, networkIdOf(s.server.world, box));
    const log: string[] = [];
    authority.events.on('gained', () => log.push('server gained'));
    authority.events.on('lost', () => log.push('server lost'));
    authority.events.on('ownerChanged', (_e, owner, prev, seq) => log.push(`server ${prev}->${owner} #${seq}`));
    a.authority.events.on('gained', () => log.push('a gained'));
    a.authority.events.on('lost', () => log.push('a lost'));
    b.authority.events.on('ownerChanged', (_e, owner, prev, seq) => log.push(`b sees ${prev}->${owner} #${seq}`));
    const ida = clientIdOf(a.world);
    const grab = a.authority.requestOwnership(onA);
    await run(s, 10);
    expect(await grab).toBe(true);
    a.authority.release(onA);
    await run(s, 10);
    expect(log).toEqual([
      `server 0->${ida} #1`,
      'server lost',
      'a gained',
      `b sees 0->${ida} #1`,
      `server ${ida}->0 #2`,
      'server gained',
      'a lost',
      `b sees ${ida}->0 #2`,
    ]);
  });

  it('queues a request behind the holder and hands over on release', async () => {
    const { s, authority, a, b } = twoGrabbers(23, 'queue');
    await run(s, 10);
    const box = spawn(s.server, [s.server.Pose, Grabbable]);
    await run(s, 10);
    const netId = networkIdOf(s.server.world, box);
    expect(
      await Promise.all([a.authority.requestOwnership(entityOfNetworkId(a.world, netId)), settleLater(s)]),
    ).toEqual([true, undefined]);
    const states: string[] = [];
    b.authority.events.on('denied', (_e, reason) => states.push(reason));
    const grabB = b.authority.requestOwnership(entityOfNetworkId(b.world, netId));
    await run(s, 10);
    expect(states).toEqual(['queued']);
    expect(authority.queueOf(box)).toEqual([clientIdOf(b.world)]);
    a.authority.release(entityOfNetworkId(a.world, netId));
    await run(s, 10);
    expect(await grabB).toBe(true);
    expect(owners(s, box, [a, b])).toEqual(Array(3).fill(clientIdOf(b.world)));
  });

  it('a held object follows its holder’s hand and lands where it was let go', async () => {
    const { s, authority, a, b } = twoGrabbers(24);
    await run(s, 10);
    const ida = clientIdOf(a.world);
    const hand = spawn(s.server, [s.server.Pose]);
    const box = spawn(s.server, [s.server.Pose, Grabbable]);
    s.server.Pose.px[box] = 0.3; // 30 cm to the right of the hand
    await run(s, 5);
    authority.grant(hand, ida);
    await run(s, 10);
    const handA = entityOfNetworkId(a.world, networkIdOf(s.server.world, hand));
    const boxA = entityOfNetworkId(a.world, networkIdOf(s.server.world, box));
    const boxB = entityOfNetworkId(b.world, networkIdOf(s.server.world, box));
    expect(isOwnedLocally(a.world, handA)).toBe(true);
    expect(await Promise.all([a.authority.requestOwnership(boxA, { hand: handA }), settleLater(s)])).toEqual([
      true,
      undefined,
    ]);
    expect(a.authority.isHeld(boxA)).toBe(true);
    // The hand moves up 1 m and turns 90 degrees about y: the box keeps its offset in the hand's frame.
    const turn = Math.PI / 2;
    await run(s, 60, (p, isServer) => {
      if (isServer || p !== a) return;
      a.Pose.py[handA] = Math.min(1, a.Pose.py[handA] + 0.05);
      a.Pose.qy[handA] = Math.sin(turn / 2);
      a.Pose.qw[handA] = Math.cos(turn / 2);
      holdSystem(a.world);
    });
    // Rotating (0.3, 0, 0) by 90 degrees about y gives (0, 0, -0.3).
    for (const [eid, store] of [
      [boxA, a.Pose],
      [box, s.server.Pose],
      [boxB, b.Pose],
    ] as const) {
      expect(store.px[eid], 'x').toBeCloseTo(0, 2);
      expect(store.py[eid], 'y').toBeCloseTo(1, 2);
      expect(store.pz[eid], 'z').toBeCloseTo(-0.3, 2);
      expect(Math.abs(store.qy[eid])).toBeCloseTo(Math.sin(turn / 2), 2);
    }
    // Release mid-air: the server takes the object back exactly where it was let go.
    a.Pose.pz[boxA] = -0.5;
    a.authority.release(boxA);
    await run(s, 10);
    expect(a.authority.isHeld(boxA)).toBe(false);
    expect(ownerOf(s.server.world, box)).toBe(0);
    expect(s.server.Pose.pz[box]).toBeCloseTo(-0.5, 3);
    expect(b.Pose.pz[boxB]).toBeCloseTo(-0.5, 3);
  });

  it('an owner’s disconnect and resume keep its ownership; a timeout returns it to the server', async () => {
    const { s, authority, a, b } = twoGrabbers(25);
    await run(s, 10);
    const box = spawn(s.server, [s.server.Pose, Grabbable]);
    await run(s, 10);
    const netId = networkIdOf(s.server.world, box);
    const ida = clientIdOf(a.world);
    expect(
      await Promise.all([a.authority.requestOwnership(entityOfNetworkId(a.world, netId)), settleLater(s)]),
    ).toEqual([true, undefined]);
    // Cut A's link: the server suspends it, A reconnects and resumes within the window.
    s.network.cut(a.links[0]);
    await run(s, 60 * 5);
    expect(a.links.length).toBeGreaterThan(1);
    expect(connectionStateOf(a.world)).toBe('connected');
    expect(clientIdOf(a.world)).toBe(ida);
    expect(owners(s, box, [a, b])).toEqual([ida, ida, ida]);
    expect(isOwnedLocally(a.world, entityOfNetworkId(a.world, netId))).toBe(true);
    expect(authority.authoritySeqOf(box)).toBe(1);
    // Cut again and keep A offline past the resume window: the object goes back to the server.
    const regained: number[] = [];
    authority.events.on('gained', (eid) => regained.push(eid));
    a.offline.value = true;
    s.network.cut(a.links[a.links.length - 1]);
    await run(s, 60 * 4);
    expect(ownerOf(s.server.world, box)).toBe(ida); // suspended: still held within the window
    await run(s, 60 * 6);
    expect(regained).toEqual([box]);
    expect(ownerOf(s.server.world, box)).toBe(0);
    expect(ownerOf(b.world, entityOfNetworkId(b.world, netId))).toBe(0);
  });
});

/** Lets the stepper run while a request resolves (the promise is awaited together with this). */
async function settleLater(s: Stepper): Promise<undefined> {
  await run(s, 10);
  return undefined;
}
