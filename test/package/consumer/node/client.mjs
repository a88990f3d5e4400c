// A client on `ecsync` alone in plain Node, given the server's ws:// URL. No WebSocket option: on Node 20 ecsync
// loads `ws` itself, on Node >= 22 it uses the global WebSocket. Exits 0 once it sees the server's box and has moved
// the avatar the server gave it; 1 on its deadline.
import { createWorld, query } from 'bitecs';
import { createNetworkPlugin, createWebSocketClientTransport, isOwnedLocally, Networked } from 'ecsync';
import { AVATAR_Y, BOX, defineProtocol, near } from './protocol.mjs';

const DEADLINE_MS = 30_000;
/** Ticks the client keeps sending after it moved its avatar, so the server sees it before the client leaves. */
const LINGER_TICKS = 120;

const { protocol, Position, Color } = defineProtocol();
const world = createWorld();
const transport = createWebSocketClientTransport({ url: process.argv[2] });
const net = createNetworkPlugin(world, { role: 'client', protocol, transport });

let sawBox = false;
let moved = 0;
let done = false;
const finish = async (code, line) => {
  if (done) return;
  done = true;
  clearInterval(loop);
  clearTimeout(deadline);
  console.log(line);
  await net.dispose();
  process.exit(code);
};
const loop = setInterval(() => {
  if (done) return;
  net.receive(world);
  for (const eid of query(world, [Networked, Position])) {
    if (isOwnedLocally(world, eid)) {
      Position.y[eid] = AVATAR_Y;
      moved++;
    } else if (
      near(Position.x[eid], BOX.x) &&
      near(Position.y[eid], BOX.y) &&
      near(Position.z[eid], BOX.z) &&
      Color.value[eid] === BOX.color
    ) {
      sawBox = true;
    }
  }
  net.send(world);
  if (sawBox && moved >= LINGER_TICKS) void finish(0, 'client: saw the box and moved its avatar');
}, 1000 / 60);
const deadline = setTimeout(
  () => void finish(1, `client: deadline passed (box seen: ${sawBox}, avatar moves: ${moved})`),
  DEADLINE_MS,
);
