/**
 * Attack family "non-finite floats": a client puts NaN or ±Infinity in f32/f64 fields it owns. The server refuses
 * each such component write at decode (nothing lands, nothing replicates to viewers), counts it, reports
 * `InvalidWrite`, and corrects the writer back to the server's value; finite writes keep flowing.
 */
import { describe, expect, it } from 'vitest';
import {
  clientIdOf,
  entityOfNetworkId,
  Grabbable,
  networkIdOf,
  ownerOf,
  setOwner,
  writeGateStatsOf,
} from '../../src/index.ts';
import type { NetError } from '../../src/errors.ts';
import { getNetContext } from '../../src/context.ts';
import { spawn, Stepper } from '../helpers/fixture.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { beginMessage } from '../../src/replication/wire-bodies.ts';
import { MAX_PENDING_CORRECTIONS } from '../../src/replication/owner-write-filter.ts';
import { encodeControl } from '../../src/codec/message-frame.ts';
import { createRoom, join, poseOf, run, sendRaw } from '../authority/authority-harness.ts';
import { VrStepper } from '../../harness/vr-stepper.ts';

function room(seed: number) {
  const s = new Stepper({ seed });
  const attacker = s.addClient();
  const viewer = s.addClient();
  s.run(20);
  const eid = spawn(s.server, [s.server.Floats, s.server.Pose]);
  s.server.Floats.f32[eid] = 1.5;
  s.server.Floats.f64[eid] = 2.5;
  setOwner(s.server.world, eid, clientIdOf(attacker.world));
  s.run(20);
  const netId = networkIdOf(s.server.world, eid);
  return {
    s,
    attacker,
    viewer,
    eid,
    a: entityOfNetworkId(attacker.world, netId),
    v: entityOfNetworkId(viewer.world, netId),
  };
}

