/**
 * Hostile catch-up input: a Resync when not resuming, one naming a tick the server never sent, a malformed one, one
 * listing more ids than allowed, and garbage Resync / Deltas bytes. Each is refused and counted, never thrown; the
 * resuming client still ends up right (through a snapshot), and a client fed a garbage Deltas batch asks for a resync.
 */
import { describe, expect, it } from 'vitest';
import { catchUpStatsOf, clientIdOf, type ServerCatchUpStats } from '../../src/index.ts';
import { getNetContext } from '../../src/context.ts';
import { createRandom } from '../../src/random.ts';
import { decodeCatchUpResync, encodeCatchUpResync, readCatchUpDespawns } from '../../src/replication/catch-up-wire.ts';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { encodeMessage } from '../../src/codec/message-frame.ts';
import { encodeBody } from '../../src/codec/msgpack-body.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { defineFixture, dump, type Peer, spawn, Stepper } from '../helpers/fixture.ts';
import { addResumableClient, cutAndResume, FAST_HEARTBEAT_MS, runFrames } from './catch-up-harness.ts';

function serverStats(s: Stepper): ServerCatchUpStats {
  const st = catchUpStatsOf(s.server.world);
  if (st.role !== 'server') throw new Error('server expected');
  return st;
}

async function setup(maxHave?: number) {
  const s = new Stepper({ seed: 9, server: () => ({ heartbeatMs: FAST_HEARTBEAT_MS, catchUp: { maxHave } }) });
  const b = s.addClient(undefined, undefined, { heartbeatMs: FAST_HEARTBEAT_MS });
  const a = addResumableClient(s.network, s.clock, defineFixture());
  const peerA: Peer = { ...a.fx, world: a.world, net: a.net, errors: a.errors };
  s.clients.push(peerA);
  const es = [0, 1, 2, 3, 4].map(() => spawn(s.server, [s.server.Pose]));
  let f = 0;
  const step = () =>
    s.step((p, isServer) => {
      if (isServer) p.Pose.px[es[0]] = (f++ % 100) / 8;
    });
  await runFrames(step, 40);
  return { s, a, b, peerA, step };
}

function clientCatchUp(world: object) {
  const ctx = getNetContext(world);
  if (ctx.role !== 'client') throw new Error('client expected');
  return ctx;
}

describe('catch-up against hostile input', () => {
  it('a Resync from a client that is not resuming is refused, counted, and answered with nothing', async () => {
    const { s, b, step } = await setup();
    const conn = clientCatchUp(b.world).session.connection!;
    const before = getNetContext(s.server.world).role === 'server' ? serverStats(s).catchUpSentBytes : 0;
    for (let i = 0; i < 50; i++) conn.sendReliable(encodeCatchUpResync(0, [], 0));
    await runFrames(step, 10);
    const st = serverStats(s);
    expect(st.unsolicited).toBe(50);
    expect(st.catchUps + st.tooOld + st.tooLarge).toBe(0);
    expect(st.catchUpSentBytes).toBe(before);
    expect(s.server.errors.filter((e) => /ResyncRefused/.test(String(e))).length).toBe(50);
  });

  it('a resuming client naming a tick in the future gets a snapshot, counted', async () => {
    const { s, a, b, peerA, step } = await setup();
    clientCatchUp(a.world).replicator.catchUp.lastSeq = 1e9;
    await cutAndResume(s.network, a, step, 20);
    await runFrames(step, 20);
    const st = serverStats(s);
    expect(st.futureLastSeq).toBe(1);
    expect(st.catchUps).toBe(0);
    expect(dump(peerA)).toEqual(dump(b));
  });

  it('a malformed Resync (lastSeq not a uint) gets a snapshot, counted', async () => {
    const { s, a, b, peerA, step } = await setup();
    clientCatchUp(a.world).replicator.catchUp.lastSeq = -5;
    await cutAndResume(s.network, a, step, 20);
    await runFrames(step, 20);
    expect(serverStats(s).malformed).toBe(1);
    expect(serverStats(s).catchUps).toBe(0);
    expect(dump(peerA)).toEqual(dump(b));
  });

  it('a Resync listing more ids than maxHave is refused before decoding them; the client gets a snapshot', async () => {
    const { s, a, b, peerA, step } = await setup(4);
    await cutAndResume(s.network, a, step, 20);
    await runFrames(step, 20);
    expect(serverStats(s).malformed).toBe(1);
    expect(dump(peerA)).toEqual(dump(b));
    // The bound itself: 4 ids pass, 5 do not; a count beyond the bytes is refused before allocating.
    expect(typeof decodeCatchUpResync(encodeCatchUpResync(3, [1, 2, 3, 4], 4), 4)).toBe('object');
    expect(decodeCatchUpResync(encodeCatchUpResync(3, [1, 2, 3, 4, 5], 5), 4)).toMatch(/at most 4/);
    const lying = encodeMessage(Tag.Resync, encodeBody({ lastSeq: 1, n: 1000, have: new Uint8Array(3) }));
    expect(decodeCatchUpResync(lying)).toMatch(/exceeds its bytes/);
    const repeated = encodeMessage(Tag.Resync, encodeBody({ lastSeq: 1, n: 2, have: new Uint8Array([5, 0]) }));
    expect(decodeCatchUpResync(repeated)).toMatch(/not ascending/);
  });

  it('random Resync and Deltas bytes never throw', () => {
    const rnd = createRandom(77);
    const r = new BitReader();
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(rnd.int(64));
      for (let k = 0; k < bytes.length; k++) bytes[k] = rnd.int(256);
      expect(() => decodeCatchUpResync(bytes)).not.toThrow();
      r.reset(bytes);
      expect(() => readCatchUpDespawns(r, out)).not.toThrow();
    }
  });

  it('a garbage Deltas batch on a client is dropped, counted, and answered with a resync request', async () => {
    const { s, b, step } = await setup();
    const ctx = clientCatchUp(b.world);
    const before = dump(b);
    // A well-framed single chunk whose body lies about its despawn count, then one with a bad entity.
    const bad1 = Uint8Array.from([Tag.Deltas & 0xff, Tag.Deltas >> 8, 1, 0, 1, 0, 5, 200, 1]);
    const bad2 = Uint8Array.from([Tag.Deltas & 0xff, Tag.Deltas >> 8, 2, 0, 1, 0, 5, 0, 3, 0]);
    const server = getNetContext(s.server.world);
    if (server.role !== 'server') throw new Error('server expected');
    const link = server.session.peers.get(clientIdOf(b.world))!.connection;
    link.sendReliable(bad1);
    link.sendReliable(bad2);
    await runFrames(step, 10);
    expect(ctx.replicator.catchUp.counters.invalid).toBe(2);
    expect(b.errors.filter((e) => /CatchUpInvalid/.test(String(e))).length).toBe(2);
    await runFrames(step, 30);
    expect(dump(b).size).toBe(before.size);
    expect(dump(b)).toEqual(dump(s.clients[1]));
  });
});
