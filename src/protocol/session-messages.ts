/**
 * Shapes and validators of the session's control messages after the handshake: Ping/Pong (keepalive and clock
 * sync), Presence (who is in the session) and Goodbye/Shutdown. Like `parseHello`, a validator returns null for
 * anything that is not exactly the expected shape.
 */
import { asNumber, asString, asUint, isRecord, PUBLIC_KEY_BYTES } from './handshake.ts';

/** Presence status of a user: active, idle (no input for a while) or away. */
export type PresenceStatus = 'active' | 'idle' | 'away';

/** The presence statuses, in the order of growing inactivity. */
export const PRESENCE_STATUSES: readonly PresenceStatus[] = ['active', 'idle', 'away'];

/** Longest user id accepted from `authorize` or the wire. */
export const MAX_USER_ID_LENGTH = 256;

/** One user of the session as every client sees it. */
export interface PresenceUser {
  /** The user's client id in this session. */
  clientId: number;
  /** The user id `authorize` gave this client, if any. */
  userId?: string;
  /** The user's role, e.g. `viewer`, `participant` or `admin`. */
  role: string;
  /** The user's presence status: `active`, `idle` or `away`. */
  status: PresenceStatus;
  /** When the client first joined, in server time (ms). */
  connectedAt: number;
  /** True while its link is lost and the server keeps its session for the resume window. */
  suspended: boolean;
  /** The member's Ed25519 public key (proven in its handshake): clients verify its command signatures with it. */
  publicKey?: Uint8Array;
}

/**
 * Ping: `{clientTime}` from a client (clock sync and keepalive) or `{serverTime}` from the server (keepalive).
 * Pong echoes the Ping's time and adds the responder's: `{clientTime, serverTime}`.
 */
export interface TimeBody {
  clientTime?: number;
  serverTime?: number;
}

/**
 * Server → client Presence: `full` replaces the whole list with `users`; otherwise `users` are added or
 * updated and `left` (client ids) removed.
 */
export interface PresenceBody {
  full: boolean;
  users: PresenceUser[];
  left: number[];
}

/** Client → server Presence: the client's own status. */
export interface PresenceStatusBody {
  status: PresenceStatus;
}

/** A presence status, or undefined. */
export function asPresenceStatus(v: unknown): PresenceStatus | undefined {
  return v === 'active' || v === 'idle' || v === 'away' ? v : undefined;
}

/** Validates a Ping or Pong body: a map with at least one finite time. */
export function parseTimeBody(v: unknown): TimeBody | null {
  if (!isRecord(v)) return null;
  const out: TimeBody = {};
  if (v.clientTime !== undefined) {
    const t = asNumber(v.clientTime);
    if (t === undefined) return null;
    out.clientTime = t;
  }
  if (v.serverTime !== undefined) {
    const t = asNumber(v.serverTime);
    if (t === undefined) return null;
    out.serverTime = t;
  }
  return out.clientTime === undefined && out.serverTime === undefined ? null : out;
}

/** Validates one presence entry. */
export function parsePresenceUser(v: unknown): PresenceUser | null {
  if (!isRecord(v)) return null;
  const clientId = asUint(v.clientId);
  const role = asString(v.role, 64);
  const status = asPresenceStatus(v.status);
  const connectedAt = asNumber(v.connectedAt);
  const suspended = v.suspended === undefined ? false : v.suspended;
  if (
    clientId === undefined ||
    clientId === 0 ||
    role === undefined ||
    status === undefined ||
    connectedAt === undefined ||
    typeof suspended !== 'boolean'
  )
    return null;
  const user: PresenceUser = { clientId, role, status, connectedAt, suspended };
  if (v.userId !== undefined) {
    const userId = asString(v.userId, MAX_USER_ID_LENGTH);
    if (userId === undefined) return null;
    user.userId = userId;
  }
  if (v.publicKey !== undefined) {
    if (!(v.publicKey instanceof Uint8Array) || v.publicKey.length !== PUBLIC_KEY_BYTES) return null;
    user.publicKey = v.publicKey;
  }
  return user;
}

/** Validates a server → client Presence body. */
export function parsePresence(v: unknown): PresenceBody | null {
  if (!isRecord(v)) return null;
  const full = v.full === undefined ? false : v.full;
  if (typeof full !== 'boolean') return null;
  const users: PresenceUser[] = [];
  if (v.users !== undefined) {
    if (!Array.isArray(v.users)) return null;
    for (const u of v.users) {
      const user = parsePresenceUser(u);
      if (user === null) return null;
      users.push(user);
    }
  }
  const left: number[] = [];
  if (v.left !== undefined) {
    if (!Array.isArray(v.left)) return null;
    for (const id of v.left) {
      const clientId = asUint(id);
      if (clientId === undefined) return null;
      left.push(clientId);
    }
  }
  return { full, users, left };
}

/** Validates a client → server Presence body (its own status). */
export function parsePresenceStatus(v: unknown): PresenceStatusBody | null {
  if (!isRecord(v)) return null;
  const status = asPresenceStatus(v.status);
  return status === undefined ? null : { status };
}

/** Where a room moved to: the room's new WebSocket URL and a fresh seat reservation there. */
export interface MoveNotice {
  /** The room's new WebSocket URL. */
  url: string;
  /** A fresh seat reservation token to present there. */
  token: string;
  /**
   * The new process's geckos.io signalling origin (`http(s)://host[:port]`), when it serves one: a client on geckos.io
   * reconnects there (the token names the room).
   */
  geckosUrl?: string;
}

/** A Move's URL is at most 512 characters and its token at most 1,024 (a reservation is ~250). */
const MAX_MOVE_URL_CHARS = 512;
const MAX_MOVE_TOKEN_CHARS = 1024;

/**
 * Validates a Move body `{url, token, geckosUrl?}`: a ws(s) URL, a token and optionally an http(s) origin without
 * path, all bounded.
 */
export function parseMove(v: unknown): MoveNotice | null {
  if (!isRecord(v)) return null;
  const url = asString(v.url, MAX_MOVE_URL_CHARS);
  const token = asString(v.token, MAX_MOVE_TOKEN_CHARS);
  if (url === undefined || token === undefined || !/^wss?:\/\/[^\s]+$/.test(url)) return null;
  if (v.geckosUrl === undefined) return { url, token };
  const geckosUrl = asString(v.geckosUrl, MAX_MOVE_URL_CHARS);
  if (geckosUrl === undefined || !/^https?:\/\/[^\s/?#]+$/.test(geckosUrl)) return null;
  return { url, token, geckosUrl };
}

/** Validates a Goodbye or Shutdown body: an empty map or `{reason}`; returns the reason ('' when none). */
export function parseFarewell(v: unknown): string | null {
  if (!isRecord(v)) return null;
  if (v.reason === undefined) return '';
  return asString(v.reason, 1024) ?? null;
}
