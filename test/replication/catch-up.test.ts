/**
 * Resume catch-up over the memory network: a client cut for a while resumes, sends Resync {lastSeq, have} and gets a
 * Deltas batch of only what changed (spawns, despawns, moves, component changes) instead of a snapshot, and ends
 * equal to a client that stayed; too far behind, or with the history gone, it gets a snapshot. Under loss too.
 */
import { addComponent, removeComponent, removeEntity } from 'bitecs';
import { describe, expect, it } from 'vitest';
import { catchUpStatsOf, type ServerCatchUpStats } from '../../src/index.ts';
import { getNetContext } from '../../src/context.ts';
import type { LinkConditions } from '../../src/transport/link-conditioner.ts';
import { defineFixture, dump, type Peer, spawn, Stepper } from '../helpers/fixture.ts';
import { addResumableClient, cutAndResume, FAST_HEARTBEAT_MS, runFrames } from './catch-up-harness.ts';
import type { CatchUpOptions } from '../../src/index.ts';

function serverStats(s: Stepper): ServerCatchUpStats {
  const st = catchUpStatsOf(s.server.world);
  if (st.role !== 'server') throw new Error('server expected');
  return st;
}

function serverSnapshots(s: Stepper): number {
  const ctx = getNetContext(s.server.world);
  if (ctx.role !== 'server') throw new Error('server expected');
  return ctx.replicator.counters.snapshots;
}

/** A room of 40 entities (half moving), a client that stays (B) and one that will be cut (A). */
async function room(catchUp: CatchUpOptions = {}, conditions?: LinkConditions) {
  const s = new Stepper({ seed: 7, server: () => ({ heartbeatMs: FAST_HEARTBEAT_MS, catchUp }) });
  const b = s.addClient(conditions, undefined, { heartbeatMs: FAST_HEARTBEAT_MS });
  const a = addResumableClient(s.network, s.clock, defineFixture(), conditions);
  const peerA: Peer = { ...a.fx, world: a.world, net: a.net, errors: a.errors };
  s.clients.push(peerA);
  const entities: number[] = [];
  for (let i = 0; i < 40; i++) entities.push(spawn(s.server, [s.server.Pose, s.server.Ints]));
  let frame = 0;
  const moving = { on: true };
  const game = (p: Peer, isServer: boolean) => {
    if (!isServer || !moving.on) return;
    frame++;
    for (let i = 0; i < 20; i++) p.Pose.px[entities[i]] = ((frame + i) % 400) / 8;
  };
  const step = () => s.step(game);
  await runFrames(step, 60);
  return { s, a, b, peerA, entities, step, moving };
}

