/**
 * A room process: hosts many rooms (each its own world and server plugin) behind one HTTP server, where room `id`
 * is the WebSocket path `/rooms/<id>`, and optionally one geckos.io server shared by its rooms (see
 * geckos-router.ts). It registers itself in the registry with an expiry renewed by a heartbeat,
 * syncs its rooms' client counts and presence, creates rooms when a matchmaker asks, disposes empty rooms after an
 * idle time, sweeps the rooms of dead processes, and drains on request (see room-drain.ts). Node only.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { NetError, usageError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import type { KeyPair } from '../session/identity.ts';
import { RoomRuntime } from './hosted-room.ts';
import type { RoomEnv, RoomHostStats } from './hosted-room.ts';
import type { HostedRoom, RoomDefinition } from './room-definition.ts';
import { drainHost } from './room-drain.ts';
import type { Matchmaker } from './matchmaker.ts';
import { createMatchmakerHandler } from './matchmaker-http.ts';
import type { DrainOptions, DrainReport } from './room-drain.ts';
import type { CommandReply, ProcessCommand, ProcessInfo, RoomRecord, ScaleBackend } from './scale-backend.ts';
import { encodeMetadata, isId, isRoomName } from './scale-records.ts';
import { createHostNotifier } from './host-notify.ts';
import { startGeckosRouter } from './geckos-router.ts';
import type { GeckosRouter, RoomHostGeckos, RoomHostGeckosOptions } from './geckos-router.ts';
import type { NotifyOptions } from './host-notify.ts';

/** Default heartbeat: the registry learns client counts within a second. */
export const DEFAULT_HEARTBEAT_MS = 1000;
/** Default process expiry: three missed heartbeats and the process (and its rooms) are gone. */
export const DEFAULT_PROCESS_TTL_MS = 3000;
/**
 * Default cap on rooms per process: joins create rooms (one per `capacity` seats), so a flood of joins could make
 * rooms without end; 256 rooms of 8 is 2,048 clients, past what one process serves at 30-60 Hz anyway.
 */
export const DEFAULT_MAX_ROOMS = 256;
/** Default idle time after which an empty room (no clients, no reservations) is disposed. */
export const DEFAULT_IDLE_DISPOSE_MS = 30_000;

/** Options of `createRoomHost`. */
export interface RoomHostOptions {
  /** The registry of processes, rooms, seats and presence (Redis or memory). */
  backend: ScaleBackend;
  /** The room kinds this process can host (each made with `defineRoom`). */
  definitions: readonly RoomDefinition[];
  /** The deployment's Ed25519 key pair: the public key checks reservations, the secret signs handover seats. */
  keyPair: KeyPair;
  /** Process id (default: host name, pid and a random suffix). */
  id?: string;
  /** Address to listen on (default '127.0.0.1'). */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** The WebSocket base URL clients reach this process at (default `ws://<host>:<port>`; behind a proxy, its URL). */
  publicUrl?: string;
  /**
   * Serve geckos.io (WebRTC) too: one geckos.io server for all rooms of this process, one UDP port range; clients
   * connect with their seat reservation as authorization (`joinRoom({ transport: 'geckos' })`).
   */
  geckos?: RoomHostGeckosOptions;
  /** Most clients in all rooms of this process (default 1,000). */
  capacity?: number;
  /** Most rooms this process hosts at once (default `DEFAULT_MAX_ROOMS`): beyond, a create is refused. */
  maxRooms?: number;
  /** Heartbeat to the registry, in ms (default 1,000): it renews the process and reports client counts. */
  heartbeatMs?: number;
  /** Process expiry in the registry, in ms (default 3,000): a process not renewed within it is gone. */
  processTtlMs?: number;
  /** Idle time in ms after which an empty room (no clients, no reservations) is disposed (default 30,000). */
  idleDisposeMs?: number;
  /** Serve the matchmaker's `/matchmake/*` on this process's HTTP server too. */
  matchmaker?: Matchmaker;
  /** Receives problems caused by clients and by the registry; nothing throws into the rooms. */
  onError?: ErrorHandler;
}

