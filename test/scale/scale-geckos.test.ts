/**
 * Scale-out over geckos.io (WebRTC) end to end: a real redis-server and real room processes (child processes) that
 * each serve one geckos.io server for all their rooms; Node clients on node-datachannel's polyfill join through the
 * HTTP matchmaker with `transport: 'geckos'`. Two rooms of one process each see only their own entities; bad,
 * missing, forged, oversize, expired and replayed reservations and unknown rooms are refused (counted, at signalling
 * where the token is at fault); attempts in flight are bounded; 'auto' picks and falls back; SIGTERM hands a room
 * over and its geckos.io clients follow to the new process over geckos.io. Must run inside the loopback-only
 * namespace (`node scripts/test.mjs test/scale/scale-geckos.test.ts`); fails, never skips, elsewhere.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectToSeat, joinRoom, NetError, requestSeat } from '../../src/index.ts';
import type { RoomClient, RoomClientOptions } from '../../src/index.ts';
import { createGeckosClientTransport, geckosSeatConnector } from '../../src/geckos.ts';
import { createRedisBackend, signReservation } from '../../src/scale.ts';
import type { ScaleBackend } from '../../src/scale.ts';
import { requireLoopbackOnlyNetwork } from '../../harness/netns.ts';
import { startRedisServer } from '../../harness/redis-server.ts';
import type { RedisServer } from '../../harness/redis-server.ts';
import { startScaleProcess, stopScaleProcesses } from '../../harness/scale-cluster.ts';
import type { ScaleProcess, ScaleProcessOptions } from '../../harness/scale-cluster.ts';
import { counterOf, createScaleWorld, roomTagOf, roomTagsIn } from '../../harness/scale-room.ts';

type World = ReturnType<typeof createScaleWorld>['world'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOST = '127.0.0.1';
/** Connecting takes ~0.3 s on loopback; this leaves room for a loaded machine. */
const CONNECT_TIMEOUT_MS = 8000;

let redis: RedisServer;
let backend: ScaleBackend;
const procs: ScaleProcess[] = [];
const prefix = `geckos${Date.now()}`;
const keySeedHex = randomBytes(32).toString('hex');
const keyPair = nacl.sign.keyPair.fromSeed(new Uint8Array(Buffer.from(keySeedHex, 'hex')));
const clients: RoomClient<World>[] = [];
let base: ScaleProcessOptions;

const geckos = geckosSeatConnector({
  RTCPeerConnection,
  // libdatachannel gathers no candidate in a loopback-only namespace unless bound to loopback.
  rtcConfiguration: { bindAddress: HOST },
  connectTimeoutMs: CONNECT_TIMEOUT_MS,
});
const overGeckos: RoomClientOptions<World> = {
  create: createScaleWorld,
  reconnect: false,
  transport: 'geckos',
  geckos,
  connectTimeoutMs: CONNECT_TIMEOUT_MS,
};

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
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

interface HostStats {
  host: { refusedReservations: number };
  geckos: {
    routed: number;
    refusedInvalid: number;
    refusedExpired: number;
    refusedUnknownRoom: number;
    unroutable: number;
  };
  attempts: { pending: number; failed: number; refusedBusy: number };
}

async function statsOf(p: ScaleProcess): Promise<HostStats> {
  const from = p.lines.length;
  p.send('stats');
  return JSON.parse((await p.waitFor(/^STATS /, 5000, from)).slice(6)) as HostStats;
}

async function join(
  matchmaker: string,
  room: string | { id: string },
  extra: Partial<RoomClientOptions<World>> = {},
): Promise<RoomClient<World>> {
  const c = await joinRoom({ matchmaker, room, ...overGeckos, ...extra });
  clients.push(c);
  return c;
}

/** A raw geckos.io connect to a process with `authorization`: resolves 'open' or the NetError code. */
async function rawConnect(p: ScaleProcess, authorization: string | undefined): Promise<string> {
  const origin = new URL(p.geckosUrl!);
  const transport = createGeckosClientTransport({
    url: `${origin.protocol}//${origin.hostname}`,
    port: Number(origin.port),
    authorization,
    RTCPeerConnection,
    rtcConfiguration: { bindAddress: HOST },
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  });
  try {
    const link = await transport.connect();
    link.close();
    return 'open';
  } catch (e) {
    return e instanceof NetError ? `${e.code}: ${e.message}` : String(e);
  }
}

beforeAll(async () => {
  requireLoopbackOnlyNetwork();
  redis = await startRedisServer();
  backend = await createRedisBackend({ url: redis.url, prefix });
  base = { redisUrl: redis.url, prefix, keySeedHex, reservationMs: 4000 };
  // One process first (signalling on its HTTP port), so the first rooms are all on it.
  procs.push(await startScaleProcess({ ...base, geckos: 'shared', geckosPorts: { min: 40000, max: 40099 } }));
}, 60_000);

afterAll(async () => {
  clearInterval(frames);
  for (const c of clients) await c.dispose().catch(() => undefined);
  await stopScaleProcesses(procs);
  await backend?.close();
  await redis?.stop();
});

