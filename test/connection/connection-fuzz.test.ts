import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/random.ts';
import type { Random } from '../../src/random.ts';
import { PACKET_HEADER_BYTES, writePacketHeader } from '../../src/connection/packet-header.ts';
import {
  EntryKind,
  RELIABLE_FRAGMENT_BYTES,
  createParsedEntry,
  parseEntry,
  writeReliableEntry,
  writeUnreliableEntry,
} from '../../src/connection/packet-entries.ts';
import { seqDiff } from '../../src/connection/packet-header.ts';
import { RELIABLE_ID_WINDOW } from '../../src/connection/reliable-sender.ts';
import { createPair, makeMessage, sameBytes } from './connection-harness.ts';
import type { Pair } from './connection-harness.ts';

/** Changes a packet at or after byte `from` in one of several ways (never in place). */
function mutate(r: Random, packet: Uint8Array, from: number): Uint8Array {
  const span = Math.max(1, packet.length - from);
  const at = () => from + r.int(span);
  let p = packet.slice();
  switch (r.int(6)) {
    case 0: // flip 1..8 bits
      for (let i = 1 + r.int(8); i > 0; i--) if (p.length > from) p[at()] ^= 1 << r.int(8);
      break;
    case 1: // truncate
      p = p.slice(0, from + r.int(span));
      break;
    case 2: {
      // extend with random bytes
      const q = new Uint8Array(p.length + 1 + r.int(40));
      q.set(p);
      for (let i = p.length; i < q.length; i++) q[i] = r.int(256);
      p = q;
      break;
    }
    case 3: // swap two bytes
      if (p.length > from) {
        const a = at();
        const b = at();
        [p[a], p[b]] = [p[b], p[a]];
      }
      break;
    case 4: // overwrite a few bytes
      for (let i = 1 + r.int(4); i > 0; i--) if (p.length > from) p[at()] = r.int(256);
      break;
    default: {
      // repeat a slice in place of the rest
      const start = at();
      const len = r.int(60);
      const q = new Uint8Array(start + len);
      q.set(p.subarray(0, start));
      for (let i = 0; i < len; i++) q[start + i] = p[from + ((start - from + i) % span)] ?? 0;
      p = q;
    }
  }
  return p;
}

/** Valid packets from a donor connection: unreliable, whole and fragmented reliable data, acks. */
function donorCorpus(seed: number): Uint8Array[] {
  const donor = createPair({ up: { latencyMs: 5, loss: 0.2 } }, seed);
  const corpus: Uint8Array[] = [];
  const link = donor.client.link;
  const send = link.send.bind(link);
  link.send = (p) => {
    corpus.push(p.slice());
    send(p);
  };
  const r = createRandom(seed);
  for (let i = 0; i < 150; i++) {
    if (r.next() < 0.5)
      donor.client.conn.sendReliable(makeMessage(r.next() < 0.2 ? 1000 + r.int(4000) : r.int(100), i));
    donor.client.conn.sendUnreliable(makeMessage(r.int(80), i));
    donor.step(16);
  }
  return corpus;
}

/** What a rejected packet must leave unchanged. */
function observable(pair: Pair, lastHeader: () => Uint8Array) {
  const s = pair.server;
  return {
    reliable: s.reliable.length,
    unreliable: s.unreliable.length,
    lastDelivered: s.conn.lastReliableIdDelivered,
    acked: s.acked.length,
    buffered: s.conn.reliableBufferedBytes,
    ackFields: [...lastHeader().subarray(3, PACKET_HEADER_BYTES)],
  };
}

