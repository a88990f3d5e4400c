/**
 * Telemetry over a real transport: the WebSocket server and two WebSocket clients on 127.0.0.1, ticked by real
 * timers. Each client's frame timings and link figures reach the aggregator at the configured rate, the room event
 * aggregates both, and a client that leaves is dropped from the room.
 */
import { createWorld } from 'bitecs';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import {
  clientIdOf,
  connectionStateOf,
  createNetworkPlugin,
  createTelemetryAggregator,
  createTelemetryReporter,
  createWebSocketClientTransport,
  type ClientTelemetry,
  type NetworkPlugin,
  type RoomTelemetry,
} from '../../src/index.ts';
import { createWebSocketServerTransport } from '../../src/server.ts';
import { defineFixture } from '../helpers/fixture.ts';
import { waitFor } from '../transport/real-link-kit.ts';

const HOST = '127.0.0.1';
const TICK_MS = 10;
/** Reports per second of the clients: fast, for a short test (the aggregator is told to accept twice that). */
const RATE_HZ = 4;

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('telemetry over WebSocket (TCP on 127.0.0.1)', () => {
  it('delivers reports of two clients, aggregates the room, and forgets a client that leaves', async () => {
    const transport = await createWebSocketServerTransport({ port: 0, host: HOST });
    const serverWorld = createWorld();
    const errors: Error[] = [];
    const server = createNetworkPlugin(serverWorld, {
      role: 'server',
      protocol: defineFixture().protocol,
      transport,
      onError: (e) => errors.push(e),
    });
    cleanups.push(() => server.dispose());
    const agg = createTelemetryAggregator(serverWorld, { maxRateHz: RATE_HZ * 2, roomIntervalMs: 200 });
    const seen: ClientTelemetry[] = [];
    const rooms: RoomTelemetry[] = [];
    agg.events.on('telemetry', (c) => seen.push(c));
    agg.events.on('room', (r) => rooms.push(r));
    const ticking: Array<[object, NetworkPlugin, (() => void) | null]> = [[serverWorld, server, null]];
    const timer = setInterval(() => {
      for (const [w, net, frame] of ticking) {
        net.receive(w);
        frame?.();
        net.send(w);
      }
    }, TICK_MS);
    cleanups.push(() => clearInterval(timer));

    const join = (frameMs: number) => {
      const world = createWorld();
      const net = createNetworkPlugin(world, {
        role: 'client',
        protocol: defineFixture().protocol,
        transport: createWebSocketClientTransport({ url: `ws://${HOST}:${transport.port}/ecsync`, WebSocket }),
      });
      const reporter = createTelemetryReporter(world, { rateHz: RATE_HZ });
      ticking.push([world, net, () => reporter.recordFrame(frameMs)]);
      return { world, net, reporter };
    };
    const a = join(8);
    const b = join(30);
    await waitFor(
      () => connectionStateOf(a.world) === 'connected' && connectionStateOf(b.world) === 'connected',
      5000,
      'both clients to connect',
    );
    const aId = clientIdOf(a.world);
    const bId = clientIdOf(b.world);
    await waitFor(() => (agg.client(aId)?.reports ?? 0) >= 4 && (agg.client(bId)?.reports ?? 0) >= 4, 5000, 'reports');
    const ra = agg.client(aId)!.report;
    const rb = agg.client(bId)!.report;
    expect(ra.frameP50Ms).toBeCloseTo(8, 1);
    expect(rb.frameP95Ms).toBeCloseTo(30, 1);
    expect(rb.slowFrames).toBe(rb.frames); // 30 ms > the 25 ms threshold: every frame is slow
    expect(ra.slowFrames).toBe(0);
    expect(ra.bytesInPerSec).toBeGreaterThan(0);
    expect(ra.intervalMs).toBeGreaterThanOrEqual(1000 / RATE_HZ - 1);
    expect(seen.some((c) => c.clientId === aId) && seen.some((c) => c.clientId === bId)).toBe(true);
    await waitFor(() => rooms.at(-1)?.clients === 2, 2000, 'a room aggregate of both');
    expect(rooms.at(-1)!.frameP95P95Ms).toBeCloseTo(30, 1);
    expect(agg.stats().rateLimited).toBe(0);
    expect(a.reporter.stats().reportsSent).toBeGreaterThanOrEqual(4);

    ticking.splice(1, 1);
    await a.net.dispose();
    await waitFor(() => agg.client(aId) === undefined, 5000, 'A to be forgotten');
    await waitFor(() => rooms.at(-1)?.clients === 1, 2000, 'a room aggregate without A');
    expect(agg.room().clients).toBe(1);
    expect(errors).toEqual([]);
    ticking.splice(1, 1);
    await b.net.dispose();
  });
});
