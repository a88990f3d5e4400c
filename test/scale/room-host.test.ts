/**
 * Room hosts and the matchmaker in one Node process on the in-memory backend (unit level), with clients over real
 * WebSocket on 127.0.0.1: many rooms per process, idle disposal, reservations that are forged, for another room,
 * replayed or late are refused, drain in 'wait' mode, hostile matchmaker requests, and bounds on notifications.
 */
import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';
import type { NetError } from '../../src/index.ts';
import { connectToSeat, createClientAuthority, createServerAuthority, joinRoom, requestSeat } from '../../src/index.ts';
import {
  createMatchmaker,
  createMatchmakerServer,
  createMemoryBackend,
  createRoomHost,
  defineRoom,
  MAX_JOIN_BODY_BYTES,
  MAX_JOINS_IN_FLIGHT,
  MAX_NOTIFY_BYTES,
  signReservation,
} from '../../src/scale.ts';
import type { RoomHost, ScaleBackend } from '../../src/scale.ts';
import { createScaleWorld, scaleRoomDefinition } from '../../harness/scale-room.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keyPair = nacl.sign.keyPair();
const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

async function setup(idleDisposeMs = 60_000, capacity = 4) {
  const backend: ScaleBackend = createMemoryBackend();
  const matchmaker = createMatchmaker({ backend, keyPair, reservationMs: 3000 });
  const host: RoomHost = await createRoomHost({
    backend,
    keyPair,
    matchmaker,
    definitions: [scaleRoomDefinition('lobby', capacity)],
    heartbeatMs: 50,
    processTtlMs: 500,
    idleDisposeMs,
  });
  cleanup.push(() => host.close());
  return { backend, matchmaker, host, url: `http://127.0.0.1:${host.port}` };
}

async function connect(seat: Parameters<typeof connectToSeat>[0]) {
  const c = await connectToSeat(seat, { create: createScaleWorld, reconnect: false });
  const step = setInterval(() => {
    c.net.receive(c.world);
    c.net.send(c.world);
  }, 16);
  let open = true;
  const leave = async () => {
    if (!open) return;
    open = false;
    clearInterval(step);
    await c.net.dispose();
  };
  cleanup.push(leave);
  return { ...c, leave };
}

