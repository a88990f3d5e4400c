/**
 * Short strings over a real transport: a server and two clients on WebSocket over TCP on 127.0.0.1, real timers.
 * The server's names reach both clients on spawn; a rename goes out on the reliable lane; a client's rename of
 * what it owns reaches the server and the other client.
 */
import { createWorld } from 'bitecs';
import { afterAll, describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import {
  createNetworkPlugin,
  createWebSocketClientTransport,
  entityOfNetworkId,
  networkIdOf,
  setOwner,
  shortStringStatsOf,
  type NetworkPlugin,
} from '../../src/index.ts';
import { createWebSocketServerTransport } from '../../src/server.ts';
import { defineStringFixture, spawnWith, type StringPeer } from '../helpers/strings-fixture.ts';
import { sleep, waitFor } from './real-link-kit.ts';

const cleanups: Array<() => unknown> = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('short strings over WebSocket on 127.0.0.1', () => {
  it('names replicate on spawn, on a server rename and on an owner rename', async () => {
    const transport = await createWebSocketServerTransport({ port: 0, host: '127.0.0.1' });
    const fx = defineStringFixture();
    const world = createWorld();
    const server: StringPeer = {
      ...fx,
      world,
      errors: [],
      net: createNetworkPlugin(world, { role: 'server', protocol: fx.protocol, transport, sendRateHz: 60 }),
    };
    cleanups.push(() => server.net.dispose());
    const clients: StringPeer[] = [];
    for (let i = 0; i < 2; i++) {
      const cfx = defineStringFixture();
      const cworld = createWorld();
      const net: NetworkPlugin = createNetworkPlugin(cworld, {
        role: 'client',
        protocol: cfx.protocol,
        transport: createWebSocketClientTransport({ url: `ws://127.0.0.1:${transport.port}/ecsync` }),
        sendRateHz: 60,
      });
      cleanups.push(() => net.dispose());
      clients.push({ ...cfx, world: cworld, net, errors: [] });
    }
    let running = true;
    const loop = (async () => {
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
      await loop;
    });
    const clientId = (p: StringPeer) => {
      const ctx = getNetContext(p.world);
      return ctx.role === 'client' ? ctx.session.clientId : 0;
    };
    await waitFor(() => clients.every((c) => clientId(c) !== 0), 5000, 'both clients to be welcomed');

    const e = spawnWith(server, [server.Body, server.Label]);
    server.Label.name[e] = 'Zoë 🎉';
    const netId = () => networkIdOf(server.world, e);
    const local = (c: StringPeer) => entityOfNetworkId(c.world, netId());
    const nameAt = (c: StringPeer) => (local(c) === 0 ? undefined : c.Label.name[local(c)]);
    await waitFor(() => clients.every((c) => nameAt(c) === 'Zoë 🎉'), 5000, 'the spawned name on both clients');

    server.Label.name[e] = '日本語のラベル';
    await waitFor(() => clients.every((c) => nameAt(c) === '日本語のラベル'), 5000, 'the server rename');
    expect(shortStringStatsOf(server.world).reliableDeltas).toBeGreaterThan(0);

    setOwner(server.world, e, clientId(clients[0]));
    await waitFor(
      () => getNetContext(clients[0].world).replicator.registry.owner[local(clients[0])] === clientId(clients[0]),
      5000,
      'the grant',
    );
    clients[0].Label.name[local(clients[0])] = 'renamed by its owner ✓';
    await waitFor(
      () => server.Label.name[e] === 'renamed by its owner ✓' && nameAt(clients[1]) === 'renamed by its owner ✓',
      5000,
      () => `the owner rename (server '${server.Label.name[e]}', other client '${nameAt(clients[1])}')`,
    );
    expect(shortStringStatsOf(clients[0].world).reliableDeltas).toBeGreaterThan(0);
  });
});
