/**
 * One real room process for the scale-out tests and bench (run with tsx as a child process): a Redis backend, a
 * room host serving the test rooms ('lobby' and 'arena') and the matchmaker on 127.0.0.1, and a line protocol on
 * stdio:
 *   stdout: `READY <id> <port> <geckos URL or ->`, `NOTIFY <domain> <json> at=<ms>`, `DRAINED <json>`,
 *           `PRESENCE <json>`, `STATS <json>` (the host's counters and its geckos.io routing and attempt counters)
 *   stdin:  `publish <domain> <json>`, `presence <roomId>`, `stats`
 * SIGTERM drains (handover by default, `ECSYNC_DRAIN=wait` to wait) and exits 0. Env: ECSYNC_REDIS_URL,
 * ECSYNC_PREFIX, ECSYNC_KEY_SEED (64 hex chars), ECSYNC_CAPACITY (room seats), ECSYNC_DOMAINS (comma-separated),
 * ECSYNC_GECKOS ('shared': geckos.io signalling on the host's HTTP port; 'own': on a port of its own; unset: none),
 * ECSYNC_GECKOS_PORTS ('min-max' UDP range), ECSYNC_GECKOS_MAX_PENDING, ECSYNC_GECKOS_CONNECT_TIMEOUT_MS.
 */
import { createInterface } from 'node:readline';
import nacl from 'tweetnacl';
import { createMatchmaker, createRedisBackend, createRoomHost } from '../src/scale.ts';
import { scaleRoomDefinition } from './scale-room.ts';

const env = process.env;
const keyPair = nacl.sign.keyPair.fromSeed(new Uint8Array(Buffer.from(env.ECSYNC_KEY_SEED ?? '', 'hex')));
const backend = await createRedisBackend({ url: env.ECSYNC_REDIS_URL, prefix: env.ECSYNC_PREFIX });
const matchmaker = createMatchmaker({ backend, keyPair, reservationMs: Number(env.ECSYNC_RESERVATION_MS ?? 10_000) });
const [minPort, maxPort] = (env.ECSYNC_GECKOS_PORTS ?? '').split('-').map(Number);
const geckos =
  env.ECSYNC_GECKOS === 'shared' || env.ECSYNC_GECKOS === 'own'
    ? {
        ...(env.ECSYNC_GECKOS === 'own' ? { port: 0 } : {}),
        ...(minPort && maxPort ? { portRange: { min: minPort, max: maxPort } } : {}),
        ...(env.ECSYNC_GECKOS_MAX_PENDING ? { maxPendingAttempts: Number(env.ECSYNC_GECKOS_MAX_PENDING) } : {}),
        ...(env.ECSYNC_GECKOS_CONNECT_TIMEOUT_MS
          ? { connectTimeoutMs: Number(env.ECSYNC_GECKOS_CONNECT_TIMEOUT_MS) }
          : {}),
      }
    : undefined;
const capacity = Number(env.ECSYNC_CAPACITY ?? 8);
const host = await createRoomHost({
  backend,
  keyPair,
  matchmaker,
  geckos,
  definitions: [scaleRoomDefinition('lobby', capacity), scaleRoomDefinition('arena', capacity)],
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
console.log(`READY ${host.id} ${host.port} ${host.geckos?.url ?? '-'}`);

createInterface({ input: process.stdin }).on('line', (line) => {
  const [op, a, ...rest] = line.split(' ');
  if (op === 'publish') void host.notify(a, JSON.parse(rest.join(' ')) as unknown);
  if (op === 'presence') void backend.presence(a).then((p) => console.log(`PRESENCE ${JSON.stringify(p)}`));
  if (op === 'stats') {
    const g = host.geckos;
    console.log(`STATS ${JSON.stringify({ host: host.stats, geckos: g?.stats, attempts: g?.attempts })}`);
  }
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