describe('room host on the memory backend', () => {
  it('hosts many rooms in one process, each with its own world', async () => {
    const { host, url } = await setup(60_000, 2);
    const seats = [];
    for (let i = 0; i < 6; i++) seats.push(await requestSeat({ matchmaker: url, room: 'lobby' }));
    expect(new Set(seats.map((s) => s.roomId)).size).toBe(3);
    expect(host.rooms()).toHaveLength(3);
    const clients = await Promise.all(seats.map((s) => connect(s)));
    await until(() => host.rooms().every((r) => r.clientCount() === 2));
    expect(new Set(host.rooms().map((r) => r.world)).size).toBe(3);
    expect(clients.every((c) => c.net.stats().length === 1)).toBe(true);
  });

  it('disposes an empty room after the idle time, and not while a reservation is held', async () => {
    const { host, backend, url } = await setup(300);
    const seat = await requestSeat({ matchmaker: url, room: 'lobby' });
    await sleep(600);
    expect(host.rooms()).toHaveLength(1); // the reservation holds it
    const c = await connect(seat);
    await until(() => host.rooms()[0]?.clientCount() === 1);
    await sleep(600);
    expect(host.rooms()).toHaveLength(1); // a client holds it
    await c.leave();
    await until(() => host.rooms().length === 0, 5000);
    expect(await backend.getRoom(seat.roomId)).toBeNull();
    expect(host.stats.roomsDisposed).toBe(1);
  });

  it('refuses forged, foreign, replayed and late reservations, and counts them', async () => {
    const { host, url } = await setup();
    const seat = await requestSeat({ matchmaker: url, room: 'lobby' });
    const other = nacl.sign.keyPair();
    const forged = signReservation(
      { roomId: seat.roomId, seatId: 's', userId: 'eve', expiresAtMs: Date.now() + 9e6 },
      other,
    );
    const foreign = signReservation(
      { roomId: 'another-room', seatId: 's', userId: 'eve', expiresAtMs: Date.now() + 9e6 },
      keyPair,
    );
    const late = signReservation(
      { roomId: seat.roomId, seatId: 's', userId: 'eve', expiresAtMs: Date.now() - 1 },
      keyPair,
    );
    const attempts = [
      { ...seat, token: forged },
      { ...seat, token: foreign },
      { ...seat, token: 'ecs1.garbage' },
      { ...seat, token: late, expiresAtMs: Date.now() - 1 },
    ];
    const codes = [];
    for (const a of attempts) codes.push(await connect(a).catch((e: unknown) => (e as NetError).code));
    expect(codes).toEqual(['ReservationInvalid', 'ReservationInvalid', 'ReservationInvalid', 'ReservationExpired']);
    await connect(seat);
    const replay = await connect(seat).catch((e: unknown) => e);
    expect((replay as NetError).code).toBe('ReservationInvalid');
    expect(host.stats.refusedReservations).toBe(5);
    expect(host.rooms()[0].clientCount()).toBe(1);
  });

  it("drain 'wait' lets a room empty, then closes the process; joins meanwhile go elsewhere or fail clearly", async () => {
    const { host, backend, url } = await setup();
    const c = await connect(await requestSeat({ matchmaker: url, room: 'lobby' }));
    await until(() => host.rooms()[0]?.clientCount() === 1);
    const drained = host.drain({ mode: 'wait', deadlineMs: 5000 });
    await until(async () => (await backend.listProcesses()).every((p) => p.state === 'draining'));
    const refused = await requestSeat({ matchmaker: url, room: 'lobby' }).catch((e: unknown) => e);
    expect((refused as NetError).code).toBe('MatchmakerUnavailable'); // the only process drains: no room to create
    await c.leave();
    const report = await drained;
    expect(report).toMatchObject({ emptied: 1, handedOver: 0, closed: 0 });
    expect(await backend.listRooms()).toEqual([]);
    expect(host.state).toBe('closed');
  });

  it('answers hostile matchmaker requests with 4xx and names unknown rooms', async () => {
    const { backend, matchmaker } = await setup();
    const server = await createMatchmakerServer({ matchmaker, backend });
    cleanup.push(() => server.close());
    const post = (body: string) =>
      fetch(`${server.url}/matchmake/join`, { method: 'POST', body }).then(async (r) => [r.status, await r.text()]);
    expect((await post('not json'))[0]).toBe(400);
    expect((await post('[1,2]'))[0]).toBe(400);
    expect((await post(JSON.stringify({ name: 'bad name!' })))[0]).toBe(400);
    expect((await post('x'.repeat(MAX_JOIN_BODY_BYTES + 10)).catch(() => [400]))[0]).toBe(400);
    const unknown = await post(JSON.stringify({ name: 'nope' }));
    expect(unknown[0]).toBe(404);
    expect(unknown[1]).toContain('RoomUnknown');
    expect((await post(JSON.stringify({ roomId: 'no-such-room' })))[0]).toBe(404);
    const ok = await post(JSON.stringify({ name: 'lobby', userId: 'ann' }));
    expect(ok[0]).toBe(200);
    const rooms = (await (await fetch(`${server.url}/matchmake/rooms`)).json()) as unknown[];
    expect(rooms).toHaveLength(1);
  });

  it('Notify reaches every host on the backend; oversized or malformed ones are dropped and counted', async () => {
    const { backend } = await setup();
    const second = await createRoomHost({ backend, keyPair, definitions: [scaleRoomDefinition()], heartbeatMs: 50 });
    cleanup.push(() => second.close());
    const first = (await backend.listProcesses()).find((p) => p.id !== second.id)!;
    const got: string[] = [];
    await second.onNotify('news', (e, from) => got.push(`${from === first.id}:${JSON.stringify(e)}`));
    const errors = backend.stats.droppedInvalid;
    await backend.publish('news', JSON.stringify({ f: first.id, e: { n: 1 } }));
    await backend.publish('news', 'x'.repeat(MAX_NOTIFY_BYTES + 1));
    await backend.publish('news', '{"no":"origin"}');
    await until(() => got.length === 1);
    await sleep(50);
    expect(got).toEqual(['true:{"n":1}']);
    expect(backend.stats.droppedInvalid - errors).toBe(2);
  });

  it("drain 'wait' hands over at the deadline what did not empty; the client follows with its room id", async () => {
    const { host, backend, url } = await setup();
    const other = await createRoomHost({
      backend,
      keyPair,
      definitions: [scaleRoomDefinition('lobby', 4)],
      heartbeatMs: 50,
    });
    cleanup.push(() => other.close());
    // The room is created on the least-loaded process: make sure it is `host` by loading `other` first.
    await backend.putProcess({ ...(await backend.listProcesses()).find((p) => p.id === other.id)!, ccu: 999 }, 5000);
    const client = await joinRoom({ matchmaker: url, room: 'lobby', create: createScaleWorld, reconnect: false });
    const step = setInterval(() => {
      client.net.receive(client.world);
      client.net.send(client.world);
    }, 16);
    cleanup.push(async () => {
      clearInterval(step);
      await client.dispose();
    });
    expect((await backend.getRoom(client.seat.roomId))?.process).toBe(host.id);
    const report = await host.drain({ mode: 'wait', deadlineMs: 300 });
    expect(report).toMatchObject({ emptied: 0, handedOver: 1, movedClients: 1, closed: 0 });
    await until(() => client.moves === 1 && client.net.stats().length === 1);
    expect((await backend.getRoom(client.seat.roomId))?.process).toBe(other.id);
    await until(() => other.rooms()[0]?.clientCount() === 1);
  });

  it('durable notifications go through the capped stream and reach every host in order', async () => {
    const { host, backend } = await setup();
    const second = await createRoomHost({ backend, keyPair, definitions: [scaleRoomDefinition()], heartbeatMs: 50 });
    cleanup.push(() => second.close());
    const got: number[] = [];
    const stop = await second.onNotify('ledger', (e) => got.push((e as { n: number }).n), { durable: true });
    for (let n = 1; n <= 5; n++) await host.notify('ledger', { n }, { durable: true, maxLength: 100 });
    await until(() => got.length === 5);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    await stop();
    await expect(host.notify('bad domain!', {})).rejects.toThrow(/Usage/);
  });

  it('joining a full or a locked room by id fails with RoomFull / RoomLocked', async () => {
    const { backend, url } = await setup(60_000, 2);
    const first = await requestSeat({ matchmaker: url, room: 'lobby' });
    await requestSeat({ matchmaker: url, room: { id: first.roomId } });
    const full = await requestSeat({ matchmaker: url, room: { id: first.roomId } }).catch((e: unknown) => e);
    expect((full as NetError).code).toBe('RoomFull');
    const other = await requestSeat({ matchmaker: url, room: 'lobby' });
    expect(other.roomId).not.toBe(first.roomId); // by name, a full room overflows to a new one
    await backend.patchRoom(other.roomId, { locked: true });
    const locked = await requestSeat({ matchmaker: url, room: { id: other.roomId } }).catch((e: unknown) => e);
    expect((locked as NetError).code).toBe('RoomLocked');
    const gone = await requestSeat({ matchmaker: url, room: { id: 'no-such-room' } }).catch((e: unknown) => e);
    expect((gone as NetError).code).toBe('RoomUnknown');
  });

  it("relays a domain listed in a definition's notify from any host to the room's subscribed clients", async () => {
    const backend = createMemoryBackend();
    const base = scaleRoomDefinition('hall', 8);
    const hall = defineRoom({
      ...base,
      notify: ['news'],
      setup(room) {
        base.setup?.(room);
        createServerAuthority(room.world);
      },
    });
    const roomHost = await createRoomHost({ backend, keyPair, definitions: [hall], heartbeatMs: 50 });
    const publisher = await createRoomHost({ backend, keyPair, definitions: [], heartbeatMs: 50 });
    cleanup.push(
      () => roomHost.close(),
      () => publisher.close(),
    );
    const matchmaker = createMatchmaker({ backend, keyPair });
    const seat = async () => {
      const r = await matchmaker.join({ name: 'hall' });
      if (!r.ok) throw new Error(r.message);
      return r.seat;
    };
    const subscribed = await connect(await seat());
    const other = await connect(await seat());
    const got: unknown[] = [];
    const auth = createClientAuthority(subscribed.world);
    auth.events.on('notify', (domain, event) => got.push([domain, event]));
    auth.subscribe('news');
    const otherGot: unknown[] = [];
    createClientAuthority(other.world).events.on('notify', (_d, e) => otherGot.push(e));
    await sleep(300); // the subscription reaches the room
    await publisher.notify('news', { headline: 'cross-process' });
    await until(() => got.length === 1);
    expect(got).toEqual([['news', { headline: 'cross-process' }]]);
    expect(otherGot).toEqual([]); // not subscribed: nothing sent
  });

  it('a room locks itself and changes its metadata: joins by name go elsewhere, by id get RoomLocked', async () => {
    const { host, backend, url } = await setup();
    const first = await requestSeat({ matchmaker: url, room: 'lobby' });
    const room = host.rooms()[0];
    await room.setMetadata({ map: 'dunes', round: 2 });
    expect((await backend.getRoom(first.roomId))?.metadata).toEqual({ map: 'dunes', round: 2 });
    await expect(room.setMetadata({ blob: 'x'.repeat(5000) })).rejects.toThrow(/Usage/);
    await room.setLocked(true);
    const byId = await requestSeat({ matchmaker: url, room: { id: first.roomId } }).catch((e: unknown) => e);
    expect((byId as NetError).code).toBe('RoomLocked');
    const byName = await requestSeat({ matchmaker: url, room: 'lobby' });
    expect(byName.roomId).not.toBe(first.roomId);
    await room.setLocked(false);
    expect((await requestSeat({ matchmaker: url, room: { id: first.roomId } })).roomId).toBe(first.roomId);
  });

  it('caps joins in flight: beyond MAX_JOINS_IN_FLIGHT a request gets 503 at once, and is counted', async () => {
    const memory = createMemoryBackend();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slow: ScaleBackend = {
      ...memory,
      reserveByName: async (...args) => {
        await gate;
        return memory.reserveByName(...args);
      },
    };
    const server = await createMatchmakerServer({
      matchmaker: createMatchmaker({ backend: slow, keyPair }),
      backend: slow,
    });
    cleanup.push(() => server.close());
    const extra = 4;
    const requests = Array.from({ length: MAX_JOINS_IN_FLIGHT + extra }, () =>
      fetch(`${server.url}/matchmake/join`, { method: 'POST', body: JSON.stringify({ name: 'lobby' }) }),
    );
    await until(() => server.stats.requests === MAX_JOINS_IN_FLIGHT + extra);
    expect(server.stats.overloaded).toBe(extra);
    open();
    const statuses = await Promise.all(requests.map(async (r) => (await r).status));
    expect(statuses.filter((s) => s === 503)).toHaveLength(MAX_JOINS_IN_FLIGHT + extra); // no process: unavailable
    expect(server.stats.overloaded).toBe(extra);
  });

  it('a process hosts at most maxRooms rooms: a further create is refused and counted', async () => {
    const backend = createMemoryBackend();
    const host = await createRoomHost({
      backend,
      keyPair,
      maxRooms: 2,
      definitions: [scaleRoomDefinition('solo', 1)],
      heartbeatMs: 50,
    });
    cleanup.push(() => host.close());
    const matchmaker = createMatchmaker({ backend, keyPair });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await matchmaker.join({ name: 'solo' }));
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(!results[2].ok && results[2].code).toBe('MatchmakerUnavailable');
    expect(host.rooms()).toHaveLength(2);
    expect(host.stats.roomsRefused).toBe(1);
  });
});
