/**
 * Attack: a client that never acks. It keeps its link alive (packets without acks) so it is never suspended,
 * while every reliable message the server sends it stays queued: the queue used to grow without bound. Now past
 * `maxSendQueueBytes` / `maxSendQueueMessages` the client is disconnected with `SendQueueFull`.
 */
import { describe, expect, it } from 'vitest';
import { encodeControl } from '../../src/codec/message-frame.ts';
import { createManualClock } from '../../src/clock.ts';
import { Connection } from '../../src/connection/connection.ts';
import { getNetContext } from '../../src/context.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { ClientSession } from '../../src/session/client-session.ts';
import { createMemoryNetwork } from '../../src/transport/memory-transport.ts';
import type { Link } from '../../src/transport/transport.ts';
import { ErrorCode } from '../../src/errors.ts';
import { codes, expectConverged, honestRoom } from './honest-room.ts';
import { RawClient, silentPacket } from './raw-peer-helpers.ts';

const QUEUE_CAP_BYTES = 32 * 1024;

describe('attack: never-acking client', () => {
  it('disconnects it with SendQueueFull once its queue passes the cap; honest clients are unaffected', () => {
    const room = honestRoom(2, { capacity: { maxSendQueueBytes: QUEUE_CAP_BYTES } });
    const { s } = room;
    const ctx = getNetContext(s.server.world);
    if (ctx.role !== 'server') throw new Error('expected a server world');
    const raw = new RawClient(s.network.connect(), s.clock, s.server.protocol.schemaHash);
    for (let f = 0; f < 10; f++) {
      s.step(room.game);
      raw.step();
    }
    expect(raw.welcomed).toBe(true);
    raw.acks = false;
    const peer = [...ctx.session.peers.values()].at(-1)!;
    let seq = 1000;
    let peak = 0;
    for (let f = 0; f < 600 && raw.connection.isOpen; f++) {
      room.spawnMore(5);
      raw.link.send(silentPacket(seq++));
      expect(() => s.step(room.game)).not.toThrow();
      raw.step();
      peak = Math.max(peak, peer.connection.reliablePendingBytes);
    }
    const stats = s.server.net.sessionStats()!;
    expect(stats.sendQueueDisconnects).toBe(1);
    expect(codes(s.server)).toContain('SendQueueFull');
    expect(raw.fatalCode()).toBe(ErrorCode.SendQueueFull);
    s.run(2);
    expect(raw.connection.isOpen).toBe(false);
    // The bound: what was queued for it never passed the cap.
    expect(peak).toBeLessThanOrEqual(QUEUE_CAP_BYTES);
    expect(peak).toBeGreaterThan(QUEUE_CAP_BYTES / 2);
    // The honest clients received the same spawns, acked them and stay connected and in sync.
    expect(s.server.net.stats().map((p) => p.clientId)).toEqual(room.honest.map((c) => c.net.stats()[0].clientId));
    for (const p of s.server.net.stats()) expect(p.sendQueueRefused).toBe(0);
    expectConverged(room);
  });
});

describe('a server that never acks (the client side of the same bound)', () => {
  it('the client drops the link at its send-queue cap instead of silently refusing messages', () => {
    const clock = createManualClock(1000);
    const net = createMemoryNetwork({ clock });
    let serverEnd: Link | null = null;
    net.server.onconnection = (l) => (serverEnd = l);
    const errors: string[] = [];
    const client = new ClientSession({
      link: net.connect(),
      clock,
      schemaHash: 'feedc0de12345678',
      reconnect: false,
      connection: { maxReliableQueueBytes: 4096 },
      onError: (e) => errors.push(e.code),
    });
    client.setHandler({ welcomed: () => {}, message: () => {}, acked: () => {}, lost: () => {} });
    client.start();
    // A fake server: welcomes the client, then only sends packets that ack nothing.
    const fake = new Connection(serverEnd!, { clock });
    fake.sendReliable(
      encodeControl(Tag.Welcome, {
        clientId: 7,
        sessionId: 's1',
        role: 'participant',
        capabilities: [],
        serverTime: 0,
        resumeToken: 't',
        sendRateHz: 60,
        resumed: false,
        resumeWindowMs: 0,
      }),
    );
    fake.flush();
    let seq = 500;
    for (let f = 0; f < 60 && client.state !== 'closed'; f++) {
      clock.advance(1000 / 60);
      net.pump();
      client.receive();
      client.connection?.sendReliable(new Uint8Array(200)); // the application keeps sending
      client.connection?.flush();
      serverEnd!.send(silentPacket(seq++));
    }
    expect(errors).toContain('SendQueueFull');
    expect(client.state).toBe('closed');
    expect(client.closeReason).toContain('send queue full');
  });
});
