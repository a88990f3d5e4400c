/** Two-way replication: owned writes flow client → server → other client; writes to others' entities are refused. */
import { query } from 'bitecs';
import { describe, expect, it } from 'vitest';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { getNetContext } from '../../src/context.ts';
import {
  clientIdOf,
  entityOfNetworkId,
  isOwnedLocally,
  Networked,
  networkIdOf,
  ownerOf,
  setOwner,
  Tag,
  Grabbable,
} from '../../src/index.ts';
import { beginMessage } from '../../src/replication/wire-bodies.ts';
import { spawn, Stepper } from '../helpers/fixture.ts';

describe('owned writes', () => {
  it('flow from the owner through the server to the other client', () => {
    const s = new Stepper({ seed: 11 });
    const a = s.addClient({ latencyMs: 25, jitterMs: 5, loss: 0.05 });
    const b = s.addClient({ latencyMs: 25, jitterMs: 5, loss: 0.05 });
    s.run(10);
    const hand = spawn(s.server, [s.server.Pose]);
    setOwner(s.server.world, hand, clientIdOf(a.world));
    s.run(20);
    const netId = networkIdOf(s.server.world, hand);
    const onA = entityOfNetworkId(a.world, netId);
    const onB = entityOfNetworkId(b.world, netId);
    expect(onA).toBeGreaterThan(0);
    expect(isOwnedLocally(a.world, onA)).toBe(true);
    expect(isOwnedLocally(b.world, onB)).toBe(false);
    expect(ownerOf(b.world, onB)).toBe(clientIdOf(a.world));
    // A moves its hand; the server and B follow.
    s.run(120, (p, isServer) => {
      if (!isServer && p === a) {
        p.Pose.px[onA] += 0.01;
        p.Pose.qy[onA] = Math.sin(p.Pose.px[onA]);
        p.Pose.qw[onA] = Math.cos(p.Pose.px[onA]);
      }
    });
    s.run(60);
    expect(a.Pose.px[onA]).toBeCloseTo(1.2, 3);
    expect(Math.abs(s.server.Pose.px[hand] - a.Pose.px[onA])).toBeLessThanOrEqual(0.0005);
    expect(Math.abs(b.Pose.px[onB] - a.Pose.px[onA])).toBeLessThanOrEqual(0.0005);
    expect(Math.abs(b.Pose.qy[onB] - a.Pose.qy[onA])).toBeLessThan(0.002);
    // Ownership back to the server: the server's writes win again, A follows.
    setOwner(s.server.world, hand, 0);
    s.run(10);
    expect(isOwnedLocally(a.world, onA)).toBe(false);
    s.run(30, (p, isServer) => {
      if (isServer) p.Pose.px[hand] = -3;
    });
    expect(a.Pose.px[onA]).toBeCloseTo(-3, 3);
    expect(b.Pose.px[onB]).toBeCloseTo(-3, 3);
  });

  it('a client that writes to an entity it does not own is refused with Forbidden, counted, never applied', () => {
    const s = new Stepper({ seed: 12 });
    const a = s.addClient();
    const b = s.addClient();
    s.run(10);
    const box = spawn(s.server, [s.server.Pose, Grabbable]);
    s.server.Pose.px[box] = 1;
    s.run(10);
    const netId = networkIdOf(s.server.world, box);
    // A forges an owner write for the server's box: a Delta with px = 50 m.
    const w = new BitWriter();
    beginMessage(w, Tag.Delta);
    w.writeVarUint(999); // tick
    w.writeBits(0xffff, 16); // depends on nothing
    w.writeVarUint(1); // one entity
    w.writeVarUint(netId);
    for (const comp of a.protocol.components) w.writeBits(comp.name === 'Pose' ? 1 : 0, 1);
    w.writeBits(0, 1); // not all fields
    w.writeBits(0b0001, 4); // px only
    w.writeBits(150_000, 18); // (50 - -100) / 0.001
    const ctx = getNetContext(a.world);
    if (ctx.role !== 'client') throw new Error('client expected');
    ctx.session.connection!.sendUnreliable(w.toBytes());
    s.run(10);
    expect(s.server.Pose.px[box]).toBe(1);
    const stats = s.server.net.stats().find((x) => x.clientId === clientIdOf(a.world))!;
    expect(stats.rejectedWrites).toBe(1);
    expect(s.server.errors.some((e) => (e as { code?: string }).code === 'Forbidden')).toBe(true);
    // The client hears about it (non-fatal) and B never sees the forged value.
    expect(a.errors.some((e) => (e as { code?: string }).code === 'Forbidden')).toBe(true);
    const onB = [...query(b.world, [Networked])].find((e) => networkIdOf(b.world, e) === netId)!;
    expect(b.Pose.px[onB]).toBeCloseTo(1, 3);
  });
});
