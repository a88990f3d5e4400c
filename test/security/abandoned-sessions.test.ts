/**
 * Attack: abandoned sessions. Each client that completes the handshake and drops its link is kept suspended for
 * the 60 s resume window; there used to be no count cap. Now at most `maxSuspendedSessions` are kept, the oldest
 * suspension is ended first, and a suspended session's closed connection lets go of its buffers.
 */
import { describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import { codes, expectConverged, honestRoom } from './honest-room.ts';
import { RawClient } from './raw-peer-helpers.ts';

describe('attack: abandoned sessions', () => {
  it('keeps at most maxSuspendedSessions, ending the oldest first; honest clients unaffected', () => {
    const cap = 8;
    const room = honestRoom(2, { capacity: { maxSuspendedSessions: cap } });
    const { s } = room;
    const ctx = getNetContext(s.server.world);
    if (ctx.role !== 'server') throw new Error('expected a server world');
    const raws: RawClient[] = [];
    for (let i = 0; i < cap + 5; i++)
      raws.push(new RawClient(s.network.connect(), s.clock, s.server.protocol.schemaHash));
    for (let f = 0; f < 10; f++) {
      s.step(room.game);
      for (const r of raws) r.step();
    }
    expect(raws.every((r) => r.welcomed)).toBe(true);
    const ids = raws.map((r) => (r.received.find((m) => m.tag === 1)!.body as { clientId: number }).clientId);
    // The attacker abandons them one by one (the link drops, as when a tab is killed).
    for (const r of raws) {
      r.link.close('abandoned');
      expect(() => s.step(room.game)).not.toThrow();
    }
    const stats = s.server.net.sessionStats()!;
    expect(ctx.session.suspended.size).toBe(cap);
    expect(stats.suspendedEvicted).toBe(5);
    expect(codes(s.server)).toContain('Overloaded');
    // Oldest first: the first five sessions are gone, the last eight are kept for a resume.
    expect(ids.slice(0, 5).map((id) => ctx.session.peer(id))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(ids.slice(5).every((id) => ctx.session.peer(id)?.state === 'suspended')).toBe(true);
    // What a suspended session holds: its closed connection keeps no reliable data.
    for (const peer of ctx.session.suspended.values()) {
      expect(peer.connection.reliablePendingBytes).toBe(0);
      expect(peer.connection.reliableBufferedBytes).toBe(0);
    }
    expect(s.server.net.stats().length).toBe(2);
    expectConverged(room);
  });
});