describe('non-finite floats from a client', () => {
  for (const [name, bad] of [
    ['NaN', NaN],
    ['+Infinity', Infinity],
    ['-Infinity', -Infinity],
  ] as const) {
    it(`refuses ${name} in an owned f32 and f64 field, counts it and corrects the owner`, () => {
      const { s, attacker, viewer, eid, a, v } = room(11);
      const f = attacker.Floats;
      f.f32[a] = bad;
      expect(() => s.run(10)).not.toThrow();
      f.f64[a] = bad;
      s.run(10);
      for (const [store, e] of [
        [s.server.Floats, eid],
        [viewer.Floats, v],
        [attacker.Floats, a],
      ] as const) {
        expect(store.f32[e]).toBe(1.5);
        expect(store.f64[e]).toBe(2.5);
      }
      const stats = writeGateStatsOf(s.server.world);
      expect(stats.nonFinite).toBeGreaterThanOrEqual(2);
      expect(stats.refused).toBe(stats.nonFinite);
      expect(s.server.errors.map((e) => (e as NetError).code)).toContain('InvalidWrite');
      // Finite values still go through, and the attacker stays connected (refusals are not decode errors).
      f.f32[a] = 3;
      f.f64[a] = -4;
      s.run(10);
      expect(s.server.Floats.f32[eid]).toBe(3);
      expect(viewer.Floats.f64[v]).toBe(-4);
      const ctx = getNetContext(s.server.world);
      expect(ctx.role === 'server' && ctx.session.peer(clientIdOf(attacker.world))?.state).toBe('connected');
    });
  }

  it('a refused float does not take the rest of the entity down: other components of the Delta land', () => {
    const { s, attacker, viewer, eid, a, v } = room(12);
    attacker.Floats.f32[a] = NaN;
    attacker.Pose.px[a] = 7;
    s.run(10);
    expect(s.server.Floats.f32[eid]).toBe(1.5);
    expect(s.server.Pose.px[eid]).toBeCloseTo(7, 3);
    expect(viewer.Pose.px[v]).toBeCloseTo(7, 3);
  });

  it('bounds the corrections owed to one client: one Delta refusing more components than the queue holds', () => {
    const s = new Stepper({ seed: 13 });
    const attacker = s.addClient();
    const viewer = s.addClient();
    s.run(20);
    const count = MAX_PENDING_CORRECTIONS + 44;
    const eids: number[] = [];
    for (let i = 0; i < count; i++) {
      const eid = spawn(s.server, [s.server.Floats]);
      s.server.Floats.f32[eid] = 1;
      setOwner(s.server.world, eid, clientIdOf(attacker.world));
      eids.push(eid);
    }
    s.run(20);
    // One forged Delta (reliable lane, so it arrives whole) setting f32 = NaN on every one of them.
    const ids = eids.map((e) => networkIdOf(s.server.world, e)).sort((x, y) => x - y);
    const w = new BitWriter();
    beginMessage(w, Tag.Delta);
    w.writeVarUint(1_000_000);
    w.writeBits(0xffff, 16);
    w.writeVarUint(count);
    let prev = 0;
    for (const id of ids) {
      w.writeVarUint(id - prev);
      prev = id;
      for (const comp of attacker.protocol.components) w.writeBits(comp.name === 'Floats' ? 1 : 0, 1);
      w.writeBits(0, 1); // not all fields
      w.writeBits(0b001, 3); // f32 only
      w.writeF32(NaN);
    }
    const ctx = getNetContext(attacker.world);
    if (ctx.role !== 'client' || !ctx.session.connection) throw new Error('connected client expected');
    ctx.session.connection.sendReliable(w.toBytes());
    expect(() => s.run(20)).not.toThrow();
    const stats = writeGateStatsOf(s.server.world);
    expect(stats.nonFinite).toBe(count);
    expect(stats.droppedCorrections).toBe(count - MAX_PENDING_CORRECTIONS);
    for (const eid of eids) expect(s.server.Floats.f32[eid]).toBe(1);
    const seen = eids.map((e) => viewer.Floats.f32[entityOfNetworkId(viewer.world, networkIdOf(s.server.world, e))]);
    expect(seen.every((v) => v === 1)).toBe(true);
  });

  it('pose stream: NaN and infinite device poses never reach the server or viewers (the stream carries integers)', () => {
    const s = new VrStepper({ seed: 14 });
    const owner = s.addClient();
    const viewer = s.addClient();
    s.run(60);
    const avatar = s.spawnAvatar(owner);
    s.run(30);
    const head = s.local(owner, avatar.head);
    const bad = [NaN, Infinity, -Infinity];
    s.run(90, (peer) => {
      if (peer !== owner) return;
      const p = owner.components.HeadPose;
      p.px[head] = bad[Math.floor(s.clock.now() / 100) % 3];
      p.qw[head] = NaN;
    });
    const onViewer = s.local(viewer, avatar.head);
    for (const [store, e] of [
      [s.server.components.HeadPose, avatar.head],
      [viewer.components.HeadPose, onViewer],
    ] as const) {
      for (const k of ['px', 'py', 'pz', 'qx', 'qy', 'qz', 'qw'] as const)
        expect(Number.isFinite(store[k][e]), k).toBe(true);
    }
  });

  it('release: a pose with NaN or Infinity is a malformed release: nothing applied, the holder keeps the object', async () => {
    const { s } = createRoom({ seed: 15, authority: (fx) => ({ pose: poseOf(fx) }) });
    const a = join(s, 'participant:ann', (fx) => ({ pose: poseOf(fx) }));
    await run(s, 10);
    const box = spawn(s.server, [s.server.Pose, Grabbable]);
    s.server.Pose.px[box] = 1;
    await run(s, 10);
    const netId = networkIdOf(s.server.world, box);
    const granted = a.authority.requestOwnership(entityOfNetworkId(a.world, netId));
    await run(s, 10);
    expect(await granted).toBe(true);
    sendRaw(a, encodeControl(Tag.OwnershipRelease, { netId, pose: [NaN, 0, 0, 0, 0, 0, 1] }));
    sendRaw(a, encodeControl(Tag.OwnershipRelease, { netId, pose: [Infinity, 0, 0, 0, 0, 0, 1] }));
    await run(s, 10);
    expect(s.server.Pose.px[box]).toBeCloseTo(1, 3);
    expect(ownerOf(s.server.world, box)).toBe(clientIdOf(a.world));
    expect(s.server.errors.map((e) => (e as NetError).code)).toContain('DecodeError');
  });
});
