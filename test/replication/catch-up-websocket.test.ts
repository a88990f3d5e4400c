/**
 * Catch-up over a real transport: a WebSocket server on 127.0.0.1 and two WebSocket clients ticked by real timers.
 * A's socket is closed under it; it reconnects, resumes, and is caught up by a Deltas batch (no snapshot), ending
 * equal to B, which stayed.
 */
import { addEntity, addComponent, createWorld, removeEntity } from 'bitecs';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import {
  catchUpStatsOf,
  connectionStateOf,
  createNetworkPlugin,
  createWebSocketClientTransport,
  Networked,
  type NetworkPlugin,
} from '../../src/index.ts';
import { getNetContext } from '../../src/context.ts';
import { createWebSocketServerTransport } from '../../src/server.ts';
import type { ClientTransport, Link } from '../../src/transport/transport.ts';
import { defineFixture, dump, type Peer } from '../helpers/fixture.ts';
import { sleep, waitFor } from '../transport/real-link-kit.ts';

const HOST = '127.0.0.1';
const TICK_MS = 10;

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('catch-up over WebSocket (TCP on 127.0.0.1)', () => {
  it('a client whose socket closes resumes and is caught up by a batch', async () => {
    const transport = await createWebSocketServerTransport({ port: 0, host: HOST });
    const sfx = defineFixture();
    const serverWorld = createWorld();
    const server = createNetworkPlugin(serverWorld, { role: 'server', protocol: sfx.protocol, transport });
    cleanups.push(() => server.dispose());
    const ticking: Array<[object, NetworkPlugin]> = [[serverWorld, server]];
    const entities: number[] = [];
    let frame = 0;
    const timer = setInterval(() => {
      frame++;
      for (let i = 0; i < 5; i++) sfx.Pose.px[entities[i]] = ((frame + i) % 200) / 8;
      for (const [w, net] of ticking) {
        net.receive(w);
        net.send(w);
      }
    }, TICK_MS);
    cleanups.push(() => clearInterval(timer));
    for (let i = 0; i < 30; i++) {
      const e = addEntity(serverWorld);
      addComponent(serverWorld, e, sfx.Pose);
      addComponent(serverWorld, e, Networked);
      entities.push(e);
    }
    const join = () => {
      const fx = defineFixture();
      const world = createWorld();
      const links: Link[] = [];
      const ws = createWebSocketClientTransport({ url: `ws://${HOST}:${transport.port}/ecsync`, WebSocket });
      const counting: ClientTransport = {
        connect: async () => {
          const link = await ws.connect();
          links.push(link);
          return link;
        },
      };
      const net = createNetworkPlugin(world, {
        role: 'client',
        protocol: fx.protocol,
        transport: counting,
        reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      });
      cleanups.push(() => net.dispose());
      ticking.push([world, net]);
      const peer: Peer = { ...fx, world, net, errors: [] };
      return { peer, links };
    };
    const a = join();
    const b = join();
    await waitFor(
      () => connectionStateOf(a.peer.world) === 'connected' && connectionStateOf(b.peer.world) === 'connected',
      5000,
      'both clients to connect',
    );
    await waitFor(() => dump(a.peer).size === 30 && dump(b.peer).size === 30, 5000, 'the room at both clients');
    // A's socket closes; the server suspends it, it reconnects and resumes; meanwhile one entity is destroyed.
    a.links[0].close('test drop');
    removeEntity(serverWorld, entities[29]);
    await waitFor(
      () => a.links.length === 2 && connectionStateOf(a.peer.world) === 'connected',
      5000,
      'A to resume on a new socket',
    );
    const st = () => catchUpStatsOf(serverWorld);
    await waitFor(
      () => {
        const s = st();
        return s.role === 'server' && s.catchUps + s.tooOld + s.tooLarge + s.waitTimeouts + s.malformed > 0;
      },
      5000,
      'the catch-up',
    );
    const s = st();
    expect(s.role === 'server' && s.catchUps).toBe(1);
    const ctx = getNetContext(serverWorld);
    expect(ctx.role === 'server' && ctx.replicator.counters.snapshots).toBe(2);
    // Motion stops; both clients settle to the server's state.
    const last = frame;
    clearInterval(timer);
    const still = setInterval(() => {
      for (const [w, net] of ticking) {
        net.receive(w);
        net.send(w);
      }
    }, TICK_MS);
    cleanups.push(() => clearInterval(still));
    await sleep(300);
    expect(frame).toBe(last);
    expect(dump(a.peer).size).toBe(29);
    expect(dump(a.peer)).toEqual(dump(b.peer));
  });
});
