/**
 * Scale-out in one command (`npm run scale-example`): a redis-server on 127.0.0.1 (Debian's, started and stopped by
 * pid), two room processes (child processes running harness/scale-process.ts, each also serving the matchmaker),
 * and six clients joining the 'lobby' through the matchmaker over WebSocket. It prints where each client landed,
 * publishes a Notify that both processes receive, then sends SIGTERM to one process and shows its clients following
 * their room to the other one.
 */
import { randomBytes } from 'node:crypto';
import { joinRoom } from '../../src/index.ts';
import type { RoomClient } from '../../src/index.ts';
import { createRedisBackend } from '../../src/scale.ts';
import { startRedisServer } from '../../harness/redis-server.ts';
import { startScaleProcess, stopScaleProcesses } from '../../harness/scale-cluster.ts';
import { counterOf, createScaleWorld } from '../../harness/scale-room.ts';

type World = ReturnType<typeof createScaleWorld>['world'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redis = await startRedisServer();
console.log(`redis-server on ${redis.url} (pid ${redis.pid})`);
const prefix = 'example';
const backend = await createRedisBackend({ url: redis.url, prefix });
const opts = {
  redisUrl: redis.url,
  prefix,
  keySeedHex: randomBytes(32).toString('hex'),
  domains: ['chat'],
  capacity: 4,
};
const procs = await Promise.all([startScaleProcess(opts), startScaleProcess(opts)]);
for (const p of procs) console.log(`room process ${p.id} (pid ${p.pid}), matchmaker at ${p.url}`);

const clients: RoomClient<World>[] = [];
const frames = setInterval(() => {
  for (const c of clients) {
    c.net.receive(c.world);
    c.net.send(c.world);
  }
}, 16);
try {
  for (let i = 0; i < 6; i++) {
    const client = await joinRoom({
      matchmaker: procs[i % 2].url,
      room: 'lobby',
      userId: `user-${i}`,
      create: createScaleWorld,
      reconnect: false,
      onMove: (c) => console.log(`  user-${i} followed room ${c.seat.roomId.slice(0, 8)} (move ${c.moves})`),
    });
    clients.push(client);
  }
  await sleep(500);
  for (const r of await backend.listRooms('lobby'))
    console.log(`room ${r.id.slice(0, 8)} on ${r.process}: ${r.clients}/${r.capacity} clients`);
  for (const c of clients) console.log(`  ${c.seat.userId} sees counter ${counterOf(c.world)}`);

  procs[0].send('publish chat {"text":"hello from process 1"}');
  for (const p of procs) console.log(`${p.id} got: ${(await p.waitFor(/^NOTIFY chat/)).split(' at=')[0]}`);

  console.log(`SIGTERM to ${procs[0].id}: it hands its rooms over`);
  procs[0].kill('SIGTERM');
  console.log((await procs[0].waitFor(/^DRAINED /)).trim());
  await sleep(1500);
  for (const r of await backend.listRooms('lobby'))
    console.log(`room ${r.id.slice(0, 8)} on ${r.process}: ${r.clients}/${r.capacity} clients`);
} finally {
  clearInterval(frames);
  for (const c of clients) await c.dispose().catch(() => undefined);
  await stopScaleProcesses(procs);
  await backend.close();
  await redis.stop();
}