describe('catch-up on resume', () => {
  it('a client back within the window gets a Deltas batch, not a snapshot, and equals a client that stayed', async () => {
    const { s, a, b, peerA, step, moving } = await room();
    expect(dump(peerA)).toEqual(dump(b));
    const snapshotsBefore = serverSnapshots(s);
    await cutAndResume(s.network, a, step, 20);
    await runFrames(step, 10);
    const st = serverStats(s);
    expect(st.catchUps).toBe(1);
    expect(st.tooOld + st.tooLarge + st.waitTimeouts + st.malformed + st.unsolicited).toBe(0);
    expect(serverSnapshots(s)).toBe(snapshotsBefore);
    // The 20 movers, not the 20 still ones.
    expect(st.catchUpEntities).toBe(20);
    moving.on = false;
    await runFrames(step, 30);
    expect(dump(peerA)).toEqual(dump(b));
    expect(dump(peerA).size).toBe(40);
    // Cheaper than the snapshot a fresh client gets of the same room.
    const ctx = getNetContext(s.server.world);
    if (ctx.role !== 'server') throw new Error('server expected');
    const before = ctx.replicator.counters.snapshotSentBytes;
    s.addClient();
    await runFrames(step, 5);
    const snapshotBytes = ctx.replicator.counters.snapshotSentBytes - before;
    expect(st.catchUpSentBytes).toBeLessThan(snapshotBytes * 0.75);
  });

  it('changes, despawns, spawns and component removals made while away arrive through the batch', async () => {
    const { s, a, b, peerA, entities, step, moving } = await room();
    const snapshotsBefore = serverSnapshots(s);
    let edited = false;
    await cutAndResume(
      s.network,
      a,
      () => {
        step();
        if (edited) return;
        edited = true;
        removeEntity(s.server.world, entities[39]);
        removeComponent(s.server.world, entities[38], s.server.Ints);
        addComponent(s.server.world, entities[37], s.server.Floats);
        s.server.Floats.f32[entities[37]] = 2.25;
        const born = spawn(s.server, [s.server.Pose]);
        s.server.Pose.py[born] = 3.5;
      },
      40,
    );
    moving.on = false;
    await runFrames(step, 30);
    const st = serverStats(s);
    expect(st.catchUps).toBe(1);
    expect(serverSnapshots(s)).toBe(snapshotsBefore);
    // Only what changed travelled: the 20 movers, the edited three, the newborn; the despawn as an id.
    const ca = catchUpStatsOf(a.world);
    expect(ca.role === 'client' && ca.batches).toBe(1);
    expect(ca.role === 'client' && ca.entities).toBeLessThanOrEqual(24);
    expect(ca.role === 'client' && ca.despawns).toBe(1);
    expect(dump(peerA)).toEqual(dump(b));
    expect(dump(peerA).size).toBe(40);
  });

  it('under 10% loss both ways the resumed client still converges through a batch', async () => {
    const lossy: LinkConditions = { latencyMs: 30, jitterMs: 10, loss: 0.1 };
    const { s, a, b, peerA, step, moving } = await room({}, lossy);
    await cutAndResume(s.network, a, step, 40);
    moving.on = false;
    await runFrames(step, 120);
    const st = serverStats(s);
    expect(st.catchUps).toBe(1);
    expect(dump(peerA)).toEqual(dump(b));
  });

  it('too far behind (older than the tick bound): a snapshot instead', async () => {
    const { s, a, b, peerA, step, moving } = await room({ maxTicks: 30 });
    const snapshotsBefore = serverSnapshots(s);
    await cutAndResume(s.network, a, step, 90);
    moving.on = false;
    await runFrames(step, 30);
    const st = serverStats(s);
    expect(st.catchUps).toBe(0);
    expect(st.tooOld).toBe(1);
    expect(st.history.droppedForTicks).toBeGreaterThan(0);
    expect(serverSnapshots(s)).toBe(snapshotsBefore + 1);
    expect(dump(peerA)).toEqual(dump(b));
  });

  it('history gone (the byte bound dropped records the client needs): a snapshot instead', async () => {
    // 64 records: the 20 movers fill it in a few ticks.
    const { s, a, b, peerA, step, moving } = await room({ maxBytes: 64 * 16 });
    await cutAndResume(s.network, a, step, 30);
    moving.on = false;
    await runFrames(step, 30);
    const st = serverStats(s);
    expect(st.history.records).toBeLessThanOrEqual(64);
    expect(st.history.droppedForBytes).toBeGreaterThan(0);
    expect(st.tooOld).toBe(1);
    expect(st.catchUps).toBe(0);
    expect(dump(peerA)).toEqual(dump(b));
  });

  it('a batch that would carry every entity is sent as a snapshot', async () => {
    const { s, a, b, peerA, entities, step, moving } = await room();
    await cutAndResume(
      s.network,
      a,
      () => {
        step();
        for (const e of entities) s.server.Ints.u32[e]++;
      },
      20,
    );
    moving.on = false;
    await runFrames(step, 30);
    expect(serverStats(s).tooLarge).toBe(1);
    expect(dump(peerA)).toEqual(dump(b));
  });

  it('a change the server never got to send before the cut (still pending) is in the batch though older than lastSeq', async () => {
    // 1 kbps: the unreliable Delta never fits, so changes stay pending; StateHashes (reliable) still advance lastSeq.
    const s = new Stepper({ seed: 3, server: () => ({ heartbeatMs: FAST_HEARTBEAT_MS, bandwidthKbps: 1 }) });
    const a = addResumableClient(s.network, s.clock, defineFixture());
    const peerA: Peer = { ...a.fx, world: a.world, net: a.net, errors: a.errors };
    s.clients.push(peerA);
    const es = [0, 1, 2, 3, 4, 5].map(() => spawn(s.server, [s.server.Pose]));
    const step = () => s.step();
    await runFrames(step, 30);
    expect(dump(peerA).size).toBe(6);
    s.server.Pose.px[es[2]] = 12.5;
    const ctx = getNetContext(s.server.world);
    if (ctx.role !== 'server') throw new Error('server expected');
    const changedAt = ctx.replicator.tick + 1;
    await runFrames(step, 150);
    const before = catchUpStatsOf(a.world);
    expect(before.role === 'client' && before.lastSeq).toBeGreaterThan(changedAt);
    const onA = () => [...dump(peerA).values()].map((r) => r.Pose[0]);
    expect(onA()).not.toContain(12.5);
    await cutAndResume(s.network, a, step, 20);
    await runFrames(step, 10);
    expect(serverStats(s).catchUps).toBe(1);
    expect(onA()).toContain(12.5);
  });

  it('a large batch is chunked (16 KiB raw, 2,048 despawns per chunk) and applied whole', async () => {
    const s = new Stepper({ seed: 11, server: () => ({ heartbeatMs: FAST_HEARTBEAT_MS }) });
    const b = s.addClient(undefined, undefined, { heartbeatMs: FAST_HEARTBEAT_MS });
    const a = addResumableClient(s.network, s.clock, defineFixture());
    const peerA: Peer = { ...a.fx, world: a.world, net: a.net, errors: a.errors };
    s.clients.push(peerA);
    const es: number[] = [];
    for (let i = 0; i < 3600; i++) es.push(spawn(s.server, [s.server.Pose, s.server.Ints]));
    const step = () => s.step();
    await runFrames(step, 120);
    expect(dump(peerA).size).toBe(3600);
    let edited = false;
    await cutAndResume(
      s.network,
      a,
      () => {
        step();
        if (edited) return;
        edited = true;
        // 2,100 destroyed (two despawn chunks), 1,400 changed (more than 16 KiB of entities), 100 untouched.
        for (let i = 0; i < 2100; i++) removeEntity(s.server.world, es[i]);
        for (let i = 2100; i < 3500; i++) s.server.Ints.u32[es[i]] = 100_000 + i;
      },
      20,
    );
    await runFrames(step, 60);
    const st = serverStats(s);
    expect(st.catchUps).toBe(1);
    expect(st.catchUpDespawns).toBe(2100);
    expect(st.catchUpEntities).toBe(1400);
    expect(st.catchUpChunks).toBeGreaterThanOrEqual(2);
    expect(st.catchUpRawBytes / st.catchUpChunks).toBeLessThanOrEqual(16 * 1024);
    const ca = catchUpStatsOf(a.world);
    expect(ca.role === 'client' && ca.despawns).toBe(2100);
    expect(dump(peerA).size).toBe(1500);
    expect(dump(peerA)).toEqual(dump(b));
  });
});
