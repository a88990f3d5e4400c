import { ASSEMBLY_BOOKKEEPING_BYTES, FRAGMENT_BOOKKEEPING_BYTES } from '../../src/connection/reliable-receiver.ts';
import { describe, expect, it } from 'vitest';
import { NetError } from '../../src/errors.ts';
import { createRandom } from '../../src/random.ts';
import { Connection, DEFAULT_UNRELIABLE_BUDGET_BYTES } from '../../src/connection/connection.ts';
import { PACKET_HEADER_BYTES, PacketFlag, writePacketHeader } from '../../src/connection/packet-header.ts';
import {
  EntryKind,
  RELIABLE_FRAGMENT_BYTES,
  UNRELIABLE_FRAMING_BYTES_MAX,
  createParsedEntry,
  parseEntry,
  unreliableFramingBytes,
  writeReliableEntry,
  writeUnreliableEntry,
} from '../../src/connection/packet-entries.ts';
import { createManualClock } from '../../src/clock.ts';
import { createMemoryNetwork } from '../../src/transport/memory-transport.ts';
import { createPair, makeMessage, sameBytes } from './connection-harness.ts';
import type { Pair } from './connection-harness.ts';

/** Captures every packet the client end puts on the wire. */
function captureClient(pair: Pair): Uint8Array[] {
  const out: Uint8Array[] = [];
  const link = pair.client.link;
  const send = link.send.bind(link);
  link.send = (p) => {
    out.push(p.slice());
    send(p);
  };
  return out;
}

/** Sum of unreliable entry bytes (framing + payload) and payload bytes in a packet. */
function unreliableBytes(packet: Uint8Array): { entries: number; payload: number } {
  const e = createParsedEntry();
  let entries = 0;
  let payload = 0;
  for (let pos = PACKET_HEADER_BYTES; pos < packet.length; pos = e.next) {
    expect(parseEntry(packet, pos, packet.length, e)).toBe(true);
    if (e.kind === EntryKind.Unreliable) {
      entries += e.next - pos;
      payload += e.length;
    }
  }
  return { entries, payload };
}

/** A hand-made packet for injection. */
function craft(seq: number, body: (buf: Uint8Array, pos: number) => number, protocolId = 0xec): Uint8Array {
  const buf = new Uint8Array(128 * 1024);
  writePacketHeader(new DataView(buf.buffer), { protocolId, seq, ack: 0, ackBits: 0, flags: 0 });
  return buf.slice(0, body(buf, PACKET_HEADER_BYTES));
}

