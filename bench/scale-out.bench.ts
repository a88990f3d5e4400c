/**
 * Scale-out on this machine: a real redis-server and N real room processes (child processes, harness/scale-process.ts).
 * (1) Joins per second through the HTTP matchmaker (seat taken atomically, rooms created on the least-loaded
 * process), 16 joins in flight. (2) Notify latency across processes: this process publishes on Redis, every room
 * process stamps the receipt (same clock); p50/p99. (3) Clients served: C WebSocket clients joined through the
 * matchmaker and stepped at 30 Hz for a window, with each process's CPU time over that window (from /proc), so
 * clients per core of room process can be read off; the clients themselves run in this process and are not counted.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { byScale, type BenchContext } from './harness.ts';
import { joinRoom, requestSeat } from '../src/index.ts';
import type { RoomClient } from '../src/index.ts';
import { createRedisBackend } from '../src/scale.ts';
import { startRedisServer } from '../harness/redis-server.ts';
import { startScaleProcess, stopScaleProcesses } from '../harness/scale-cluster.ts';
import type { ScaleProcess } from '../harness/scale-cluster.ts';
import { createScaleWorld } from '../harness/scale-room.ts';

/** Joins in flight at once in the join-rate run: a busy lobby, well under the matchmaker's cap of 256. */
const JOINS_IN_FLIGHT = 16;
/** Client step rate in the served-clients run. */
const CLIENT_HZ = 30;
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => performance.timeOrigin + performance.now();

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ; // utime + stime
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function joinRate(
  procs: readonly ScaleProcess[],
  joins: number,
): Promise<{ joins: number; perSecond: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < joins) {
      const i = next++;
      await requestSeat({ matchmaker: procs[i % procs.length].url, room: 'lobby' }).catch(() => failed++);
    }
  };
  await Promise.all(Array.from({ length: JOINS_IN_FLIGHT }, worker));
  return { joins, perSecond: joins / ((performance.now() - t0) / 1000), failed };
}

async function notifyLatency(
  procs: readonly ScaleProcess[],
  backend: Awaited<ReturnType<typeof createRedisBackend>>,
  messages: number,
): Promise<{ messages: number; deliveries: number; p50Ms: number; p99Ms: number }> {
  const from = procs.map((p) => p.lines.length);
  for (let i = 0; i < messages; i++) {
    await backend.publish('bench', JSON.stringify({ f: 'bench', e: { i, t: nowMs() } }));
    await sleep(5);
  }
  await sleep(500);
  const latencies: number[] = [];
  for (const [k, p] of procs.entries()) {
    for (const line of p.lines.slice(from[k])) {
      const m = /^NOTIFY bench (\{.*\}) at=([\d.]+)$/.exec(line);
      if (!m) continue;
      const { t } = JSON.parse(m[1]) as { t: number };
      latencies.push(Number(m[2]) - t);
    }
  }
  latencies.sort((a, b) => a - b);
  return { messages, deliveries: latencies.length, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) };
}

async function clientsServed(procs: readonly ScaleProcess[], clients: number, windowMs: number) {
  const joined: RoomClient<ReturnType<typeof createScaleWorld>['world']>[] = [];
  // Like game loops: every client joined so far is stepped while the others join.
  const step = setInterval(() => {
    for (const c of joined) {
      c.net.receive(c.world);
      c.net.send(c.world);
    }
  }, 1000 / CLIENT_HZ);
  for (let i = 0; i < clients; i++)
    joined.push(
      await joinRoom({
        matchmaker: procs[i % procs.length].url,
        room: 'lobby',
        create: createScaleWorld,
        reconnect: false,
      }),
    );
  await sleep(500);
  const cpu0 = procs.map((p) => cpuSeconds(p.pid));
  await sleep(windowMs);
  const cpu = procs.map((p, i) => cpuSeconds(p.pid) - cpu0[i]);
  const connected = joined.filter((c) => c.net.stats().length === 1).length;
  clearInterval(step);
  for (const c of joined) await c.net.dispose();
  const cores = cpu.reduce((a, b) => a + b, 0) / (windowMs / 1000);
  return {
    clients,
    connected,
    processes: procs.length,
    cpuCoresUsed: cores,
    clientsPerCore: connected / Math.max(cores, 1e-3),
  };
}

export const scaleOutFamily: BenchFamily = {
  name: 'scale-out',
  title: 'Scale-out: matchmaker joins, Notify across processes, clients served by N processes',
  async run(ctx: BenchContext): Promise<FamilyResult> {
    const n = byScale(ctx.scale, { full: 3, quick: 3, tiny: 2 });
    const joins = byScale(ctx.scale, { full: 1000, quick: 300, tiny: 24 });
    const messages = byScale(ctx.scale, { full: 400, quick: 150, tiny: 10 });
    const clients = byScale(ctx.scale, { full: 96, quick: 48, tiny: 6 });
    const windowMs = byScale(ctx.scale, { full: 5000, quick: 3000, tiny: 500 });
    const redis = await startRedisServer();
    const prefix = `bench${Date.now()}`;
    const backend = await createRedisBackend({ url: redis.url, prefix });
    const opts = { redisUrl: redis.url, prefix, keySeedHex: randomBytes(32).toString('hex'), domains: ['bench'] };
    let procs: ScaleProcess[] = [];
    try {
      const task = ctx.progress.start(`scale-out: ${n} room processes`);
      procs = await Promise.all(Array.from({ length: n }, () => startScaleProcess(opts)));
      task.end(`${n} processes ready`);
      const jt = ctx.progress.start(`scale-out joins (${joins})`);
      const join = await joinRate(procs, joins);
      jt.end(`${join.perSecond.toFixed(0)} joins/s, ${join.failed} failed`);
      const nt = ctx.progress.start(`scale-out Notify latency (${messages} x ${n})`);
      const notify = await notifyLatency(procs, backend, messages);
      nt.end(`p50 ${notify.p50Ms.toFixed(2)} ms, p99 ${notify.p99Ms.toFixed(2)} ms`);
      const ct = ctx.progress.start(`scale-out clients served (${clients})`);
      const served = await clientsServed(procs, clients, windowMs);
      ct.end(`${served.connected} connected, ${served.cpuCoresUsed.toFixed(2)} cores of room processes`);
      const markdown = [
        `${n} room processes on this machine, one redis-server, rooms of 8 ticking at 30 Hz, all on 127.0.0.1.`,
        '',
        '| measure | value |',
        '|---|---:|',
        `| joins per second through the matchmaker (${JOINS_IN_FLIGHT} in flight, ${join.joins} joins, ${join.failed} failed) | ${join.perSecond.toFixed(0)} |`,
        `| Notify latency across processes, p50 (${notify.deliveries} deliveries of ${notify.messages} messages) | ${notify.p50Ms.toFixed(2)} ms |`,
        `| Notify latency across processes, p99 | ${notify.p99Ms.toFixed(2)} ms |`,
        `| clients served (joined via the matchmaker, WebSocket, ${CLIENT_HZ} Hz) | ${served.connected} of ${served.clients} |`,
        `| CPU of the ${n} room processes for them | ${served.cpuCoresUsed.toFixed(2)} cores |`,
        `| clients per core of room process (at this load; not a saturation test) | ${served.clientsPerCore.toFixed(0)} |`,
      ].join('\n');
      return { series: { processes: n, join, notify, served }, markdown };
    } finally {
      await stopScaleProcesses(procs);
      await backend.close();
      await redis.stop();
    }
  },
};
