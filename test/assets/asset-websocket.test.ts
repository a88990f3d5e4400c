/**
 * Assets over a real transport: the WebSocket server and two WebSocket clients on 127.0.0.1, each world ticked by
 * real timers. A offers a 400 kB model; the server pulls it, checks it and offers it to B, which receives it intact.
 */
import { createWorld } from 'bitecs';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectionStateOf,
  createClientAssets,
  createNetworkPlugin,
  createServerAssets,
  createWebSocketClientTransport,
  type AssetManifest,
  type NetworkPlugin,
  type ReceivedAsset,
} from '../../src/index.ts';
import { createWebSocketServerTransport } from '../../src/server.ts';
import { defineFixture } from '../helpers/fixture.ts';
import { waitFor } from '../transport/real-link-kit.ts';
import { noise, same } from './asset-room.ts';

const HOST = '127.0.0.1';
const TICK_MS = 10;

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('assets over WebSocket (TCP on 127.0.0.1)', () => {
  it('a client’s model reaches another client through the server, verified', async () => {
    const transport = await createWebSocketServerTransport({ port: 0, host: HOST });
    const serverWorld = createWorld();
    const server = createNetworkPlugin(serverWorld, {
      role: 'server',
      protocol: defineFixture().protocol,
      transport,
      bandwidthKbps: 8000,
    });
    cleanups.push(() => server.dispose());
    const assets = createServerAssets(serverWorld);
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
      cleanups.push(() => net.dispose());
      return { world, net, assets: createClientAssets(world, { uploadKbps: 4000 }) };
    };
    const a = join();
    const b = join();
    await waitFor(
      () => connectionStateOf(a.world) === 'connected' && connectionStateOf(b.world) === 'connected',
      5000,
      'both clients to connect',
    );
    const got: ReceivedAsset[] = [];
    const uploaded: AssetManifest[] = [];
    b.assets.events.on('received', (r) => got.push(r));
    a.assets.events.on('uploaded', (m) => uploaded.push(m));
    const bytes = noise(400_000, 11);
    const m = await a.assets.offer(bytes, { name: 'duck.glb', mime: 'model/gltf-binary' });
    await waitFor(() => got.length > 0, 20_000, 'the model at B');
    expect(uploaded.map((u) => u.hash)).toEqual([m.hash]);
    expect(got[0].manifest).toEqual(m);
    expect(got[0].cached).toBe(false);
    expect(same(got[0].bytes, bytes)).toBe(true);
    expect(assets.catalog()).toEqual([m]);
    expect(assets.stats().corrupt).toBe(0);
  }, 30_000);
});
