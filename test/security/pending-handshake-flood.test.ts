/**
 * Attack: pending-handshake flood. Links that never say Hello used to be kept without a count cap for the 10 s
 * handshake timeout. Now at most `maxPendingHandshakes` (and `maxPendingPerSource` per remote address) wait, and
 * the oldest is dropped first.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPACITY } from '../../src/session/session-options.ts';
import type { Link } from '../../src/transport/transport.ts';
import { codes, expectConverged, honestRoom } from './honest-room.ts';

describe('attack: pending-handshake flood', () => {
  it('caps pending handshakes in total, oldest dropped first, and an honest client still joins', () => {
    const room = honestRoom();
    const { s } = room;
    const cap = DEFAULT_CAPACITY.maxPendingHandshakes;
    const links: Link[] = [];
    let maxPending = 0;
    for (let i = 0; i < 1000; i++) {
      links.push(s.network.connect());
      if (i % 50 === 49) {
        expect(() => s.step(room.game)).not.toThrow();
        maxPending = Math.max(maxPending, s.server.net.sessionStats()!.pendingHandshakes);
      }
    }
    s.step(room.game);
    const stats = s.server.net.sessionStats()!;
    expect(maxPending).toBeLessThanOrEqual(cap);
    expect(stats.pendingHandshakes).toBe(cap);
    expect(stats.pendingEvicted).toBe(1000 - cap);
    expect(codes(s.server)).toContain('Overloaded');
    // Oldest first: the first 744 links were closed, the newest 256 still wait.
    expect(links.slice(0, 1000 - cap).every((l) => !l.isOpen)).toBe(true);
    expect(links.slice(1000 - cap).every((l) => l.isOpen)).toBe(true);
    // A newcomer joins (it is the newest) and converges with the honest room.
    room.honest.push(s.addClient());
    expectConverged(room);
    // The flood ends by itself: the handshake timeout closes what is left.
    s.run(11 * 60);
    expect(s.server.net.sessionStats()!.pendingHandshakes).toBe(0);
  });

  it('caps pending handshakes per remote address where the transport gives one', () => {
    const room = honestRoom(1, { capacity: { maxPendingPerSource: 4 } });
    const { s } = room;
    const attacker: Link[] = [];
    for (let i = 0; i < 50; i++) attacker.push(s.network.connect({}, { remoteAddress: '203.0.113.9' }));
    const other = [s.network.connect({}, { remoteAddress: '198.51.100.1' }), s.network.connect()];
    s.step(room.game);
    const stats = s.server.net.sessionStats()!;
    expect(stats.pendingHandshakes).toBe(4 + other.length);
    expect(stats.pendingEvicted).toBe(46);
    expect(attacker.filter((l) => l.isOpen)).toEqual(attacker.slice(46));
    expect(other.every((l) => l.isOpen)).toBe(true);
    expectConverged(room);
  });
});
