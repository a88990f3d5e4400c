/**
 * The options and public shape of a room process (`createRoomHost`), the internals the drain sees, and the checks
 * of room definitions made before anything starts.
 */
import type http from 'node:http';
import { usageError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import type { KeyPair } from '../session/identity.ts';
import type { RoomHostStats } from './hosted-room.ts';
import type { HostedRoom, RoomDefinition } from './room-definition.ts';
import type { Matchmaker } from './matchmaker.ts';
import type { DrainOptions, DrainReport } from './room-drain.ts';
import type { RoomRecord, ScaleBackend } from './scale-backend.ts';
import { encodeMetadata, isRoomName } from './scale-records.ts';
import type { RoomHostGeckos, RoomHostGeckosOptions } from './geckos-router.ts';
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

/** Checks every room definition (name, capacity, notify domains, metadata size) and indexes them by name. */
export function checkDefinitions(list: readonly RoomDefinition[]): Map<string, RoomDefinition> {
  const definitions = new Map<string, RoomDefinition>();
  for (const d of list) {
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
  return definitions;
}
