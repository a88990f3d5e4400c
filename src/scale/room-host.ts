/**
 * A room process: hosts many rooms (each its own world and server plugin) behind one HTTP server, where room `id`
 * is the WebSocket path `/rooms/<id>`, and optionally one geckos.io server shared by its rooms (see
 * geckos-router.ts). It registers itself in the registry with an expiry renewed by a heartbeat,
 * syncs its rooms' client counts and presence, creates rooms when a matchmaker asks, disposes empty rooms after an
 * idle time, sweeps the rooms of dead processes, and drains on request (see room-drain.ts). Node only.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { NetError, usageError } from '../errors.ts';
import { RoomRuntime } from './hosted-room.ts';
import type { RoomEnv, RoomHostStats } from './hosted-room.ts';
import { drainHost } from './room-drain.ts';
import type { HostInternals } from './room-drain.ts';
import type { CommandReply, ProcessCommand, ProcessInfo, RoomRecord } from './scale-backend.ts';
import { isId } from './scale-records.ts';
import { createHostNotifier } from './host-notify.ts';
import { startGeckosRouter } from './geckos-router.ts';
import type { GeckosRouter } from './geckos-router.ts';
import {
  checkDefinitions,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_IDLE_DISPOSE_MS,
  DEFAULT_MAX_ROOMS,
  DEFAULT_PROCESS_TTL_MS,
} from './room-host-options.ts';
import type { RoomHost, RoomHostOptions } from './room-host-options.ts';
import { listenRoomServer } from './room-http-server.ts';

export {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_IDLE_DISPOSE_MS,
  DEFAULT_MAX_ROOMS,
  DEFAULT_PROCESS_TTL_MS,
} from './room-host-options.ts';
export type { RoomHost, RoomHostOptions } from './room-host-options.ts';
export type { HostInternals } from './room-drain.ts';

/** Starts a room process and registers it. */
export async function createRoomHost(options: RoomHostOptions): Promise<RoomHost> {
  const definitions = checkDefinitions(options.definitions);
  const { backend, keyPair } = options;
  const id = options.id ?? `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  if (!isId(id))
    usageError(`process id ${JSON.stringify(id)} is not valid`, 'use 1..128 printable characters, no spaces');
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const ttlMs = options.processTtlMs ?? DEFAULT_PROCESS_TTL_MS;
  const idleMs = options.idleDisposeMs ?? DEFAULT_IDLE_DISPOSE_MS;
  const capacity = options.capacity ?? 1000;
  const runtimes = new Map<string, RoomRuntime>();
  const stats: RoomHostStats = {
    roomsCreated: 0,
    roomsDisposed: 0,
    roomsRefused: 0,
    refusedReservations: 0,
    containedErrors: 0,
  };
  const maxRooms = options.maxRooms ?? DEFAULT_MAX_ROOMS;
  let state: RoomHost['state'] = 'ready';
  const report = (e: unknown) =>
    options.onError?.(
      e instanceof NetError ? e : new NetError('BackendInvalid', e instanceof Error ? e.message : String(e)),
    );

  const server = await listenRoomServer(
    {
      matchmaker: options.matchmaker,
      backend: options.backend,
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
    },
    runtimes,
  );
  const port = (server.address() as AddressInfo).port;
  const url = options.publicUrl ?? `ws://${options.host ?? '127.0.0.1'}:${port}`;
  let geckos: GeckosRouter | null = null;
  if (options.geckos) {
    try {
      geckos = await startGeckosRouter(options.geckos, {
        server,
        host: options.host ?? '127.0.0.1',
        publicKey: keyPair.publicKey,
        room: (roomId) => runtimes.get(roomId),
        onError: options.onError,
      });
    } catch (e) {
      server.close();
      throw e;
    }
  }

  const info = (): ProcessInfo => {
    let ccu = 0;
    for (const r of runtimes.values()) ccu += r.clientCount();
    return {
      id,
      wsUrl: url,
      geckosUrl: geckos?.url,
      capacity,
      ccu,
      rooms: runtimes.size,
      state: state === 'ready' ? 'ready' : 'draining',
    };
  };
  const recordOf = (r: RoomRuntime): RoomRecord => {
    const record: RoomRecord = {
      id: r.id,
      name: r.name,
      process: id,
      wsUrl: `${url}/rooms/${encodeURIComponent(r.id)}`,
      clients: 0,
      reserved: 0,
      capacity: r.definition.capacity,
      locked: state !== 'ready',
      private: r.definition.private ?? false,
      state: 'open',
      metadata: r.definition.metadata ?? {},
    };
    if (geckos) record.geckosUrl = geckos.url;
    return record;
  };
  const sync = async (r: RoomRuntime) => {
    if (r.detached) return;
    await backend.syncRoom(r.id, r.seatsInUse());
  };
  const env: RoomEnv = {
    backend,
    publicKey: keyPair.publicKey,
    stats,
    now: () => performance.now(),
    onError: options.onError,
    changed: (r) => {
      r.idleSinceMs = r.clientCount() === 0 ? performance.now() : undefined;
      sync(r).catch(report);
    },
  };

  const detach = async (r: RoomRuntime) => {
    if (runtimes.delete(r.id)) notifier.watch(r, false);
    await r.stop();
  };
  const disposeRoom = async (roomId: string) => {
    const r = runtimes.get(roomId);
    if (!r) return;
    r.detached = true;
    await backend.removeRoom(roomId).catch(report);
    await detach(r);
  };
  const notifier = createHostNotifier(id, backend, runtimes, report);
  const start = async (name: string, roomId: string, snapshot?: Uint8Array): Promise<RoomRecord> => {
    const definition = definitions.get(name);
    if (!definition) throw new NetError('RoomUnknown', `this process has no room definition named ${name}`);
    if (runtimes.has(roomId)) throw new NetError('Usage', `room ${roomId} already runs here`);
    const r = await RoomRuntime.start(roomId, definition, env, snapshot);
    runtimes.set(roomId, r);
    notifier.watch(r, true);
    const record = recordOf(r);
    await backend.putRoom(record);
    await backend.putProcess(info(), ttlMs);
    return record;
  };
  const serve = async (command: ProcessCommand): Promise<CommandReply> => {
    if (state !== 'ready') return { ok: false, error: 'draining' };
    if (runtimes.size >= maxRooms) {
      stats.roomsRefused++;
      return { ok: false, error: `this process hosts its maximum of ${maxRooms} rooms` };
    }
    try {
      const snapshot = command.op === 'adopt' ? new Uint8Array(Buffer.from(command.snapshot, 'base64')) : undefined;
      return { ok: true, room: await start(command.name, command.roomId, snapshot) };
    } catch (e) {
      return { ok: false, error: e instanceof NetError && e.code === 'RoomUnknown' ? 'unknown-name' : String(e) };
    }
  };

  const heartbeat = async () => {
    await backend.putProcess(info(), ttlMs);
    const now = performance.now();
    for (const r of [...runtimes.values()]) {
      if (r.detached) continue;
      await sync(r);
      const users = [...r.users()].map(([clientId, userId]) => ({
        userId,
        data: r.definition.presenceData?.(r, clientId, userId),
      }));
      await backend.putPresence(r.id, id, users, ttlMs);
      if (r.seatsInUse() === 0 && r.idleSinceMs !== undefined && now - r.idleSinceMs >= idleMs) {
        const record = await backend.getRoom(r.id);
        if (!record || record.reserved === 0) await disposeRoom(r.id);
      }
    }
    await backend.purgeDeadProcesses();
  };
  let beating = false;
  const timer = setInterval(() => {
    if (beating || state === 'closed') return;
    beating = true;
    heartbeat()
      .catch(report)
      .finally(() => (beating = false));
  }, heartbeatMs);

  await backend.putProcess(info(), ttlMs);
  const stopCommands = await backend.onCommand(id, serve);

  const internals: HostInternals = {
    id,
    backend,
    keyPair,
    runtimes,
    onError: options.onError,
    async setDraining() {
      state = 'draining';
      await backend.putProcess(info(), ttlMs);
      for (const r of runtimes.values()) await backend.patchRoom(r.id, { locked: true });
    },
    detach,
  };

  const host: RoomHost = {
    id,
    url,
    port,
    server,
    geckos,
    stats,
    get state() {
      return state;
    },
    rooms: () => [...runtimes.values()],
    notify: notifier.notify,
    onNotify: notifier.onNotify,
    createRoom: (name, roomId = randomUUID()) => start(name, roomId),
    disposeRoom,
    drain: async (drainOptions) => {
      const result = await drainHost(internals, drainOptions ?? {});
      await host.close();
      return result;
    },
    async close() {
      if (state === 'closed') return;
      state = 'closed';
      clearInterval(timer);
      await stopCommands().catch(report);
      for (const r of [...runtimes.values()]) await disposeRoom(r.id);
      await backend.removeProcess(id).catch(report);
      await geckos?.close().catch(report);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return host;
}
