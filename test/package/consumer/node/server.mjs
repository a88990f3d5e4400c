// A WebSocket server on `ecsync/server` in plain Node: one box it owns, one avatar per client, owned by that client.
// Prints {"port":N} once listening; exits 0 once it has seen a client move its avatar, 1 on its deadline.
import { addComponent, addEntity, createWorld } from 'bitecs';
import { connectedClients, createNetworkPlugin, Networked, NetError, setOwner } from 'ecsync';
import { createGeckosServerTransport, createWebSocketServerTransport } from 'ecsync/server';
import { advertise } from 'ecsync/discovery';
import { AVATAR_Y, BOX, defineProtocol, near } from './protocol.mjs';

const DEADLINE_MS = 30_000;

// The geckos peer is not installed: asking for its transport is a NetError naming the package.
const missing = await createGeckosServerTransport({ port: 0 }).then(
  () => null,
  (error) => error,
);
if (!(missing instanceof NetError) || missing.code !== 'Usage' || missing.fix !== 'npm install @geckos.io/server') {
  console.error('expected a Usage NetError for the missing @geckos.io/server, got', missing);
  process.exit(1);
}

// Nor is multicast-dns: importing ecsync/discovery works, advertising says what to install.
const noMdns = await advertise({ name: 'room', port: 1 }).then(
  () => null,
  (error) => error,
);
if (!(noMdns instanceof NetError) || noMdns.code !== 'Usage' || noMdns.fix !== 'npm install multicast-dns') {
  console.error('expected a Usage NetError for the missing multicast-dns, got', noMdns);
  process.exit(1);
}

const { protocol, Position, Color } = defineProtocol();
const world = createWorld();
const transport = await createWebSocketServerTransport({ port: 0, host: '127.0.0.1' });
const net = createNetworkPlugin(world, { role: 'server', protocol, transport });

const box = addEntity(world);
addComponent(world, box, Position);
addComponent(world, box, Color);
addComponent(world, box, Networked);
Position.x[box] = BOX.x;
Position.y[box] = BOX.y;
Position.z[box] = BOX.z;
Color.value[box] = BOX.color;

const avatars = new Map();
let done = false;
const finish = async (code, line) => {
  if (done) return;
  done = true;
  clearInterval(loop);
  clearTimeout(deadline);
  console.log(line);
  await net.dispose();
  await transport.close();
  process.exit(code);
};
const loop = setInterval(() => {
  if (done) return;
  net.receive(world);
  for (const clientId of connectedClients(world)) {
    if (avatars.has(clientId)) continue;
    const eid = addEntity(world);
    addComponent(world, eid, Position);
    addComponent(world, eid, Networked);
    setOwner(world, eid, clientId);
    avatars.set(clientId, eid);
  }
  for (const eid of avatars.values()) {
    if (near(Position.y[eid], AVATAR_Y)) return void finish(0, 'server: saw the client move its avatar');
  }
  net.send(world);
}, 1000 / 60);
const deadline = setTimeout(() => void finish(1, 'server: deadline passed'), DEADLINE_MS);
console.log(JSON.stringify({ port: transport.port }));