describe('Connection: packets and unreliable messages', () => {
  it('sends one header-only packet per idle flush and returns consecutive sequences', () => {
    const pair = createPair();
    const wire = captureClient(pair);
    expect(pair.client.conn.flush()).toBe(0);
    expect(pair.client.conn.flush()).toBe(1);
    expect(wire.map((p) => p.length)).toEqual([PACKET_HEADER_BYTES, PACKET_HEADER_BYTES]);
    expect(wire[1][9] & PacketFlag.HasAcks).toBe(0);
    pair.step(1);
    pair.step(1);
    expect(wire[wire.length - 1][9] & PacketFlag.HasAcks).toBe(PacketFlag.HasAcks);
  });

  it('costs at most 12 bytes of overhead for one unreliable message', () => {
    const pair = createPair();
    const wire = captureClient(pair);
    for (const size of [0, 1, 31, 32, 200, 1000, 1098]) {
      expect(pair.client.conn.sendUnreliable(makeMessage(size, size))).toBe(true);
      pair.client.conn.flush();
      const overhead = wire[wire.length - 1].length - size;
      expect(overhead).toBe(PACKET_HEADER_BYTES + unreliableFramingBytes(size));
      expect(overhead).toBeLessThanOrEqual(12);
      expect(overhead).toBe(size < 32 ? 11 : 12);
    }
    expect(UNRELIABLE_FRAMING_BYTES_MAX + PACKET_HEADER_BYTES).toBe(12);
  });

  it('delivers unreliable messages of a flush with the sequence flush() returned', () => {
    const pair = createPair({ up: { latencyMs: 5 } });
    pair.client.conn.sendUnreliable(makeMessage(10, 1));
    pair.client.conn.sendUnreliable(makeMessage(20, 2));
    pair.client.conn.sendReliable(makeMessage(30, 3));
    const seq = pair.client.conn.flush();
    pair.step(5, false);
    expect(pair.server.unreliable.map((u) => [u.message.length, u.seq])).toEqual([
      [10, seq],
      [20, seq],
    ]);
    expect(sameBytes(pair.server.unreliable[1].message, makeMessage(20, 2))).toBe(true);
    // The small reliable message rode in the same packet.
    expect(pair.server.reliable.length).toBe(1);
    expect(pair.server.arrivedSeqs).toEqual(new Set([seq]));
  });

  it('never puts more than the 1,100-byte budget of unreliable data in a packet, and reports space exactly', () => {
    const pair = createPair();
    const wire = captureClient(pair);
    const conn = pair.client.conn;
    const r = createRandom(3);
    for (let round = 0; round < 200; round++) {
      for (;;) {
        const space = conn.unreliableSpaceBytes();
        const size = r.next() < 0.3 ? space : r.int(300);
        if (size <= space) {
          expect(conn.sendUnreliable(new Uint8Array(size))).toBe(true);
          if (size === space) break;
        } else {
          expect(conn.sendUnreliable(new Uint8Array(size))).toBe(false);
          break;
        }
      }
      const space = conn.unreliableSpaceBytes();
      expect(conn.sendUnreliable(new Uint8Array(space + 1))).toBe(false);
      conn.flush();
      const { entries, payload } = unreliableBytes(wire[wire.length - 1]);
      expect(entries).toBeLessThanOrEqual(DEFAULT_UNRELIABLE_BUDGET_BYTES);
      expect(payload).toBeLessThanOrEqual(DEFAULT_UNRELIABLE_BUDGET_BYTES);
    }
    // A filled packet uses the budget to the byte.
    conn.sendUnreliable(new Uint8Array(conn.unreliableSpaceBytes()));
    expect(conn.unreliableSpaceBytes()).toBe(0);
    conn.flush();
    expect(unreliableBytes(wire[wire.length - 1]).entries).toBe(DEFAULT_UNRELIABLE_BUDGET_BYTES);
    expect(conn.sendUnreliable(new Uint8Array(DEFAULT_UNRELIABLE_BUDGET_BYTES))).toBe(false);
  });

  it('reports the largest payload that still fits, at every fill level', () => {
    const clock = createManualClock();
    const net = createMemoryNetwork({ clock });
    const conn = new Connection(net.connect(), { clock });
    const fill = (used: number) => {
      for (let filled = 0; filled < used;) {
        const step = Math.min(20, used - filled);
        if (!conn.sendUnreliable(new Uint8Array(step - 1))) expect.fail(`fill to ${used} failed`);
        filled += step;
      }
    };
    for (let used = 0; used <= DEFAULT_UNRELIABLE_BUDGET_BYTES; used++) {
      fill(used);
      const space = conn.unreliableSpaceBytes();
      if (used < DEFAULT_UNRELIABLE_BUDGET_BYTES) expect(conn.sendUnreliable(new Uint8Array(space))).toBe(true);
      conn.flush();
      fill(used);
      expect(conn.sendUnreliable(new Uint8Array(space + 1))).toBe(false);
      conn.flush();
    }
  });

  it('drops a duplicated packet: its messages arrive once', () => {
    const pair = createPair();
    const packet = craft(7, (buf, pos) => writeUnreliableEntry(buf, pos, makeMessage(5, 1)));
    pair.server.link.onpacket!(packet);
    pair.server.link.onpacket!(packet);
    pair.step(1);
    expect(pair.server.unreliable.length).toBe(1);
    expect(pair.server.conn.stats.duplicatesDropped).toBe(1);
  });
});