describe('scale-out over geckos.io with room processes', () => {
  it('the registry advertises the running geckos.io endpoint, for the process and its rooms', async () => {
    const [a] = procs;
    expect(a.geckosUrl).toBe(a.url); // signalling shares the host's HTTP port
    const info = (await backend.listProcesses()).find((p) => p.id === a.id);
    expect(info?.geckosUrl).toBe(a.geckosUrl);
    const seat = await requestSeat({ matchmaker: a.url, room: 'lobby' });
    expect(seat.geckosUrl).toBe(a.geckosUrl);
    expect((await backend.getRoom(seat.roomId))?.geckosUrl).toBe(a.geckosUrl);
  });

  it('clients of two rooms in one process, over geckos.io, each see only their own room', async () => {
    const [a] = procs;
    const before = await statsOf(a);
    const l1 = await join(a.url, 'lobby');
    const l2 = await join(a.url, { id: l1.seat.roomId });
    const r1 = await join(a.url, 'arena');
    expect(r1.seat.roomId).not.toBe(l1.seat.roomId);
    for (const c of [l1, l2, r1]) expect(c.transport).toBe('geckos');
    await until(() => [l1, l2, r1].every((c) => counterOf(c.world) > 0));
    expect(roomTagsIn(l1.world)).toEqual([roomTagOf(l1.seat.roomId)]);
    expect(roomTagsIn(l2.world)).toEqual([roomTagOf(l1.seat.roomId)]);
    expect(roomTagsIn(r1.world)).toEqual([roomTagOf(r1.seat.roomId)]);
    const after = await statsOf(a);
    expect(after.geckos.routed - before.geckos.routed).toBe(3);
    // The rooms count the seats as clients (reservation consumed by the room's authorize).
    await until(async () => (await backend.getRoom(l1.seat.roomId))?.clients === 2);
    await until(async () => (await backend.getRoom(r1.seat.roomId))?.clients === 1);
    await until(async () => (await backend.getRoom(l1.seat.roomId))?.reserved === 0); // test 1's seat expired
  });

  it('refuses at signalling a missing, oversize, forged or expired reservation and an unknown room', async () => {
    const [a] = procs;
    const room = (await backend.listRooms()).find((r) => r.process === a.id)!;
    const before = await statsOf(a);
    const claims = { roomId: room.id, seatId: randomUUID(), userId: 'mallory', expiresAtMs: Date.now() + 60_000 };
    const forged = signReservation(claims, nacl.sign.keyPair());
    const expired = signReservation({ ...claims, expiresAtMs: Date.now() - 1000 }, keyPair);
    const unknown = signReservation({ ...claims, roomId: 'no-such-room' }, keyPair);
    expect(await rawConnect(a, undefined)).toMatch(/^Unauthorized: .*401/);
    expect(await rawConnect(a, 'x'.repeat(2000))).toMatch(/^Unauthorized: .*401/);
    expect(await rawConnect(a, 'ecs1.garbage.garbage')).toMatch(/^Unauthorized: .*401/);
    expect(await rawConnect(a, forged)).toMatch(/^Unauthorized: .*401/);
    expect(await rawConnect(a, expired)).toMatch(/^Unauthorized: .*401/);
    expect(await rawConnect(a, unknown)).toMatch(/^RoomUnknown: .*404/);
    const after = await statsOf(a);
    expect(after.geckos.refusedInvalid - before.geckos.refusedInvalid).toBe(4);
    expect(after.geckos.refusedExpired - before.geckos.refusedExpired).toBe(1);
    expect(after.geckos.refusedUnknownRoom - before.geckos.refusedUnknownRoom).toBe(1);
    expect(after.geckos.routed).toBe(before.geckos.routed); // none reached a room
    // Through joinRoom's own path the client names the failure.
    const late = await connectToSeat(
      { url: room.wsUrl, geckosUrl: a.geckosUrl!, token: expired, expiresAtMs: 0 },
      {
        ...overGeckos,
      },
    ).catch((e: unknown) => e);
    expect((late as NetError).code).toBe('ReservationExpired');
    const gone = await connectToSeat(
      { url: room.wsUrl, geckosUrl: a.geckosUrl!, token: unknown, expiresAtMs: Date.now() + 60_000 },
      { ...overGeckos },
    ).catch((e: unknown) => e);
    expect((gone as NetError).code).toBe('RoomUnknown');
  });

  it("a used reservation passes signalling but the room's authorize refuses it", async () => {
    const [a] = procs;
    const seat = await requestSeat({ matchmaker: a.url, room: 'lobby' });
    const first = await connectToSeat(seat, overGeckos);
    const before = await statsOf(a);
    const again = await connectToSeat(seat, overGeckos).catch((e: unknown) => e);
    expect((again as NetError).code).toBe('ReservationInvalid');
    const after = await statsOf(a);
    expect(after.geckos.routed - before.geckos.routed).toBe(1); // it reached the room ...
    expect(after.host.refusedReservations - before.host.refusedReservations).toBe(1); // ... which refused it
    await first.net.dispose();
  });

  it("'geckos' without an endpoint is GeckosUnavailable; 'auto' picks geckos.io, or WebSocket when it cannot", async () => {
    const [a] = procs;
    const seat = await requestSeat({ matchmaker: a.url, room: 'arena' });
    const { geckosUrl: _g, ...wsOnly } = seat;
    const none = await connectToSeat(wsOnly, overGeckos).catch((e: unknown) => e);
    expect((none as NetError).code).toBe('GeckosUnavailable');
    await expect(
      joinRoom({ matchmaker: a.url, room: 'arena', create: createScaleWorld, transport: 'geckos' }),
    ).rejects.toThrow(/needs a geckos.io connector/);
    const auto = await connectToSeat(seat, { ...overGeckos, transport: 'auto' });
    expect(auto.transport).toBe('geckos');
    await auto.net.dispose();
    // A geckos.io origin where nothing answers: no data channel opens, so the unused seat goes over WebSocket.
    const next = await requestSeat({ matchmaker: a.url, room: 'arena' });
    const fallback = await connectToSeat(
      { ...next, geckosUrl: 'http://127.0.0.1:9' },
      { ...overGeckos, transport: 'auto' },
    );
    expect(fallback.transport).toBe('websocket');
    await fallback.net.dispose();
  });

  it('attempts in flight are bounded: beyond maxPendingAttempts signalling answers 503', async () => {
    const b = await startScaleProcess({
      ...base,
      geckos: 'own',
      geckosPorts: { min: 40100, max: 40199 },
      geckosMaxPending: 2,
      geckosConnectTimeoutMs: 2000,
    });
    procs.push(b);
    expect(b.geckosUrl).not.toBe(b.url); // a signalling port of its own
    const room = await createRoomOn(b);
    const token = signReservation(
      { roomId: room.id, seatId: randomUUID(), userId: 'u', expiresAtMs: Date.now() + 60_000 },
      keyPair,
    );
    // Signalling requests whose client never answers the offer: each holds an attempt until its deadline.
    const offer = () =>
      fetch(`${b.geckosUrl}/.wrtc/v2/connections`, { method: 'POST', headers: { authorization: token } });
    expect((await offer()).status).toBe(200);
    expect((await offer()).status).toBe(200);
    expect((await offer()).status).toBe(503);
    const held = await statsOf(b);
    expect(held.attempts.pending).toBe(2);
    expect(held.attempts.refusedBusy).toBe(1);
    // The deadline frees them; then a real client gets in.
    await until(async () => (await statsOf(b)).attempts.pending === 0, 10_000);
    const seat = await requestSeat({ matchmaker: b.url, room: { id: room.id } });
    const c = await connectToSeat(seat, overGeckos);
    expect(c.transport).toBe('geckos');
    await c.net.dispose();
    // This process is done: gone from the registry before the handover below picks an adopter.
    b.kill('SIGKILL');
    await b.exited;
    procs.splice(procs.indexOf(b), 1);
    await until(async () => !(await backend.listProcesses()).some((p) => p.id === b.id), 10_000);
  });

  it('SIGTERM hands the room over: its geckos.io clients follow to the new process over geckos.io', async () => {
    const [a] = procs;
    const b = await startScaleProcess({ ...base, geckos: 'own', geckosPorts: { min: 40200, max: 40299 } });
    procs.push(b);
    const [l1, l2] = clients;
    const roomId = l1.seat.roomId;
    expect((await backend.getRoom(roomId))?.process).toBe(a.id);
    const counterBefore = counterOf(l1.world);
    const before = await statsOf(b);
    a.kill('SIGTERM');
    const drained = JSON.parse((await a.waitFor(/^DRAINED /, 15_000)).slice(8)) as { movedClients: number };
    expect(drained.movedClients).toBeGreaterThanOrEqual(2);
    expect(await a.exited).toBe(0);
    await until(() => l1.moves === 1 && l2.moves === 1 && counterOf(l1.world) > 0 && counterOf(l2.world) > 0);
    for (const c of [l1, l2]) {
      expect(c.transport).toBe('geckos');
      expect(roomTagsIn(c.world)).toEqual([roomTagOf(roomId)]);
    }
    expect(counterOf(l1.world)).toBeGreaterThanOrEqual(counterBefore); // carried over, not restarted
    const moved = (await backend.getRoom(roomId))!;
    expect(moved.process).toBe(b.id);
    expect(moved.geckosUrl).toBe(b.geckosUrl);
    await until(async () => (await backend.getRoom(roomId))?.clients === 2);
    // They used the Move's fresh reservations (not a new join through the matchmaker): none is left held.
    expect((await backend.getRoom(roomId))?.reserved).toBe(0);
    expect((await statsOf(b)).geckos.routed - before.geckos.routed).toBeGreaterThanOrEqual(2);
    procs.splice(procs.indexOf(a), 1);
  });
});

/** Creates a room on process `p` through the registry's command channel, as a matchmaker does. */
async function createRoomOn(p: ScaleProcess) {
  const reply = await backend.sendCommand(p.id, { op: 'create', roomId: randomUUID(), name: 'lobby' }, 5000);
  if (!reply.ok) throw new Error(reply.error);
  return reply.room;
}