describe('Connection fuzz', () => {
  it('survives thousands of random and mutated packets; a rejected packet changes nothing', () => {
    const pair = createPair({}, 21);
    const server = pair.server;
    const sent: Uint8Array[] = [];
    const send = server.link.send.bind(server.link);
    server.link.send = (p) => {
      sent.push(p.slice());
      send(p);
    };
    const corpus = donorCorpus(5);
    expect(corpus.length).toBeGreaterThan(150);
    const r = createRandom(99);
    let rejected = 0;
    let accepted = 0;
    server.conn.flush();
    for (let i = 0; i < 6000; i++) {
      let packet: Uint8Array;
      if (r.next() < 0.2) {
        packet = new Uint8Array(r.int(1300));
        for (let j = 0; j < packet.length; j++) packet[j] = r.int(256);
        if (packet.length > 0 && r.next() < 0.7) packet[0] = 0xec;
        if (packet.length > 9 && r.next() < 0.7) packet[9] = r.int(2);
      } else {
        packet = corpus[r.int(corpus.length)].slice();
        // Mostly a sequence just past the newest the server acks, so the body gets checked rather than the
        // packet dropped as a duplicate or stale.
        const last = sent[sent.length - 1];
        const newest = last[3] | (last[4] << 8);
        if (r.next() < 0.8) new DataView(packet.buffer).setUint16(1, (newest + 1 + r.int(3)) & 0xffff, true);
        packet = mutate(r, packet, 0);
      }
      const before = observable(pair, () => sent[sent.length - 1]);
      const errorsBefore = server.conn.stats.decodeErrors;
      const deliveredBefore = server.reliable.length;
      server.link.onpacket!(packet);
      server.conn.receive(server.handler);
      server.conn.flush();
      const after = observable(pair, () => sent[sent.length - 1]);
      if (server.conn.stats.decodeErrors > errorsBefore) {
        rejected++;
        expect(server.conn.stats.decodeErrors).toBe(errorsBefore + 1);
        expect(after).toEqual(before);
      } else {
        accepted++;
      }
      // Reliable delivery stays in id order whatever comes in.
      const delivered = server.reliable.length - deliveredBefore;
      expect(server.conn.lastReliableIdDelivered).toBe((before.lastDelivered + delivered) & 0xffff);
    }
    // Both paths were exercised plenty: rejection, and acceptance of (mutated but well-formed) packets.
    expect(rejected).toBeGreaterThan(2500);
    expect(accepted - server.conn.stats.duplicatesDropped).toBeGreaterThan(1000);
    expect(server.errors.length).toBe(server.conn.stats.decodeErrors);
    expect(new Set(server.errors.map((e) => e.code))).toEqual(new Set(['DecodeError', 'Oversize']));
  });

  it('still delivers a clean reliable stream in order after thousands of garbage packets', () => {
    const pair = createPair({ up: { latencyMs: 10 }, down: { latencyMs: 10 } }, 8);
    const { client, server } = pair;
    const r = createRandom(17);
    const sent: Uint8Array[] = [];
    const sendSome = (n: number) => {
      for (let i = 0; i < n; i++) {
        const m = makeMessage(r.next() < 0.15 ? 1025 + r.int(9000) : r.int(300), sent.length);
        client.conn.sendReliable(m);
        sent.push(m);
      }
    };
    // 1. A first stream, delivered and acked.
    sendSome(100);
    for (let i = 0; i < 300 && (server.reliable.length < 100 || client.conn.reliablePendingBytes > 0); i++)
      pair.step(16);
    expect(server.reliable.length).toBe(100);
    expect(client.conn.reliablePendingBytes).toBe(0);
    const nextId = 100;
    // 2. The client sends 1000 header-only packets the server never gets: their sequences are free for garbage
    //    (an accepted garbage packet must not take a sequence the real client will use later).
    pair.net.cut(client.link);
    const firstFreeSeq = client.conn.flush();
    for (let i = 0; i < 999; i++) pair.step(16);
    pair.net.restore(client.link);
    const freeSeqs = Array.from({ length: 1000 }, (_, i) => (firstFreeSeq + i) & 0xffff);
    // 3. Garbage bodies behind valid headers, plus garbage headers. Reliable entries use ids the server already
    //    delivered. A mutant that parses into a reliable entry for an id the clean stream will use is skipped:
    //    this layer has no integrity check (DTLS / TLS below it provide one), so such a packet is simply data.
    const e = createParsedEntry();
    const claimsLiveId = (p: Uint8Array): boolean => {
      for (let pos = PACKET_HEADER_BYTES; pos < p.length; pos = e.next) {
        if (!parseEntry(p, pos, p.length, e)) return false;
        if (e.kind !== EntryKind.Unreliable) {
          const ahead = seqDiff(e.id, nextId);
          if (ahead >= 0 && ahead < RELIABLE_ID_WINDOW) return true;
        }
      }
      return false;
    };
    const base = (seq: number): Uint8Array => {
      const buf = new Uint8Array(4096);
      writePacketHeader(new DataView(buf.buffer), { protocolId: 0xec, seq, ack: 0, ackBits: 0, flags: 0 });
      let pos = PACKET_HEADER_BYTES;
      for (let k = r.int(4); k >= 0; k--) {
        const id = (nextId - 1 - r.int(2000)) & 0xffff;
        const kind = r.int(3);
        if (kind === 0) pos = writeUnreliableEntry(buf, pos, makeMessage(r.int(60), k));
        else if (kind === 1) pos = writeReliableEntry(buf, pos, id, 0, 0, makeMessage(r.int(60), k));
        else {
          const count = 2 + r.int(8);
          const index = r.int(count);
          const len = index === count - 1 ? 1 + r.int(RELIABLE_FRAGMENT_BYTES) : RELIABLE_FRAGMENT_BYTES;
          if (pos + len + 12 < 4096) pos = writeReliableEntry(buf, pos, id, index, count, new Uint8Array(len));
        }
      }
      return buf.slice(0, pos);
    };
    let injected = 0;
    let skipped = 0;
    while (injected < 2500 && freeSeqs.length > 0) {
      const k = r.int(freeSeqs.length);
      let packet = base(freeSeqs[k]);
      for (let m = 1 + r.int(3); m > 0; m--) packet = mutate(r, packet, PACKET_HEADER_BYTES);
      if (claimsLiveId(packet)) {
        skipped++;
        continue;
      }
      const errorsBefore = server.conn.stats.decodeErrors;
      server.link.onpacket!(packet);
      server.conn.receive(server.handler);
      injected++;
      // An accepted packet used up its sequence.
      if (server.conn.stats.decodeErrors === errorsBefore) freeSeqs.splice(k, 1);
    }
    expect(injected).toBe(2500);
    pair.step(1);
    expect(server.conn.stats.decodeErrors).toBeGreaterThan(1000);
    expect(skipped).toBeLessThan(injected / 10);
    expect(server.reliable.length).toBe(100);
    // 4. A clean stream over a lossy, duplicating link: all of it arrives, in order, byte-identical.
    pair.net.setConditions(client.link, { up: { latencyMs: 10, loss: 0.1, duplicate: 0.1, reorder: 0.1 } });
    sendSome(300);
    for (let i = 0; i < 3000 && server.reliable.length < sent.length; i++) pair.step(16);
    expect(server.reliable.length).toBe(sent.length);
    for (let i = 0; i < sent.length; i++) expect(sameBytes(server.reliable[i], sent[i])).toBe(true);
  });
});
