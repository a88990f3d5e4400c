/**
 * The registry of a scaled-out deployment, behind one small interface so another engine can be added later: live
 * processes (expiring, renewed by heartbeat), rooms with their seats, an index of open rooms by free seats, seat
 * reservations that expire, presence, notifications by domain (fire-and-forget and durable), and commands to one
 * process. `createRedisBackend` is the real one; `createMemoryBackend` serves unit tests in one process.
 */

/** A process is `ready` (takes new rooms) or `draining` (takes none; its rooms empty or move away). */
export type ProcessState = 'ready' | 'draining';

/** One room process as the registry lists it. */
export interface ProcessInfo {
  /** Unique id (e.g. host name + pid + random suffix). */
  id: string;
  /** Base WebSocket URL clients reach this process at, e.g. `ws://10.0.0.5:9001` (rooms add `/rooms/<id>`). */
  wsUrl: string;
  /** The geckos.io (WebRTC) signalling origin of this process (`http(s)://host[:port]`), when it serves one. */
  geckosUrl?: string;
  /** Most clients this process serves in all its rooms. */
  capacity: number;
  /** Clients connected now, in all its rooms. */
  ccu: number;
  /** Rooms hosted now. */
  rooms: number;
  /** Whether the process takes new rooms (`ready`) or is draining. */
  state: ProcessState;
}

/** A room is `open` (or locked, by its flags) or `moving` (being handed to another process). */
export type RoomState = 'open' | 'moving';

/** One room as the registry lists it. */
export interface RoomRecord {
  /** The room's id (unique in the deployment). */
  id: string;
  /** The room definition's name; join-or-create picks among rooms of one name. */
  name: string;
  /** Id of the process that hosts it. */
  process: string;
  /** WebSocket URL of the room itself (its process's URL + `/rooms/<id>`). */
  wsUrl: string;
  /**
   * The geckos.io signalling origin of the room's process (`http(s)://host[:port]`), when it serves one: a geckos.io
   * client connects there with the seat reservation as its authorization, which names the room.
   */
  geckosUrl?: string;
  /** Clients the owning process counts (connected, suspended, or admitted and not yet welcomed). */
  clients: number;
  /** Seats held by reservations not used yet. */
  reserved: number;
  /** Most clients the room takes. */
  capacity: number;
  /** A locked room takes no new seats, by name or by id. */
  locked: boolean;
  /** A private room is never picked by name; it takes seats by id. */
  private: boolean;
  /** Whether the room is open or being moved to another process. */
  state: RoomState;
  /** Application data shown in room lists (JSON, at most `MAX_METADATA_BYTES` encoded). */
  metadata: Record<string, unknown>;
}

/** Why a seat could not be reserved: no seat left, locked, or no such room. */
export type ReserveFailure = 'full' | 'locked' | 'unknown';

/** A seat held for `ttlMs`, or why there is none. */
export type ReserveResult =
  | {
      /** A seat is held. */
      ok: true;
      /** The room the seat is in. */
      room: RoomRecord;
      /** Id of the held seat. */
      seatId: string;
      /** When the hold expires, in wall-clock ms (`Date.now()` time). */
      expiresAtMs: number;
    }
  | {
      /** No seat is held. */
      ok: false;
      /** Why not. */
      reason: ReserveFailure;
    };

/** What the room process finds when a client presents a reservation: the seat becomes a client, or it is gone. */
export type ConsumeResult = 'ok' | 'expired';

/** One user in one room, as presence lists it. */
export interface PresenceEntry {
  /** The user's id. */
  userId: string;
  /** Id of the room the user is in. */
  roomId: string;
  /** Id of the process hosting that room. */
  process: string;
  /** Application data (JSON), e.g. a display name. */
  data?: unknown;
}

/** A command to one process (sent by a matchmaker or a draining process), answered by that process. */
export type ProcessCommand =
  | {
      /** Create a new room. */
      op: 'create';
      /** Id of the room to create. */
      roomId: string;
      /** The room definition's name. */
      name: string;
    }
  /** Take over a room from a draining process, restoring `snapshot` (base64), under the same id. */
  | {
      /** Adopt a room from a draining process. */
      op: 'adopt';
      /** Id of the room (kept). */
      roomId: string;
      /** The room definition's name. */
      name: string;
      /** The room's state snapshot, base64. */
      snapshot: string;
      /** Id of the draining process it comes from. */
      from: string;
    };

/** The answer to a `ProcessCommand`: the room record, or why not. */
export type CommandReply =
  | {
      /** The command was carried out. */
      ok: true;
      /** The room's record now. */
      room: RoomRecord;
    }
  | {
      /** The command failed. */
      ok: false;
      /** Why, for people. */
      error: string;
    };

/** Counters of a backend: what it dropped and what it cleaned up. */
export interface ScaleBackendStats {
  /** Reservations that expired unused and gave their seat back. */
  expiredSeats: number;
  /** Processes whose key expired and whose rooms were purged (by this backend's sweeps). */
  purgedProcesses: number;
  /** Rooms removed with their dead process. */
  purgedRooms: number;
  /** Records, commands or notifications that did not fit their shape or size (dropped). */
  droppedInvalid: number;
  /** Notifications published. */
  published: number;
  /** Notifications delivered to local subscribers. */
  delivered: number;
}

