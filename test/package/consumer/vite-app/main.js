// A browser app on `ecsync` (no geckos.io package installed): a server world and a client world over the in-memory
// network with 40 ms latency and 5 % loss, stepped on the manual clock until the client sees the server's box.
// A WebSocket client transport is created too (not connected), so the bundle carries it. Reports on `window.__result`.
import { addComponent, addEntity, createWorld, query } from 'bitecs';
import {
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  createWebSocketClientTransport,
  field,
  Networked,
  registerComponent,
} from 'ecsync';

const MAX_ENTITIES = 64;
const STEPS = 240;

function defineProtocol() {
  const Position = { x: new Float32Array(MAX_ENTITIES), y: new Float32Array(MAX_ENTITIES) };
  const protocol = createProtocol();
  const mm = field.quantized(-50, 50, 0.001);
  registerComponent(protocol, Position, { name: 'Position', fields: { x: mm, y: mm } });
  return { protocol, Position };
}

async function run() {
  const ws = createWebSocketClientTransport({ url: `ws://${location.host}/ecsync` });
  if (typeof ws.connect !== 'function') throw new Error('no WebSocket client transport');

  const clock = createManualClock();
  const network = createMemoryNetwork({ clock, seed: 3 });
  const lossy = { latencyMs: 40, jitterMs: 5, loss: 0.05 };
  const server = { world: createWorld(), ...defineProtocol() };
  const serverNet = createNetworkPlugin(server.world, {
    role: 'server',
    protocol: server.protocol,
    transport: network.server,
    clock,
  });
  const box = addEntity(server.world);
  addComponent(server.world, box, server.Position);
  addComponent(server.world, box, Networked);
  const client = { world: createWorld(), ...defineProtocol() };
  const clientNet = createNetworkPlugin(client.world, {
    role: 'client',
    protocol: client.protocol,
    link: network.connect({ up: lossy, down: lossy }),
    clock,
  });
  for (let frame = 0; frame < STEPS; frame++) {
    clock.advance(1000 / 60);
    network.pump();
    serverNet.receive(server.world);
    if (frame < STEPS / 2) server.Position.x[box] = Math.cos(frame / 20) * 2;
    server.Position.y[box] = 1.25;
    serverNet.send(server.world);
    clientNet.receive(client.world);
    clientNet.send(client.world);
  }
  const seen = query(client.world, [Networked, client.Position]).map((eid) => [
    client.Position.x[eid],
    client.Position.y[eid],
  ]);
  const want = [server.Position.x[box], server.Position.y[box]];
  const converged =
    seen.length === 1 && Math.abs(seen[0][0] - want[0]) <= 0.0005 && Math.abs(seen[0][1] - want[1]) <= 0.0005;
  await clientNet.dispose();
  await serverNet.dispose();
  return { converged, seen, want };
}

run().then(
  (result) => {
    window.__result = result;
    document.getElementById('out').textContent = JSON.stringify(result);
  },
  (error) => {
    window.__result = { converged: false, error: String(error) };
    throw error;
  },
);
