/**
 * ecsync quick start: one server world and two client worlds in one Node process, over the in-memory network
 * with 50 ms latency and 5 % loss. The server moves a box, each client moves its own avatar, and everyone
 * converges. Exits 0 when every world agrees, 1 otherwise.
 *
 * Run: npm run quickstart
 */
import { addComponent, addEntity, createWorld, query } from 'bitecs';
import {
  clientIdOf,
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  isOwnedLocally,
  Networked,
  networkIdOf,
  setOwner,
} from '../../src/index.ts';
import { defineProtocol } from './protocol.ts';

export async function runQuickstart(log: (line: string) => void = console.log): Promise<boolean> {
  const clock = createManualClock();
  const network = createMemoryNetwork({ clock, seed: 7 });
  const lossy = { latencyMs: 50, jitterMs: 5, loss: 0.05 };

  // The server world: authoritative, with one box it moves itself.
  const server = { world: createWorld(), ...defineProtocol() };
  const serverNet = createNetworkPlugin(server.world, {
    role: 'server',
    protocol: server.protocol,
    transport: network.server,
    clock,
  });
  const box = addEntity(server.world);
  addComponent(server.world, box, server.Position);
  addComponent(server.world, box, server.Color);
  addComponent(server.world, box, Networked);
  server.Color.value[box] = 2;

  // Two client worlds, each connected over its own lossy link.
  const clients = [0, 1].map(() => {
    const c = { world: createWorld(), ...defineProtocol() };
    const net = createNetworkPlugin(c.world, {
      role: 'client',
      protocol: c.protocol,
      link: network.connect({ up: lossy, down: lossy }),
      clock,
    });
    return { ...c, net };
  });

  // Each client gets an avatar it owns once it is connected.
  serverNet.events.on('spawn', () => {});
  const avatars = new Map<number, number>();

  const step = (frame: number) => {
    clock.advance(1000 / 60);
    network.pump();
    serverNet.receive(server.world);
    for (const clientId of [1, 2]) {
      if (!avatars.has(clientId) && serverNet.stats().some((s) => s.clientId === clientId)) {
        const eid = addEntity(server.world);
        addComponent(server.world, eid, server.Position);
        addComponent(server.world, eid, server.Color);
        addComponent(server.world, eid, Networked);
        server.Color.value[eid] = clientId - 1;
        setOwner(server.world, eid, clientId);
        avatars.set(clientId, eid);
      }
    }
    // Server game logic: the box goes round in a circle for two seconds.
    if (frame < 120) {
      server.Position.x[box] = Math.cos(frame / 20) * 2;
      server.Position.z[box] = Math.sin(frame / 20) * 2;
    }
    serverNet.send(server.world);
    for (const c of clients) {
      c.net.receive(c.world);
      // Client game logic: move the avatar this client owns.
      for (const eid of query(c.world, [c.Position, Networked])) {
        if (isOwnedLocally(c.world, eid) && frame < 120)
          c.Position.y[eid] = 1 + clientIdOf(c.world) * 0.1 + frame * 0.001;
      }
      c.net.send(c.world);
    }
  };

  for (let frame = 0; frame < 240; frame++) step(frame);

  // Compare every replicated entity on every client with the server.
  let ok = true;
  for (const eid of query(server.world, [Networked, server.Position])) {
    const netId = networkIdOf(server.world, eid);
    for (const [i, c] of clients.entries()) {
      const local = query(c.world, [Networked]).find((e) => networkIdOf(c.world, e) === netId);
      const same =
        local !== undefined &&
        Math.abs(c.Position.x[local] - server.Position.x[eid]) <= 0.0005 &&
        Math.abs(c.Position.y[local] - server.Position.y[eid]) <= 0.0005 &&
        Math.abs(c.Position.z[local] - server.Position.z[eid]) <= 0.0005 &&
        c.Color.value[local] === server.Color.value[eid];
      if (!same) ok = false;
      log(`entity ${netId} on client ${i + 1}: ${same ? 'in sync' : 'DIFFERENT'}`);
    }
  }
  const stats = serverNet.stats();
  log(`server: ${stats.length} clients, rtt ${stats.map((s) => s.rttMs.toFixed(0)).join('/')} ms`);
  for (const c of clients) await c.net.dispose();
  await serverNet.dispose();
  log(ok ? 'converged' : 'NOT converged');
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runQuickstart().then(
    (ok) => process.exit(ok ? 0 : 1),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
