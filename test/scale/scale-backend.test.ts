/**
 * The backend contract, on the in-memory backend and on a real redis-server: processes expire, seats never
 * overfill under concurrency, unused reservations free their seat, the open index picks fill-first, dead
 * processes' rooms are purged, presence expires, notifications reach every subscriber, streams are capped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBackend, createRedisBackend } from '../../src/scale.ts';
import type { ProcessInfo, RoomRecord, ScaleBackend } from '../../src/scale.ts';
import { startRedisServer } from '../../harness/redis-server.ts';
import type { RedisServer } from '../../harness/redis-server.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function proc(id: string, ccu = 0): ProcessInfo {
  return { id, wsUrl: `ws://127.0.0.1:1/${id}`, capacity: 100, ccu, rooms: 0, state: 'ready' };
}

function room(id: string, process: string, capacity = 8, name = 'lobby'): RoomRecord {
  return {
    id,
    name,
    process,
    wsUrl: `ws://127.0.0.1:1/rooms/${id}`,
    clients: 0,
    reserved: 0,
    capacity,
    locked: false,
    private: false,
    state: 'open',
    metadata: { map: 'a' },
  };
}

let redis: RedisServer;
let prefixSeq = 0;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

const kinds: [string, () => Promise<ScaleBackend>][] = [
  ['memory', async () => createMemoryBackend()],
  ['redis', () => createRedisBackend({ url: redis.url, prefix: `t${++prefixSeq}` })],
];

describe.each(kinds)('%s backend', (_kind, make) => {
  it('50 concurrent reservations of a room of 8 hold exactly 8 seats', async () => {
    const b = await make();
    await b.putProcess(proc('p1'), 10_000);
    await b.putRoom(room('r1', 'p1', 8));
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => b.reserveById('r1', `s${i}`, 5000)));
    expect(results.filter((r) => r.ok)).toHaveLength(8);
    expect(results.filter((r) => !r.ok && r.reason === 'full')).toHaveLength(42);
    const byName = await Promise.all(Array.from({ length: 10 }, (_, i) => b.reserveByName('lobby', `n${i}`, 5000)));
    expect(byName.filter((r) => r.ok)).toHaveLength(0);
    const r = await b.getRoom('r1');
    expect(r?.reserved).toBe(8);
    await b.close();
  });

  it('picks the open room with the fewest free seats, skips locked, private and full ones', async () => {
    const b = await make();
    await b.putProcess(proc('p1'), 10_000);
    await b.putRoom(room('a', 'p1', 8));
    await b.putRoom(room('b', 'p1', 8));
    await b.putRoom({ ...room('c', 'p1', 8), private: true });
    await b.reserveById('b', 'x', 5000);
    const first = await b.reserveByName('lobby', 's1', 5000);
    expect(first.ok && first.room.id).toBe('b');
    await b.patchRoom('b', { locked: true });
    const second = await b.reserveByName('lobby', 's2', 5000);
    expect(second.ok && second.room.id).toBe('a');
    expect(await b.reserveById('b', 's3', 5000)).toEqual({ ok: false, reason: 'locked' });
    expect((await b.reserveById('b', 's3', 5000, true)).ok).toBe(true);
    expect(await b.reserveById('nope', 's4', 5000)).toEqual({ ok: false, reason: 'unknown' });
    expect((await b.reserveByName('other', 's5', 5000)).ok).toBe(false);
    await b.close();
  });

  it('an unused reservation expires and gives its seat back; a used one becomes a client', async () => {
    const b = await make();
    await b.putProcess(proc('p1'), 10_000);
    await b.putRoom(room('r', 'p1', 2));
    const used = await b.reserveById('r', 'used', 10_000);
    const unused = await b.reserveById('r', 'unused', 150);
    expect(used.ok && unused.ok).toBe(true);
    expect((await b.reserveById('r', 'third', 10_000)).ok).toBe(false);
    expect(await b.consumeSeat('r', 'used')).toBe('ok');
    expect(await b.consumeSeat('r', 'used')).toBe('expired'); // a replayed reservation is refused
    await sleep(250);
    expect(await b.consumeSeat('r', 'unused')).toBe('expired');
    expect(b.stats.expiredSeats).toBeGreaterThanOrEqual(1);
    const after = await b.getRoom('r');
    expect(after).toMatchObject({ clients: 1, reserved: 0 });
    expect((await b.reserveById('r', 'fourth', 10_000)).ok).toBe(true);
    await b.close();
  });

  it('a process that stops renewing disappears and its rooms are purged', async () => {
    const b = await make();
    await b.putProcess(proc('dead', 0), 150);
    await b.putProcess(proc('live', 5), 10_000);
    await b.putRoom(room('r-dead', 'dead'));
    await b.putRoom(room('r-live', 'live'));
    expect((await b.leastLoadedProcess())?.id).toBe('dead');
    await sleep(250);
    expect((await b.leastLoadedProcess())?.id).toBe('live');
    expect(await b.getRoom('r-dead')).toBeNull();
    expect(await b.getRoom('r-live')).not.toBeNull();
    expect((await b.listProcesses()).map((p) => p.id)).toEqual(['live']);
    expect(b.stats.purgedRooms).toBe(1);
    await b.putProcess({ ...proc('live', 5), state: 'draining' }, 10_000);
    expect(await b.leastLoadedProcess()).toBeNull();
    await b.close();
  });

  it('presence expires unless renewed, and leaves at once on remove', async () => {
    const b = await make();
    await b.putProcess(proc('p1'), 10_000);
    await b.putRoom(room('r', 'p1'));
    await b.putPresence('r', 'p1', [{ userId: 'ann', data: { name: 'Ann' } }, { userId: 'bob' }], 1000);
    expect((await b.presence('r')).map((p) => p.userId).sort()).toEqual(['ann', 'bob']);
    await b.removePresence('r', 'bob');
    expect((await b.presence('r')).map((p) => p.userId)).toEqual(['ann']);
    expect((await b.presence('r'))[0]).toMatchObject({ process: 'p1', data: { name: 'Ann' } });
    await sleep(1200);
    expect(await b.presence('r')).toEqual([]);
    await b.close();
  });

  it('publish reaches every subscriber; the durable stream keeps order and its cap', async () => {
    const a = await make();
    const got: string[] = [];
    const off = await a.subscribe('world', (m) => got.push(`1:${m}`));
    await a.subscribe('world', (m) => got.push(`2:${m}`));
    await a.publish('world', 'hello');
    await a.publish('other', 'nope');
    for (let i = 0; i < 50 && got.length < 2; i++) await sleep(10);
    expect(got.sort()).toEqual(['1:hello', '2:hello']);
    await off();
    for (let i = 0; i < 10; i++) await a.append('log', `m${i}`, 5);
    const seen: string[] = [];
    const stop = a.follow('log', '0', (_id, m) => seen.push(m));
    for (let i = 0; i < 100 && seen.length < 5; i++) await sleep(10);
    expect(seen).toEqual(['m5', 'm6', 'm7', 'm8', 'm9']);
    await a.append('log', 'm10', 5);
    for (let i = 0; i < 100 && seen.length < 6; i++) await sleep(10);
    expect(seen.at(-1)).toBe('m10');
    stop();
    await a.close();
  });

  it('commands reach the named process and come back with its answer', async () => {
    const b = await make();
    await b.putProcess(proc('p1'), 10_000);
    const stop = await b.onCommand('p1', async (c) => ({ ok: true, room: room(c.roomId, 'p1') }));
    const reply = await b.sendCommand('p1', { op: 'create', roomId: 'r9', name: 'lobby' }, 2000);
    expect(reply.ok && reply.room.id).toBe('r9');
    await stop();
    const none = await b.sendCommand('p1', { op: 'create', roomId: 'r10', name: 'lobby' }, 300);
    expect(none.ok).toBe(false);
    await b.close();
  });
});

describe('redis backend against hostile registry content', () => {
  it('drops malformed commands and room records written by someone else, and counts them', async () => {
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis.url);
    const prefix = `hostile${++prefixSeq}`;
    const errors: string[] = [];
    const b = await createRedisBackend({ url: redis.url, prefix, onError: (e) => errors.push(e.code) });
    await b.putProcess(proc('p1'), 10_000);
    const served: string[] = [];
    await b.onCommand('p1', async (c) => {
      served.push(c.roomId);
      return { ok: false, error: 'no' };
    });
    await raw.publish(`${prefix}:cmd:p1`, 'not json');
    await raw.publish(
      `${prefix}:cmd:p1`,
      JSON.stringify({ reply: `${prefix}:reply:x`, command: { op: 'rm -rf', roomId: 'r' } }),
    );
    await raw.publish(
      `${prefix}:cmd:p1`,
      JSON.stringify({ reply: 'elsewhere', command: { op: 'create', roomId: 'r', name: 'lobby' } }),
    );
    await raw.hset(`${prefix}:room:evil`, { id: 'evil', name: 'lobby', capacity: '-3', process: 'p1' });
    await raw.sadd(`${prefix}:rooms`, 'evil');
    for (let i = 0; i < 50 && errors.length < 3; i++) await sleep(10);
    expect(await b.getRoom('evil')).toBeNull();
    expect(await b.listRooms()).toEqual([]);
    expect(served).toEqual([]);
    expect(b.stats.droppedInvalid).toBeGreaterThanOrEqual(4);
    expect(errors.every((c) => c === 'BackendInvalid')).toBe(true);
    await b.close();
    raw.disconnect();
  });
});