/** The registry interface that room hosts, matchmakers and notifiers use. */
export interface ScaleBackend {
  /** 'redis' or 'memory'. */
  readonly kind: string;
  /** The backend's counters. */
  readonly stats: ScaleBackendStats;

  /** Registers or renews a process; it disappears when not renewed within `ttlMs`. Ready ones join the load index. */
  putProcess(info: ProcessInfo, ttlMs: number): Promise<void>;
  /** Removes a process (and its load-index entry) at once, e.g. at the end of a drain. */
  removeProcess(id: string): Promise<void>;
  /** The live `ready` process with the lowest load (ccu / capacity) below its capacity, other than `exclude`; purges dead ones. */
  leastLoadedProcess(exclude?: string): Promise<ProcessInfo | null>;
  /** Every live process. */
  listProcesses(): Promise<ProcessInfo[]>;
  /** Removes the rooms, seats and presence of every process whose key expired; returns their ids. */
  purgeDeadProcesses(): Promise<string[]>;

  /** Creates or replaces a room (an adoption replaces process and URL and resets clients and seats). */
  putRoom(room: RoomRecord): Promise<void>;
  /** Changes a room's flags, state or metadata (and its place in the open index). */
  patchRoom(id: string, patch: Partial<Pick<RoomRecord, 'locked' | 'private' | 'state' | 'metadata'>>): Promise<void>;
  /** The owner's count of clients; frees expired reservations. Returns how many expired. */
  syncRoom(id: string, clients: number): Promise<number>;
  /** Removes a room, its seats and its presence. */
  removeRoom(id: string): Promise<void>;
  /** A room by id, or null when there is none. */
  getRoom(id: string): Promise<RoomRecord | null>;
  /** Rooms, all or of one name. */
  listRooms(name?: string): Promise<RoomRecord[]>;

  /** Atomically picks the open room of `name` with the fewest free seats (> 0) and holds one for `ttlMs`. */
  reserveByName(name: string, seatId: string, ttlMs: number): Promise<ReserveResult>;
  /** Atomically holds a seat in room `id`; `force` ignores locked / moving (a draining process moving its clients). */
  reserveById(id: string, seatId: string, ttlMs: number, force?: boolean): Promise<ReserveResult>;
  /** The reservation `seatId` became a client (true), or it had expired or never was (its seat is gone). */
  consumeSeat(roomId: string, seatId: string): Promise<ConsumeResult>;
  /** Takes a short lock (e.g. "creating a room of this name"); returns a token, or null when someone holds it. */
  tryLock(name: string, ttlMs: number): Promise<string | null>;
  /** Releases a lock taken with `tryLock` (only when `token` still holds it). */
  unlock(name: string, token: string): Promise<void>;

  /** Sets (and renews) the users of a room, each expiring after `ttlMs` unless renewed. */
  putPresence(
    roomId: string,
    process: string,
    users: readonly { userId: string; data?: unknown }[],
    ttlMs: number,
  ): Promise<void>;
  /** Removes one user from a room's presence at once (they left). */
  removePresence(roomId: string, userId: string): Promise<void>;
  /** Users in a room (not expired). */
  presence(roomId: string): Promise<PresenceEntry[]>;

  /** Publishes to every subscriber of `domain` in every process (fire-and-forget: a process not subscribed misses it). */
  publish(domain: string, message: string): Promise<void>;
  /** Receives what is published to `domain`; resolves once subscribed. Returns the unsubscribe. */
  subscribe(domain: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  /** Appends to the capped durable stream of `domain` (the oldest entries beyond `maxLength` are trimmed). */
  append(domain: string, message: string, maxLength: number): Promise<string>;
  /** Reads the durable stream of `domain` in order after entry `afterId` ('$': from now, '0': from the start). */
  follow(domain: string, afterId: string, handler: (id: string, message: string) => void): () => void;

  /** Sends a command to one process and waits for its reply (an error reply after `timeoutMs`). */
  sendCommand(process: string, command: ProcessCommand, timeoutMs: number): Promise<CommandReply>;
  /** Serves the commands sent to `process`. Returns the stop function. */
  onCommand(process: string, handler: (command: ProcessCommand) => Promise<CommandReply>): Promise<() => Promise<void>>;

  /** Closes connections and timers. */
  close(): Promise<void>;
}

/** Encoded metadata of a room is at most 4 KiB: room lists carry it for every room. */
export const MAX_METADATA_BYTES = 4096;

/** A notification is at most 64 KiB: bigger ones are dropped (and counted) on both sides. */
export const MAX_NOTIFY_BYTES = 64 * 1024;

/** A command (with an adopted room's snapshot) is at most 16 MiB. */
export const MAX_COMMAND_BYTES = 16 * 1024 * 1024;

/** Fresh zeroed backend counters. */
export function createBackendStats(): ScaleBackendStats {
  return { expiredSeats: 0, purgedProcesses: 0, purgedRooms: 0, droppedInvalid: 0, published: 0, delivered: 0 };
}
