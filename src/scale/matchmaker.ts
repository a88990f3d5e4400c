/**
 * The matchmaker: join-or-create by room name, or join by id. A seat is taken atomically in the registry (so
 * concurrent joins never overfill a room), a room is created on the least-loaded process when none of that name has
 * a free seat (one creator at a time per name, through a short registry lock), and the answer is the room's URL
 * and a signed seat reservation that expires unless the client connects with it.
 */
import { randomUUID } from 'node:crypto';
import { usageError } from '../errors.ts';
import type { KeyPair } from '../session/identity.ts';
import type { ReserveResult, ScaleBackend } from './scale-backend.ts';
import { isId, isRoomName } from './scale-records.ts';
import { signReservation } from './seat-reservation.ts';

/** Default reservation lifetime: long enough to open a WebSocket and say Hello, short enough that a no-show frees its seat soon. */
export const DEFAULT_RESERVATION_MS = 10_000;
/** Default time a join may spend finding or creating a room. */
export const DEFAULT_JOIN_TIMEOUT_MS = 5000;
/** How long the "creating a room of this name" lock is held at most (a crashed creator releases it by expiry). */
const CREATE_LOCK_MS = 3000;
/** Wait between two looks while another join creates a room of the same name. */
const CREATE_WAIT_MS = 15;

/** What to join: a room name (join-or-create) or a room id. */
export type JoinTarget =
  | {
      /** A room name: join a room of this name with a free seat, or create one. */
      name: string;
    }
  | {
      /** A room id: join that room. */
      roomId: string;
    };

/** A granted seat: where to connect and with what. */
export interface SeatGrant {
  /** Id of the granted room. */
  roomId: string;
  /** The room definition's name. */
  name: string;
  /** The room's WebSocket URL. */
  url: string;
  /** The geckos.io signalling origin of the room's process, when it serves one (the reservation names the room). */
  geckosUrl?: string;
  /** The signed reservation, to pass as the client's `auth`. */
  token: string;
  /** The user id the seat is held for. */
  userId: string;
  /** When the reservation expires, in wall-clock ms (`Date.now()` time). */
  expiresAtMs: number;
}

/** Why no seat was granted (the error code a client sees). */
export type JoinFailureCode = 'RoomFull' | 'RoomLocked' | 'RoomUnknown' | 'MatchmakerUnavailable';

/** A join's outcome. */
export type JoinResult =
  | {
      /** A seat was granted. */
      ok: true;
      /** The granted seat. */
      seat: SeatGrant;
    }
  | {
      /** No seat was granted. */
      ok: false;
      /** Why, as the error code the client sees. */
      code: JoinFailureCode;
      /** Why, for people. */
      message: string;
    };

/** Options of `createMatchmaker`. */
export interface MatchmakerOptions {
  /** The registry of processes and rooms. */
  backend: ScaleBackend;
  /** The deployment's key pair (the room processes hold the same one). */
  keyPair: KeyPair;
  /** Lifetime of a seat reservation, in ms (default 10,000). */
  reservationMs?: number;
  /** Time a join may spend finding or creating a room, in ms (default 5,000). */
  joinTimeoutMs?: number;
}

/** Counters of a matchmaker. */
export interface MatchmakerStats {
  /** Joins asked for. */
  joins: number;
  /** Joins that got no seat (room full, locked, unknown, or the matchmaker unavailable). */
  refused: number;
  /** Rooms created by this matchmaker's joins. */
  roomsCreated: number;
}

/** The matchmaker. */
export interface Matchmaker {
  /** The matchmaker's counters. */
  readonly stats: MatchmakerStats;
  /** Finds (or creates) a room and holds a seat in it for `userId` (default: a fresh id). */
  join(target: JoinTarget, userId?: string): Promise<JoinResult>;
}

const failure = (code: JoinFailureCode, message: string): JoinResult => ({ ok: false, code, message });

