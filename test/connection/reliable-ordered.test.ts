import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/random.ts';
import type { Random } from '../../src/random.ts';
import type { LinkConditions } from '../../src/transport/link-conditioner.ts';
import { createPair, makeMessage, sameBytes } from './connection-harness.ts';
import type { Peer } from './connection-harness.ts';

/** Mostly small messages, some medium, a few large (fragmented) ones up to ~40 KB. */
function randomSize(r: Random): number {
  const k = r.next();
  if (k < 0.6) return r.int(200);
  if (k < 0.9) return 200 + r.int(2800);
  return 3000 + r.int(37_000);
}

function checkCallbacks(p: Peer, other: Peer): void {
  const sent = p.conn.stats.packetsOut;
  const resolved = [...p.acked, ...p.lost];
  // Exactly once each, for every packet sent.
  expect(resolved.length).toBe(sent);
  expect(new Set(resolved).size).toBe(sent);
  // Acked means the other end really received it.
  for (const seq of p.acked) expect(other.arrivedSeqs.has(seq)).toBe(true);
}

function runStream(conditions: LinkConditions, seed: number, perDirection: number) {
  const pair = createPair({ up: conditions, down: conditions }, seed);
  const r = createRandom(seed);
  const sentBy = { client: [] as Uint8Array[], server: [] as Uint8Array[] };
  let steps = 0;
  while (sentBy.client.length < perDirection || sentBy.server.length < perDirection) {
    for (const side of ['client', 'server'] as const) {
      const n = r.int(4);
      for (let i = 0; i < n && sentBy[side].length < perDirection; i++) {
        const m = makeMessage(randomSize(r), sentBy[side].length + (side === 'server' ? 1e6 : 0));
        const id = pair[side].conn.sendReliable(m);
        expect(id).toBe(sentBy[side].length & 0xffff);
        sentBy[side].push(m);
      }
    }
    pair.step(16);
    steps++;
  }
  const done = () =>
    pair.server.reliable.length === sentBy.client.length && pair.client.reliable.length === sentBy.server.length;
  for (let i = 0; i < 20_000 && !done(); i++) pair.step(16);
  // Let the last packets resolve: stop sending, keep receiving until every pending packet times out.
  for (let i = 0; i < 200; i++) pair.step(16, false);
  return { pair, sentBy, steps };
}

describe('reliable-ordered messages', () => {
  const cases: [string, LinkConditions][] = [
    ['a clean link', { latencyMs: 20 }],
    ['10% loss', { latencyMs: 30, jitterMs: 10, loss: 0.1, duplicate: 0.05, reorder: 0.05 }],
    ['30% loss', { latencyMs: 30, jitterMs: 10, loss: 0.3, duplicate: 0.1, reorder: 0.1 }],
  ];
  for (const [name, conditions] of cases) {
    it(`delivers every message exactly once, in order, byte-identical, both ways, over ${name}`, () => {
      const { pair, sentBy } = runStream(conditions, 1234, 1000);
      const { client, server } = pair;
      for (const [got, sent] of [
        [server.reliable, sentBy.client],
        [client.reliable, sentBy.server],
      ]) {
        expect(got.length).toBe(sent.length);
        for (let i = 0; i < sent.length; i++) {
          if (!sameBytes(got[i], sent[i]))
            expect.fail(`message ${i} differs (${got[i].length} vs ${sent[i].length} B)`);
        }
      }
      expect(server.conn.lastReliableIdDelivered).toBe(client.conn.lastReliableIdSent);
      expect(client.conn.isReliableDelivered(server.conn.lastReliableIdSent)).toBe(true);
      expect(client.conn.reliablePendingBytes).toBe(0);
      checkCallbacks(client, server);
      checkCallbacks(server, client);
      for (const p of [client, server]) {
        expect(p.errors).toEqual([]);
        expect(p.conn.stats.decodeErrors).toBe(0);
        if (conditions.duplicate) expect(p.conn.stats.duplicatesDropped).toBeGreaterThan(0);
        if (conditions.loss) expect(p.conn.stats.resends).toBeGreaterThan(0);
      }
    });
  }

  it('delivers a message of exactly one fragment, one byte more, and an empty one', () => {
    const pair = createPair({ up: { latencyMs: 10, loss: 0.2 } }, 5);
    const sizes = [1024, 1025, 0, 2048, 2049, 1, 8 * 1024];
    const msgs = sizes.map((s, i) => makeMessage(s, i));
    for (const m of msgs) pair.client.conn.sendReliable(m);
    for (let i = 0; i < 300; i++) pair.step(16);
    expect(pair.server.reliable.map((m) => m.length)).toEqual(sizes);
    pair.server.reliable.forEach((m, i) => expect(sameBytes(m, msgs[i])).toBe(true));
  });

  it('copies messages on send, so the caller may reuse its buffer', () => {
    const pair = createPair();
    const buf = makeMessage(3000, 1);
    const keep = buf.slice();
    pair.client.conn.sendReliable(buf);
    buf.fill(0);
    for (let i = 0; i < 10; i++) pair.step(16);
    expect(sameBytes(pair.server.reliable[0], keep)).toBe(true);
  });

  it('keeps streaming under the flow-control window without stalling', () => {
    const pair = createPair({ up: { latencyMs: 50, loss: 0.1 } }, 3, { maxReliableInFlightBytes: 16 * 1024 });
    const msgs = Array.from({ length: 40 }, (_, i) => makeMessage(5000, i));
    for (const m of msgs) pair.client.conn.sendReliable(m);
    let peakInFlight = 0;
    let peakBuffered = 0;
    for (let i = 0; i < 2000 && pair.server.reliable.length < msgs.length; i++) {
      pair.step(16);
      peakInFlight = Math.max(peakInFlight, pair.client.conn.reliableInFlightBytes);
      peakBuffered = Math.max(peakBuffered, pair.server.conn.reliableBufferedBytes);
    }
    expect(pair.server.reliable.length).toBe(msgs.length);
    // The window is used, never exceeded, and bounds what the receiver holds.
    expect(peakInFlight).toBeGreaterThan(10_000);
    expect(peakInFlight).toBeLessThanOrEqual(16 * 1024);
    expect(peakBuffered).toBeLessThanOrEqual(2 * 16 * 1024);
    expect(pair.server.conn.reliableBufferedBytes).toBe(0);
    expect(pair.server.conn.stats.receiveWindowDrops).toBe(0);
  });

  it('sends at most maxPacketsPerFlush packets per flush', () => {
    const pair = createPair({}, 1, { maxPacketsPerFlush: 3 });
    pair.client.conn.sendReliable(makeMessage(100_000, 1));
    const before = pair.client.conn.stats.packetsOut;
    pair.client.conn.flush();
    expect(pair.client.conn.stats.packetsOut - before).toBe(3);
  });
});
