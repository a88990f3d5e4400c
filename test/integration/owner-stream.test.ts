/** The owner stream is checked: gapless epochs (EpochGap) and a hash of what the server applied (HashMismatch). */
import { describe, expect, it } from 'vitest';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { getNetContext } from '../../src/context.ts';
import { clientIdOf, entityOfNetworkId, networkIdOf, setOwner, Tag } from '../../src/index.ts';
import { beginMessage } from '../../src/replication/wire-bodies.ts';
import { spawn, Stepper } from '../helpers/fixture.ts';

function serverCounters(s: Stepper) {
  const ctx = getNetContext(s.server.world);
  if (ctx.role !== 'server') throw new Error('server expected');
  return ctx.replicator.counters;
}

describe('owner stream checks', () => {
  it('a server that lost an owner write notices by hash and gets the owned state again', () => {
    const s = new Stepper({ seed: 41, sendRateHz: 30 });
    const a = s.addClient({ latencyMs: 10 });
    s.run(10);
    const hand = spawn(s.server, [s.server.Ints]);
    setOwner(s.server.world, hand, clientIdOf(a.world));
    s.run(20);
    const local = entityOfNetworkId(a.world, networkIdOf(s.server.world, hand));
    a.Ints.u16[local] = 500;
    s.run(30);
    expect(s.server.Ints.u16[hand]).toBe(500);
    // Corrupt the server's copy behind the owner's back (as a lost or mangled write would).
    s.server.Ints.u16[hand] = 1;
    s.run(120);
    expect(serverCounters(s).ownerHashMismatches).toBeGreaterThan(0);
    expect(s.server.errors.some((e) => (e as { code?: string }).code === 'HashMismatch')).toBe(true);
    expect(s.server.Ints.u16[hand]).toBe(500);
  });

  it('an owner hash that skips an epoch is an EpochGap: dropped, counted, resynced', () => {
    const s = new Stepper({ seed: 42 });
    const a = s.addClient();
    s.run(10);
    const ctx = getNetContext(a.world);
    if (ctx.role !== 'client') throw new Error('client expected');
    const w = new BitWriter();
    beginMessage(w, Tag.OwnerHash);
    w.writeVarUint(7); // epoch 7 where 0 is expected
    w.writeVarUint(1);
    w.writeU32(1);
    w.writeVarUint(0);
    w.writeU32(0);
    ctx.session.connection!.sendReliable(w.toBytes());
    s.run(10);
    expect(serverCounters(s).epochGaps).toBe(1);
    expect(s.server.errors.some((e) => (e as { code?: string }).code === 'EpochGap')).toBe(true);
  });
});
