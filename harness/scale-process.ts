/**
 * One real room process for the scale-out tests and bench (run with tsx as a child process): a Redis backend, a
 * room host serving the test room and the matchmaker on 127.0.0.1, and a line protocol on stdio:
 *   stdout: `READY <id> <port>`, `NOTIFY <domain> <json> at=<ms>`, `DRAINED <json>`, `PRESENCE <json>`
 *   stdin:  `publish <domain> <json>`, `presence <roomId>`
 * SIGTERM drains (handover by default, `ECSYNC_DRAIN=wait` to wait) and exits 0. Env: ECSYNC_REDIS_URL,
 * ECSYNC_PREFIX, ECSYNC_KEY_SEED (64 hex chars), ECSYNC_CAPACITY (room seats), ECSYNC_DOMAINS (comma-separated).
 */
import { createInterface } from 'node:readline';
import nacl from 'tweetnacl';
import { createMatchmaker, createRedisBackend, createRoomHost } from '../src/scale.ts';
import { scaleRoomDefinition } from './scale-room.ts';

const env = process.env;
const keyPair = nacl.sign.keyPair.fromSeed(new Uint8Array(Buffer.from(env.ECSYNC_KEY_SEED ?? '', 'hex')));
const backend = await createRedisBackend({ url: env.ECSYNC_REDIS_URL, prefix: env.ECSYNC_PREFIX });
const matchmaker = createMatchmaker({ backend, keyPair, reservationMs: Number(env.ECSYNC_RESERVATION_MS ?? 10_000) });
const host = await createRoomHost({
  backend,
  keyPair,
  matchmaker,
  definitions: [scaleRoomDefinition('lobby', Number(env.ECSYNC_CAPACITY ?? 8))],
  heartbeatMs: 250,
  processTtlMs: 1000,
  idleDisposeMs: 60_000,
});
for (const domain of (env.ECSYNC_DOMAINS ?? '').split(',').filter(Boolean)) {
  // The receive time (ms since the epoch, sub-ms) lets a bench on this machine measure the latency.
  await host.onNotify(domain, (event) =>
    console.log(
      `NOTIFY ${domain} ${JSON.stringify(event)} at=${(performance.timeOrigin + performance.now()).toFixed(3)}`,
    ),
  );
}
console.log(`READY ${host.id} ${host.port}`);

createInterface({ input: process.stdin }).on('line', (line) => {
  const [op, a, ...rest] = line.split(' ');
  if (op === 'publish') void host.notify(a, JSON.parse(rest.join(' ')) as unknown);
  if (op === 'presence') void backend.presence(a).then((p) => console.log(`PRESENCE ${JSON.stringify(p)}`));
});
process.once('SIGTERM', () => {
  void host
    .drain({ mode: env.ECSYNC_DRAIN === 'wait' ? 'wait' : 'handover', deadlineMs: 2000 })
    .then(async (report) => {
      console.log(`DRAINED ${JSON.stringify(report)}`);
      await backend.close();
      process.exit(0);
    });
});
