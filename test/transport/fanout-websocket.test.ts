/**
 * Fan-out over a real transport: a server with grid interest and six clients on WebSocket over TCP on 127.0.0.1,
 * real timers. Each client's entities equal a brute-force distance check around its viewpoint, follow it when it
 * jumps, and carry the server's latest values.
 */
import { createWorld, query } from 'bitecs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  clientIdOf,
  createNetworkPlugin,
  createRandom,
  createWebSocketClientTransport,
  entityOfNetworkId,
  Networked,
  networkIdOf,
  setViewPosition,
} from '../../src/index.ts';
import { createWebSocketServerTransport } from '../../src/server.ts';
import { defineFixture, spawn, type Peer } from '../helpers/fixture.ts';
import { sleep, waitFor } from './real-link-kit.ts';

const cleanups: Array<() => unknown> = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const RADIUS = 8;

describe('fan-out over WebSocket on 127.0.0.1', () => {
  it("each client's entities follow its viewpoint and carry the server's values", async () => {
    const transport = await createWebSocketServerTransport({ port: 0, host: '127.0.0.1' });
    const fx = defineFixture();
    const world = createWorld();
    const net = createNetworkPlugin(world, {
      role: 'server',
      protocol: fx.protocol,
      transport,
      sendRateHz: 60,
      interest: {
        rateHz: 20,
        grid: { cellSize: 4, radius: RADIUS, position: { component: fx.Pose, x: 'px', y: 'py', z: 'pz' } },
      },
    });
    const server: Peer = { ...fx, world, net, errors: [] };
    cleanups.push(() => net.dispose());
    const rnd = createRandom(51);
    const ents: number[] = [];
    for (let i = 0; i < 300; i++) {
      const e = spawn(server, [fx.Pose, fx.Ints]);
      fx.Pose.px[e] = rnd.range(0, 40);
      fx.Pose.pz[e] = rnd.range(0, 40);
      ents.push(e);
    }
    const clients: Peer[] = [];
    for (let i = 0; i < 6; i++) {
      const cfx = defineFixture();
      const cworld = createWorld();
      const cnet = createNetworkPlugin(cworld, {
        role: 'client',
        protocol: cfx.protocol,
        transport: createWebSocketClientTransport({ url: `ws://127.0.0.1:${transport.port}/ecsync` }),
        sendRateHz: 60,
      });
      cleanups.push(() => cnet.dispose());
      clients.push({ ...cfx, world: cworld, net: cnet, errors: [] });
    }
    let tick = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        // A tenth of the entities change every frame.
        tick++;
        for (let k = 0; k < 30; k++) fx.Ints.u32[ents[rnd.int(ents.length)]] = tick;
        for (const p of [server, ...clients]) {
          p.net.receive(p.world);
          p.net.send(p.world);
        }
        await sleep(5);
      }
    })();
    cleanups.push(async () => {
      running = false;
      await loop;
    });
    await waitFor(() => clients.every((c) => clientIdOf(c.world) !== 0), 5000, 'every client to be welcomed');
    const views = clients.map(() => [rnd.range(5, 35), 0, rnd.range(5, 35)]);
    const expectedOf = (i: number) =>
      new Set(
        ents
          .filter((e) => Math.hypot(fx.Pose.px[e] - views[i][0], fx.Pose.pz[e] - views[i][2]) <= RADIUS)
          .map((e) => networkIdOf(world, e)),
      );
    const netIds = (c: Peer) => new Set([...query(c.world, [Networked])].map((e) => networkIdOf(c.world, e)));
    const sameSet = (a: Set<number>, b: Set<number>) => a.size === b.size && [...a].every((x) => b.has(x));
    for (let round = 0; round < 3; round++) {
      clients.forEach((c, i) => {
        if (round > 0) views[i] = [rnd.range(5, 35), 0, rnd.range(5, 35)]; // a jump
        setViewPosition(world, clientIdOf(c.world), views[i][0], views[i][1], views[i][2]);
      });
      await waitFor(
        () => clients.every((c, i) => sameSet(netIds(c), expectedOf(i))),
        10_000,
        () => `round ${round}: every client's entities to equal the brute-force set`,
      );
    }
    // Values: pause the changes, then every client holds the server's value of every entity it has.
    running = false;
    await loop;
    running = true;
    const settle = (async () => {
      while (running) {
        for (const p of [server, ...clients]) {
          p.net.receive(p.world);
          p.net.send(p.world);
        }
        await sleep(5);
      }
    })();
    cleanups.push(async () => {
      running = false;
      await settle;
    });
    const settled = () =>
      clients.every((c, i) =>
        [...expectedOf(i)].every((netId) => {
          const e = ents.find((x) => networkIdOf(world, x) === netId)!;
          return c.Ints.u32[entityOfNetworkId(c.world, netId)] === fx.Ints.u32[e];
        }),
      );
    await waitFor(settled, 10_000, "every client to hold the server's values");
    expect(settled()).toBe(true);
    expect(clients.every((c) => c.errors.length === 0)).toBe(true);
  }, 30_000);
});