describe('Connection: reliable ids, limits and lifecycle', () => {
  it('numbers reliable messages from 0 and tracks delivery on the receiver', () => {
    const pair = createPair({ up: { latencyMs: 10 } });
    expect(pair.client.conn.lastReliableIdSent).toBe(0xffff);
    expect(pair.server.conn.lastReliableIdDelivered).toBe(0xffff);
    expect(pair.server.conn.isReliableDelivered(0xffff)).toBe(true);
    expect(pair.server.conn.isReliableDelivered(0)).toBe(false);
    expect(pair.client.conn.sendReliable(makeMessage(10, 0))).toBe(0);
    expect(pair.client.conn.sendReliable(makeMessage(5000, 1))).toBe(1);
    expect(pair.client.conn.lastReliableIdSent).toBe(1);
    pair.step(1);
    expect(pair.server.conn.isReliableDelivered(0)).toBe(false);
    pair.step(10);
    expect(pair.server.conn.lastReliableIdDelivered).toBe(1);
    expect(pair.server.conn.isReliableDelivered(1)).toBe(true);
    expect(pair.server.conn.isReliableDelivered(2)).toBe(false);
  });

  it('throws Oversize for a local reliable message above the limit', () => {
    const pair = createPair({}, 1, { maxReliableMessageBytes: 4096 });
    expect(() => pair.client.conn.sendReliable(new Uint8Array(4097))).toThrowError(NetError);
    try {
      pair.client.conn.sendReliable(new Uint8Array(4097));
    } catch (e) {
      expect((e as NetError).code).toBe('Oversize');
      expect((e as NetError).fix).toBeTruthy();
    }
    expect(pair.client.conn.sendReliable(new Uint8Array(4096))).toBe(0);
  });

  it('rejects fragment claims above the size limit before allocating anything', () => {
    // Not a multiple of the fragment size, so a last fragment can push an allowed count over the limit.
    const max = 64 * 1024 - 100;
    const count = 64;
    const pair = createPair({}, 1, { maxReliableMessageBytes: max });
    const server = pair.server;
    const frag = new Uint8Array(RELIABLE_FRAGMENT_BYTES);
    const claims: [number, number, number][] = [
      // [count, index, payload length]: one fragment more than the limit allows ...
      [count + 1, 0, RELIABLE_FRAGMENT_BYTES],
      // ... absurd counts that could never be allocated ...
      [2 ** 40, 5, RELIABLE_FRAGMENT_BYTES],
      [2 ** 52, 0, RELIABLE_FRAGMENT_BYTES],
      // ... and an allowed count whose last fragment makes the total 100 bytes too large.
      [count, count - 1, RELIABLE_FRAGMENT_BYTES],
    ];
    let seq = 0;
    for (const [n, index, length] of claims) {
      server.link.onpacket!(craft(seq++, (b, p) => writeReliableEntry(b, p, 0, index, n, frag.subarray(0, length))));
    }
    server.conn.receive(server.handler);
    expect(server.errors.map((e) => e.code)).toEqual(['Oversize', 'Oversize', 'Oversize', 'Oversize']);
    expect(server.conn.stats.oversizeRejected).toBe(4);
    expect(server.conn.stats.decodeErrors).toBe(4);
    expect(server.conn.reliableBufferedBytes).toBe(0);
    // Positive control: the last fragment of a message of exactly the limit is accepted and buffered; only what
    // arrived is held (one fragment and its bookkeeping), not the 64 fragments it claims.
    const last = frag.subarray(0, RELIABLE_FRAGMENT_BYTES - 100);
    server.link.onpacket!(craft(seq++, (b, p) => writeReliableEntry(b, p, 0, count - 1, count, last)));
    server.conn.receive(server.handler);
    expect(server.errors.length).toBe(4);
    expect(server.conn.reliableBufferedBytes).toBe(
      last.length + ASSEMBLY_BOOKKEEPING_BYTES + FRAGMENT_BOOKKEEPING_BYTES,
    );
  });

  it('rejects a whole reliable message above the size limit', () => {
    const pair = createPair({}, 1, { maxReliableMessageBytes: 500 });
    const server = pair.server;
    server.link.onpacket!(craft(0, (b, p) => writeReliableEntry(b, p, 0, 0, 0, new Uint8Array(501))));
    server.link.onpacket!(craft(1, (b, p) => writeReliableEntry(b, p, 0, 0, 0, new Uint8Array(500))));
    server.conn.receive(server.handler);
    expect(server.errors.map((e) => e.code)).toEqual(['Oversize']);
    expect(server.reliable.map((m) => m.length)).toEqual([500]);
  });

  it('does not fire onPacketAcked for a packet already declared lost, and does not resend its data twice', () => {
    // Acks come back only after 2 s, long past the loss timeout.
    const pair = createPair({ down: { latencyMs: 2000 } });
    pair.client.conn.sendReliable(makeMessage(100, 1));
    const first = pair.client.conn.flush();
    for (let i = 0; i < 200; i++) pair.step(16);
    expect(pair.client.lost).toContain(first);
    expect(pair.client.acked).not.toContain(first);
    // Every packet resolved exactly once.
    const all = [...pair.client.acked, ...pair.client.lost];
    expect(new Set(all).size).toBe(all.length);
    expect(pair.server.reliable.length).toBe(1);
    expect(pair.client.conn.reliablePendingBytes).toBe(0);
  });

  it('leaves a packet unacked when the handler throws, so its reliable data comes again', () => {
    const pair = createPair();
    pair.client.conn.sendUnreliable(makeMessage(4, 1));
    pair.client.conn.sendReliable(makeMessage(40, 2));
    pair.client.conn.flush();
    pair.net.pump();
    const failing = {
      reliable: () => {},
      unreliable: () => {
        throw new Error('app bug');
      },
    };
    expect(() => pair.server.conn.receive(failing)).toThrowError('app bug');
    for (let i = 0; i < 30; i++) pair.step(16);
    expect(pair.server.reliable.length).toBe(1);
    expect(sameBytes(pair.server.reliable[0], makeMessage(40, 2))).toBe(true);
  });

  it('closes both ends and stops sending', () => {
    const pair = createPair();
    const reasons: string[] = [];
    pair.client.conn.onClose = (r) => reasons.push(`client ${r}`);
    pair.server.conn.onClose = (r) => reasons.push(`server ${r}`);
    pair.client.conn.close('done');
    expect(pair.client.conn.isOpen).toBe(false);
    expect(pair.server.conn.isOpen).toBe(false);
    expect(pair.client.conn.flush()).toBe(-1);
    expect(pair.client.conn.sendUnreliable(new Uint8Array(1))).toBe(false);
    pair.step(1);
    expect(reasons).toEqual(['client done', 'server done']);
  });

  it('rejects options that cannot work', () => {
    const clock = createManualClock();
    const net = createMemoryNetwork({ clock, mtuBytes: 600 });
    expect(() => new Connection(net.connect(), { clock })).toThrowError(/MTU/);
    const net2 = createMemoryNetwork({ clock });
    expect(() => new Connection(net2.connect(), { clock, unreliableBudgetBytes: 5000 })).toThrowError(NetError);
    expect(() => new Connection(net2.connect(), { clock, maxPacketsPerFlush: 0 })).toThrowError(NetError);
    expect(() => new Connection(net2.connect(), { clock, protocolId: 256 })).toThrowError(NetError);
  });

  it('drops an incoming packet larger than the link MTU without copying it', () => {
    const pair = createPair();
    const big = craft(1, (b, p) => writeUnreliableEntry(b, p, new Uint8Array(2000)));
    pair.server.link.onpacket!(big);
    pair.step(1);
    expect(pair.server.unreliable.length).toBe(0);
    expect(pair.server.conn.stats.decodeErrors).toBe(1);
  });

  it('ignores packets of another protocol id', () => {
    const pair = createPair();
    pair.server.link.onpacket!(craft(1, (b, p) => writeUnreliableEntry(b, p, new Uint8Array(3)), 0x42));
    pair.step(1);
    expect(pair.server.unreliable.length).toBe(0);
    expect(pair.server.conn.stats.decodeErrors).toBe(1);
    expect(pair.server.errors[0].code).toBe('DecodeError');
  });
});
