/**
 * Awareness over a real transport: the WebSocket server and two WebSocket clients on 127.0.0.1, each world ticked
 * by real timers. A's selection, tool and cursor reach B; A leaving clears it for B.
 */
import { createWorld } from 'bitecs';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import {
  clientIdOf,
  connectionStateOf,
  createClientAwareness,
  createNetworkPlugin,
  createServerAwareness,
  createWebSocketClientTransport,
  type NetworkPlugin,
} from '../../src/index.ts';
import { createWebSocketServerTransport } from '../../src/server.ts';
import { defineFixture } from '../helpers/fixture.ts';
import { waitFor } from '../transport/real-link-kit.ts';
import { roomAwareness } from './schema-fixture.ts';

const HOST = '127.0.0.1';
/** Every world is ticked this often (the plugins send at their own 30 Hz inside). */
const TICK_MS = 10;

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('awareness over WebSocket (TCP on 127.0.0.1)', () => {
  it('relays a selection, a tool and a cursor between two clients, and clears a user who leaves', async () => {
    const transport = await createWebSocketServerTransport({ port: 0, host: HOST });
    const serverWorld = createWorld();
    const server = createNetworkPlugin(serverWorld, {
      role: 'server',
      protocol: defineFixture().protocol,
      transport,
    });
    cleanups.push(() => server.dispose());
    const relay = createServerAwareness(serverWorld, { schema: roomAwareness });
    const ticking: Array<[object, NetworkPlugin]> = [[serverWorld, server]];
    const timer = setInterval(() => {
      for (const [w, net] of ticking) {
        net.receive(w);
        net.send(w);
      }
    }, TICK_MS);
    cleanups.push(() => clearInterval(timer));

    const join = () => {
      const world = createWorld();
      const net = createNetworkPlugin(world, {
        role: 'client',
        protocol: defineFixture().protocol,
        transport: createWebSocketClientTransport({ url: `ws://${HOST}:${transport.port}/ecsync`, WebSocket }),
      });
      ticking.push([world, net]);
      return { world, net, aw: createClientAwareness(world, { schema: roomAwareness }) };
    };
    const a = join();
    const b = join();
    await waitFor(
      () => connectionStateOf(a.world) === 'connected' && connectionStateOf(b.world) === 'connected',
      5000,
      'both clients to connect',
    );
    const aId = clientIdOf(a.world);
    a.aw.set({ selection: [3, 4], tool: 'move', cursor: [0.5, 1.25, -2] });
    await waitFor(() => b.aw.get(aId)?.cursor !== undefined && b.aw.get(aId)?.tool === 'move', 5000, "A's record at B");
    expect(b.aw.get(aId)).toEqual({ selection: [3, 4], tool: 'move', cursor: [0.5, 1.25, -2] });
    expect(relay.get(aId)?.selection).toEqual([3, 4]);

    const cleared: string[] = [];
    b.aw.events.on('cleared', (id, why) => id === aId && cleared.push(why));
    ticking.splice(1, 1);
    await a.net.dispose();
    await waitFor(() => cleared.length > 0, 5000, "A's record to be cleared at B");
    expect(cleared).toEqual(['left']);
    expect(b.aw.get(aId)).toBeUndefined();
    expect(relay.users()).toEqual([]);
    await b.net.dispose();
    ticking.splice(1, 1);
  });
});
