/**
 * Asking the matchmaker for a seat (`POST /matchmake/join`) and checking its answer; fails with a NetError naming
 * why there is none (RoomFull, RoomLocked, RoomUnknown, MatchmakerUnavailable).
 */
import { NetError } from '../errors.ts';
import type { ErrorCodeName } from '../errors.ts';

/** A seat the matchmaker granted (as `POST /matchmake/join` answers). */
export interface RoomSeat {
  /** Id of the granted room. */
  roomId: string;
  /** The room definition's name. */
  name: string;
  /** The room's WebSocket URL. */
  url: string;
  /** The geckos.io signalling origin of the room's process (`http(s)://host[:port]`), when it serves one. */
  geckosUrl?: string;
  /** The signed seat reservation, passed as the client's `auth`. */
  token: string;
  /** The user id the seat is held for. */
  userId: string;
  /** When the reservation expires, in wall-clock ms (`Date.now()` time). */
  expiresAtMs: number;
}

/** Options of `requestSeat`. */
export interface SeatRequest {
  /** The matchmaker's base URL, e.g. `https://play.example.com` (it serves `/matchmake/join`). */
  matchmaker: string;
  /** A room name (join-or-create) or `{ id }` of one room. */
  room:
    | string
    | {
        /** Id of the room. */
        id: string;
      };
  /** The user id to ask the seat for (default: the matchmaker's choice, e.g. a fresh id). */
  userId?: string;
  /** `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

/** A geckos.io signalling origin: scheme, host and port, no path (geckos.io adds its own), at most 512 characters. */
const GECKOS_URL = /^https?:\/\/[^\s/?#]{1,500}$/;
/** The error codes a matchmaker's answer may name; anything else reads as MatchmakerUnavailable. */
const CODES: readonly ErrorCodeName[] = ['RoomFull', 'RoomLocked', 'RoomUnknown', 'MatchmakerUnavailable'];

function isSeat(v: unknown): v is RoomSeat {
  const s = v as Partial<RoomSeat> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.roomId === 'string' &&
    typeof s.name === 'string' &&
    typeof s.url === 'string' &&
    /^wss?:\/\//.test(s.url) &&
    typeof s.token === 'string' &&
    typeof s.userId === 'string' &&
    typeof s.expiresAtMs === 'number' &&
    (s.geckosUrl === undefined || (typeof s.geckosUrl === 'string' && GECKOS_URL.test(s.geckosUrl)))
  );
}

/** Asks the matchmaker for a seat; rejects with a NetError naming why there is none. */
export async function requestSeat(request: SeatRequest): Promise<RoomSeat> {
  const body = typeof request.room === 'string' ? { name: request.room } : { roomId: request.room.id };
  const doFetch = request.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(new URL('/matchmake/join', request.matchmaker), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, userId: request.userId }),
    });
  } catch (e) {
    throw new NetError('MatchmakerUnavailable', `the matchmaker could not be reached: ${String(e)}`);
  }
  const answer = (await response.json().catch(() => null)) as { code?: unknown; message?: unknown } | null;
  if (response.ok && isSeat(answer)) return answer;
  const code = CODES.find((c) => c === answer?.code) ?? 'MatchmakerUnavailable';
  const message = typeof answer?.message === 'string' ? answer.message.slice(0, 300) : `HTTP ${response.status}`;
  throw new NetError(code, message);
}