/** Creates a matchmaker over a registry. */
export function createMatchmaker(options: MatchmakerOptions): Matchmaker {
  const { backend, keyPair } = options;
  const ttl = options.reservationMs ?? DEFAULT_RESERVATION_MS;
  const timeout = options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
  if (!(ttl > 0 && timeout > 0)) usageError('reservationMs and joinTimeoutMs must be > 0', 'pass milliseconds');
  const stats: MatchmakerStats = { joins: 0, refused: 0, roomsCreated: 0 };

  const grant = (r: ReserveResult & { ok: true }, userId: string): JoinResult => {
    stats.joins++;
    const token = signReservation({ roomId: r.room.id, seatId: r.seatId, userId, expiresAtMs: r.expiresAtMs }, keyPair);
    const seat: SeatGrant = {
      roomId: r.room.id,
      name: r.room.name,
      url: r.room.wsUrl,
      token,
      userId,
      expiresAtMs: r.expiresAtMs,
    };
    if (r.room.geckosUrl) seat.geckosUrl = r.room.geckosUrl;
    return { ok: true, seat };
  };

  /** Creates a room of `name` on the least-loaded process and takes a seat in it; null when another try is due. */
  const create = async (name: string, seatId: string, userId: string): Promise<JoinResult | null> => {
    const target = await backend.leastLoadedProcess();
    if (!target) return failure('MatchmakerUnavailable', 'no room process is ready');
    const reply = await backend.sendCommand(target.id, { op: 'create', roomId: randomUUID(), name }, timeout);
    if (!reply.ok) {
      if (reply.error === 'unknown-name') return failure('RoomUnknown', `no room definition is named ${name}`);
      return failure('MatchmakerUnavailable', `process ${target.id} could not create a room: ${reply.error}`);
    }
    stats.roomsCreated++;
    const seat = await backend.reserveById(reply.room.id, seatId, ttl);
    return seat.ok ? grant(seat, userId) : null;
  };

  const byName = async (name: string, userId: string): Promise<JoinResult> => {
    const seatId = randomUUID();
    const until = performance.now() + timeout;
    while (performance.now() < until) {
      const found = await backend.reserveByName(name, seatId, ttl);
      if (found.ok) return grant(found, userId);
      const lock = await backend.tryLock(`create:${name}`, CREATE_LOCK_MS);
      if (lock === null) {
        await new Promise((r) => setTimeout(r, CREATE_WAIT_MS));
        continue;
      }
      try {
        // Someone may have created one between our look and our lock.
        const again = await backend.reserveByName(name, seatId, ttl);
        if (again.ok) return grant(again, userId);
        const made = await create(name, seatId, userId);
        if (made) return made;
      } finally {
        await backend.unlock(`create:${name}`, lock);
      }
    }
    return failure('RoomFull', `no seat in a room named ${name} within ${timeout} ms`);
  };

  const byId = async (roomId: string, userId: string): Promise<JoinResult> => {
    const r = await backend.reserveById(roomId, randomUUID(), ttl);
    if (r.ok) return grant(r, userId);
    if (r.reason === 'full') return failure('RoomFull', `room ${roomId} is full`);
    if (r.reason === 'locked') return failure('RoomLocked', `room ${roomId} is locked`);
    return failure('RoomUnknown', `no room has the id ${roomId}`);
  };

  return {
    stats,
    async join(target, userId = `user-${randomUUID()}`) {
      if (!isId(userId)) return failure('MatchmakerUnavailable', 'the user id is not valid');
      const result =
        'roomId' in target
          ? isId(target.roomId)
            ? await byId(target.roomId, userId)
            : failure('RoomUnknown', 'the room id is not valid')
          : isRoomName(target.name)
            ? await byName(target.name, userId)
            : failure('RoomUnknown', 'the room name is not valid');
      if (!result.ok) stats.refused++;
      return result;
    },
  };
}
