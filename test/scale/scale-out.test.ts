/**
 * Scale-out end to end: a real redis-server, three real room processes (child processes), clients joining through
 * the HTTP matchmaker over WebSocket on 127.0.0.1. Rooms spread and overflow, 50 concurrent joins never overfill a
 * room of 8, an unused reservation expires, SIGKILL removes a process's rooms, SIGTERM hands rooms over with every
 * client following, Notify reaches every process, presence shows users of other processes.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectToSeat, joinRoom, NetError, requestSeat } from '../../src/index.ts';
import type { RoomClient } from '../../src/index.ts';
import { createRedisBackend } from '../../src/scale.ts';
import type { ScaleBackend } from '../../src/scale.ts';
import { startRedisServer } from '../../harness/redis-server.ts';
import type { RedisServer } from '../../harness/redis-server.ts';
import { startScaleProcess, stopScaleProcesses } from '../../harness/scale-cluster.ts';
import type { ScaleProcess } from '../../harness/scale-cluster.ts';
import { counterOf, createScaleWorld } from '../../harness/scale-room.ts';

type World = ReturnType<typeof createScaleWorld>['world'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: RedisServer;
let backend: ScaleBackend;
let procs: ScaleProcess[] = [];
const prefix = `e2e${Date.now()}`;
const keySeedHex = randomBytes(32).toString('hex');
const clients: RoomClient<World>[] = [];

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(25);
  }
}

function tick(client: RoomClient<World>): void {
  client.net.receive(client.world);
  client.net.send(client.world);
}

// Like a game loop: every client is stepped each frame, whatever the test is waiting for.
const frames = setInterval(() => clients.forEach(tick), 16);

async function join(matchmaker: string, room: string | { id: string }, userId?: string): Promise<RoomClient<World>> {
  const c = await joinRoom({ matchmaker, room, userId, create: createScaleWorld, reconnect: false });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  redis = await startRedisServer();
  backend = await createRedisBackend({ url: redis.url, prefix });
  const opts = { redisUrl: redis.url, prefix, keySeedHex, domains: ['chat'], reservationMs: 4000 };
  procs = await Promise.all([startScaleProcess(opts), startScaleProcess(opts), startScaleProcess(opts)]);
}, 60_000);

afterAll(async () => {
  clearInterval(frames);
  for (const c of clients) await c.dispose().catch(() => undefined);
  await stopScaleProcesses(procs);
  await backend?.close();
  await redis?.stop();
});

describe('scale-out over Redis with three room processes', () => {
  it('rooms spread over the processes, and a full room overflows to a new one', async () => {
    const names = ['spread-a', 'spread-b', 'spread-c'];
    // Three room names: each first join creates a room on the least-loaded process.
    const seats = [];
    for (const n of names)
      seats.push(await requestSeat({ matchmaker: procs[0].url, room: n }).catch((e: unknown) => e));
    // The processes only define 'lobby': other names are RoomUnknown, clearly.
    for (const s of seats) expect((s as NetError).code).toBe('RoomUnknown');
    const rooms = new Set<string>();
    for (let i = 0; i < 24; i++) rooms.add((await requestSeat({ matchmaker: procs[i % 3].url, room: 'lobby' })).roomId);
    const records = await backend.listRooms('lobby');
    expect(rooms.size).toBe(3); // 24 seats of 8: fill-first makes exactly three rooms
    expect(new Set(records.map((r) => r.process)).size).toBe(3); // one on each process (least loaded first)
    const overflow = await requestSeat({ matchmaker: procs[1].url, room: 'lobby' });
    expect(rooms.has(overflow.roomId)).toBe(false);
    for (const r of await backend.listRooms('lobby')) expect(r.clients + r.reserved).toBeLessThanOrEqual(8);
  });

  it('50 concurrent joins never overfill a room of 8', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => requestSeat({ matchmaker: procs[i % 3].url, room: 'lobby' })),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const perRoom = new Map<string, number>();
    for (const r of results)
      if (r.status === 'fulfilled') perRoom.set(r.value.roomId, (perRoom.get(r.value.roomId) ?? 0) + 1);
    for (const n of perRoom.values()) expect(n).toBeLessThanOrEqual(8);
    for (const r of await backend.listRooms('lobby')) expect(r.clients + r.reserved).toBeLessThanOrEqual(r.capacity);
  });

  it('an unused reservation expires: its seat is freed and the late client gets ReservationExpired', async () => {
    const seat = await requestSeat({ matchmaker: procs[0].url, room: 'lobby' });
    const before = (await backend.getRoom(seat.roomId))!.reserved;
    await sleep(seat.expiresAtMs - Date.now() + 1500);
    await until(async () => (await backend.getRoom(seat.roomId))!.reserved < before);
    const late = await connectToSeat(seat, { create: createScaleWorld, reconnect: false }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(NetError);
    expect((late as NetError).code).toBe('ReservationExpired');
  });

  it('clients connect, see the room state, and presence shows users of other processes', async () => {
    const a = await join(procs[0].url, 'lobby', 'ann');
    const b = await join(procs[1].url, { id: a.seat.roomId }, 'bob');
    await until(() => {
      tick(a);
      tick(b);
      return counterOf(a.world) > 0 && counterOf(b.world) > 0;
    });
    const owner = (await backend.getRoom(a.seat.roomId))!.process;
    const other = procs.find((p) => p.id !== owner)!;
    await until(async () => {
      const p = await backend.presence(a.seat.roomId);
      return p.some((u) => u.userId === 'ann') && p.some((u) => u.userId === 'bob');
    });
    const from = other.lines.length;
    other.send(`presence ${a.seat.roomId}`);
    const line = await other.waitFor(/^PRESENCE /, 5000, from);
    expect(line).toContain('"ann"');
    expect(line).toContain('"bob"');
  });

  it('a Notify published in one process reaches subscribers in all', async () => {
    const from = procs.map((p) => p.lines.length);
    procs[2].send('publish chat {"text":"hi all"}');
    for (const [i, p] of procs.entries()) await p.waitFor(/^NOTIFY chat \{"text":"hi all"\}/, 5000, from[i]);
  });

  it('SIGTERM hands the room over: every client follows to the new process, state carried over', async () => {
    const a = clients[0];
    const b = clients[1];
    const record = (await backend.getRoom(a.seat.roomId))!;
    const owner = procs.find((p) => p.id === record.process)!;
    const counterBefore = counterOf(a.world);
    owner.kill('SIGTERM');
    const drained = JSON.parse((await owner.waitFor(/^DRAINED /, 15_000)).slice(8)) as { movedClients: number };
    expect(drained.movedClients).toBe(2);
    expect(await owner.exited).toBe(0);
    await until(() => {
      tick(a);
      tick(b);
      return a.moves === 1 && b.moves === 1 && counterOf(a.world) > 0 && counterOf(b.world) > 0;
    }, 15_000);
    const moved = (await backend.getRoom(a.seat.roomId))!;
    expect(moved.process).not.toBe(owner.id);
    expect(moved.clients).toBe(2);
    expect(counterOf(a.world)).toBeGreaterThanOrEqual(counterBefore); // the counter was carried, not restarted
    expect(a.net.stats()).toHaveLength(1);
    expect((await backend.listProcesses()).some((p) => p.id === owner.id)).toBe(false);
    expect((await backend.listRooms()).some((r) => r.process === owner.id)).toBe(false);
    procs = procs.filter((p) => p !== owner);
  });

  it('SIGKILL of a process removes its rooms within the expiry', async () => {
    const victim = procs[0];
    const mine = (await backend.listRooms()).filter((r) => r.process === victim.id);
    expect(mine.length).toBeGreaterThan(0);
    victim.kill('SIGKILL');
    await victim.exited;
    // The process key expires after 1 s; a live process's next heartbeat (every 250 ms) purges its rooms.
    await until(async () => (await backend.listRooms()).every((r) => r.process !== victim.id), 5000);
    expect((await backend.listProcesses()).map((p) => p.id)).not.toContain(victim.id);
  });
});