/** A running room process. */
export interface RoomHost {
  /** The process id in the registry. */
  readonly id: string;
  /** The WebSocket base URL advertised. */
  readonly url: string;
  /** The TCP port the HTTP and WebSocket server listens on. */
  readonly port: number;
  /** The HTTP server (a matchmaker may serve on it: `serveMatchmaker(host.server, ...)`). */
  readonly server: http.Server;
  /** The geckos.io endpoint, when the host was created with `geckos`; else null. */
  readonly geckos: RoomHostGeckos | null;
  /** The host's counters. */
  readonly stats: RoomHostStats;
  /** 'ready', 'draining' or 'closed'. */
  readonly state: 'ready' | 'draining' | 'closed';
  /** Rooms running here. */
  rooms(): HostedRoom[];
  /** Creates a room of definition `name` here (a matchmaker normally asks for it). */
  createRoom(name: string, roomId?: string): Promise<RoomRecord>;
  /** Disposes a room and removes it from the registry. */
  disposeRoom(roomId: string): Promise<void>;
  /**
   * Publishes `event` (JSON) on `domain` to every process's subscribers (`durable`: through the domain's capped
   * stream, so a subscriber that is briefly away does not miss it).
   */
  notify(domain: string, event: unknown, options?: NotifyOptions): Promise<void>;
  /** Receives what any process publishes on `domain` (with the publishing process's id). Returns the stop. */
  onNotify(
    domain: string,
    handler: (event: unknown, from: string) => void,
    options?: NotifyOptions,
  ): Promise<() => Promise<void>>;
  /** Stops taking rooms, then waits for rooms to empty or hands them over (see `DrainOptions`). */
  drain(options?: DrainOptions): Promise<DrainReport>;
  /** Disposes every room, leaves the registry and closes the server. */
  close(): Promise<void>;
}

/** Internal side of a host, used by the drain. */
export interface HostInternals {
  readonly id: string;
  readonly backend: ScaleBackend;
  readonly keyPair: KeyPair;
  readonly runtimes: Map<string, RoomRuntime>;
  readonly onError?: ErrorHandler;
  setDraining(): Promise<void>;
  detach(room: RoomRuntime): Promise<void>;
}

/** Starts a room process and registers it. */
export async function createRoomHost(options: RoomHostOptions): Promise<RoomHost> {
  const definitions = new Map<string, RoomDefinition>();
  for (const d of options.definitions) {
    if (!isRoomName(d.name))
      usageError(`room name ${JSON.stringify(d.name)} is not valid`, 'use 1..64 of [A-Za-z0-9_.:-]');
    if (!(Number.isInteger(d.capacity) && d.capacity > 0))
      usageError(`capacity of ${d.name} must be > 0`, 'pass an integer');
    for (const domain of d.notify ?? [])
      if (!isRoomName(domain))
        usageError(`notify domain ${JSON.stringify(domain)} of ${d.name} is not valid`, 'use 1..64 of [A-Za-z0-9_.:-]');
    if (d.metadata && encodeMetadata(d.metadata) === null)
      usageError(`metadata of ${d.name} is too big`, 'keep it under 4 KiB of JSON');
    definitions.set(d.name, d);
  }
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

  const matchmake = options.matchmaker
    ? createMatchmakerHandler({ matchmaker: options.matchmaker, backend: options.backend })
    : () => false;
  const server = http.createServer((req, res) => {
    if (!matchmake(req, res)) res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  });
  // One upgrade listener routes `/rooms/<id>` to that room's transport; anything else is cut.
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    const m = /^\/rooms\/([^/]{1,400})$/.exec(path);
    let id: string | undefined;
    try {
      id = m ? decodeURIComponent(m[1]) : undefined;
    } catch {
      id = undefined;
    }
    const room = id === undefined ? undefined : runtimes.get(id);
    if (room && !room.detached) room.transport.websocket.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
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
