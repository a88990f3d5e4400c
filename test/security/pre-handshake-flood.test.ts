/**
 * Attack: memory before the handshake. One 1,040-byte packet claiming an 8,192-fragment reliable message used to
 * make the receiver allocate 8 MiB at once (the next-in-order message was exempt from the buffer limit); 200 such
 * links pinned 1.6 GB for the 10 s handshake timeout. Now a link that has not been welcomed may send only a
 * Hello-sized message, fragments are held as they arrive, and every byte held counts against the buffer limit.
 */
import { describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection/connection.ts';
import { ReliableReceiver } from '../../src/connection/reliable-receiver.ts';
import { createManualClock } from '../../src/clock.ts';
import { createMemoryNetwork } from '../../src/transport/memory-transport.ts';
import { MAX_HELLO_BYTES } from '../../src/session/session-options.ts';
import type { Link } from '../../src/transport/transport.ts';
import { dump, spawn, Stepper } from '../helpers/fixture.ts';
import { fragmentClaim, RawClient } from './raw-peer-helpers.ts';

const ATTACK_LINKS = 200;
const CLAIMED_FRAGMENTS = 8192;

function honestRoom() {
  const s = new Stepper();
  const a = s.addClient();
  const b = s.addClient();
  const eid = spawn(s.server, [s.server.Ints]);
  let t = 0;
  const game = (peer: typeof s.server, isServer: boolean) => {
    if (isServer) s.server.Ints.u16[eid] = t++;
  };
  s.run(30, game);
  return { s, a, b, game };
}

/** Honest clients converge: keep moving for a while, stop, and compare every replicated value with the server. */
function expectConverged(s: Stepper, game: (peer: Stepper['server'], isServer: boolean) => void): void {
  s.run(30, game);
  s.run(30);
  for (const c of s.clients) expect(dump(c)).toEqual(dump(s.server));
}

describe('attack: pre-handshake fragment flood', () => {
  it('refuses 200 links claiming 8,192 fragments before buffering, and honest clients keep converging', () => {
    const { s, a, b, game } = honestRoom();
    const heapBefore = process.memoryUsage().heapUsed;
    const links: Link[] = [];
    let maxBuffered = 0;
    for (let i = 0; i < ATTACK_LINKS; i++) {
      const link = s.network.connect();
      link.onpacket = () => {};
      link.send(fragmentClaim(0, 0, 0, CLAIMED_FRAGMENTS));
      links.push(link);
    }
    for (let f = 0; f < 120; f++) {
      expect(() => s.step(game)).not.toThrow();
      maxBuffered = Math.max(maxBuffered, s.server.net.sessionStats()!.receiveBufferedBytes);
    }
    // Refused with Oversize (the claim exceeds a Hello) before a byte was buffered, and disconnected.
    const stats = s.server.net.sessionStats()!;
    expect(stats.preHandshakeOversize).toBe(ATTACK_LINKS);
    expect(s.server.errors.filter((e) => (e as { code?: string }).code === 'Oversize').length).toBeGreaterThanOrEqual(
      ATTACK_LINKS,
    );
    expect(maxBuffered).toBe(0);
    expect(links.every((l) => !l.isOpen)).toBe(true);
    expect(stats.pendingHandshakes).toBe(0);
    // Generous second check: 200 x 8 MiB would be 1.6 GB.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect(s.server.net.containedErrors()).toBe(0);
    expect([a, b].every((c) => c.errors.length === 0)).toBe(true);
    expectConverged(s, game);
  });

  it('bounds refused links too: 1,000 oversize claims within 5 frames leave at most 256 lingering', () => {
    const { s, game } = honestRoom();
    for (let batch = 0; batch < 5; batch++) {
      for (let i = 0; i < 200; i++) {
        const link = s.network.connect();
        link.onpacket = () => {};
        link.send(fragmentClaim(0, 0, 0, CLAIMED_FRAGMENTS));
      }
      expect(() => s.step(game)).not.toThrow();
      expect(s.server.net.sessionStats()!.lingering).toBeLessThanOrEqual(256);
    }
    const stats = s.server.net.sessionStats()!;
    expect(stats.preHandshakeOversize).toBe(1000);
    expect(stats.lingering).toBe(256);
    expect(stats.lingerDropped).toBe(1000 - 256);
    expect(stats.receiveBufferedBytes).toBe(0);
    expectConverged(s, game);
    expect(s.server.net.sessionStats()!.lingering).toBe(0);
  });

  it('holds only what arrived for claims within the Hello limit: 200 links stay under 200 x 2 fragments', () => {
    const { s, a, game } = honestRoom();
    const helloFragments = MAX_HELLO_BYTES / 1024;
    const links: Link[] = [];
    for (let i = 0; i < ATTACK_LINKS; i++) {
      const link = s.network.connect();
      link.onpacket = () => {};
      // Two fragments of a Hello-sized message that never completes: ids 0 (next in order) and 1 (ahead).
      link.send(fragmentClaim(0, 0, 0, helloFragments));
      link.send(fragmentClaim(1, 1, 3, helloFragments));
      links.push(link);
    }
    s.step(game);
    const stats = s.server.net.sessionStats()!;
    expect(stats.pendingHandshakes).toBe(ATTACK_LINKS);
    const perLink = 2 * ReliableReceiver.heldBytes(1024);
    // Each link holds exactly its two fragments plus bookkeeping: not the 16 KiB each message claims.
    expect(stats.receiveBufferedBytes).toBeLessThanOrEqual(ATTACK_LINKS * perLink);
    expect(stats.receiveBufferedBytes).toBeGreaterThan(ATTACK_LINKS * 2 * 1024);
    expect(stats.receiveBufferedBytes).toBeLessThan(ATTACK_LINKS * MAX_HELLO_BYTES);
    expect(a.errors).toEqual([]);
    expectConverged(s, game);
  });

  it('counts the next-in-order message against the buffer limit (it used to be exempt)', () => {
    const clock = createManualClock();
    const net = createMemoryNetwork({ clock });
    let serverLink: Link | null = null;
    net.server.onconnection = (l) => (serverLink = l);
    const client = net.connect();
    const maxMessage = 64 * 1024;
    const window = 16 * 1024;
    const errors: string[] = [];
    const conn = new Connection(serverLink!, {
      clock,
      maxReliableMessageBytes: maxMessage,
      maxReliableInFlightBytes: window,
      onError: (e) => errors.push(e.code),
    });
    const limit = 2 * window + ReliableReceiver.heldBytes(maxMessage);
    // Fragments of ids 0 (next in order) .. 7, each claiming the largest message: far more than the limit.
    let seq = 0;
    for (let id = 0; id < 8; id++)
      for (let index = 0; index < 63; index++) client.send(fragmentClaim(seq++, id, index, maxMessage / 1024));
    clock.advance(1);
    net.pump();
    conn.receive({ reliable: () => {}, unreliable: () => {} });
    expect(conn.reliableBufferedBytes).toBeLessThanOrEqual(limit);
    expect(conn.reliableBufferedBytes).toBeGreaterThan(limit - ReliableReceiver.heldBytes(1024));
    expect(conn.stats.receiveWindowDrops).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('lifts the limit at Welcome: a welcomed client may send a 64 KiB message', () => {
    const s = new Stepper();
    const raw = new RawClient(s.network.connect(), s.clock, s.server.protocol.schemaHash);
    const big = new Uint8Array(64 * 1024);
    for (let f = 0; f < 10; f++) {
      s.step();
      raw.step();
    }
    expect(raw.welcomed).toBe(true);
    raw.send(9000, { blob: big });
    for (let f = 0; f < 30; f++) {
      s.step();
      raw.step();
    }
    expect(s.server.errors.map((e) => (e as { code?: string }).code)).not.toContain('Oversize');
    expect(raw.connection.isOpen).toBe(true);
    expect(raw.connection.reliablePendingBytes).toBe(0); // delivered and acked
  });
});
