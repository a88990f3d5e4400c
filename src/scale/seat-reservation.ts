/**
 * Signed seat reservations: `ecs1.<claims>.<signature>`, base64url, the claims a JSON object
 * `{r: room id, s: seat id, u: user id, e: expiry (ms since the epoch)}` signed with the deployment's Ed25519 key.
 * The matchmaker signs; the room's `authorize` verifies (signature, room, expiry) before it asks the registry to turn
 * the seat into a client, which happens at most once per seat.
 */
import { ed25519Sign, ed25519Verify } from '../session/ed25519.ts';
import type { KeyPair } from '../session/identity.ts';
import { isId } from './scale-records.ts';

/** Version prefix of a reservation token. */
const TOKEN_PREFIX = 'ecs1.';
/** A token is at most 1,024 characters: the claims are four short fields (the Hello's auth allows 4,096). */
export const MAX_RESERVATION_CHARS = 1024;

/** What a reservation says. */
export interface SeatClaims {
  /** Id of the room the seat is in. */
  roomId: string;
  /** Id of the reserved seat (consumed once on Hello). */
  seatId: string;
  /** The user id the seat is held for. */
  userId: string;
  /** When the reservation expires, in wall-clock ms (`Date.now()` time). */
  expiresAtMs: number;
}

/** Why a token was refused. */
export type ReservationProblem = 'invalid' | 'expired' | 'other-room';

function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function fromBase64url(s: string): Uint8Array | null {
  if (!/^[\w-]*$/.test(s)) return null;
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

/** Signs a reservation with the deployment's key. */
export function signReservation(claims: SeatClaims, keyPair: KeyPair): string {
  const json = JSON.stringify({ r: claims.roomId, s: claims.seatId, u: claims.userId, e: claims.expiresAtMs });
  const body = TOKEN_PREFIX + toBase64url(new TextEncoder().encode(json));
  return `${body}.${toBase64url(ed25519Sign(new TextEncoder().encode(body), keyPair.secretKey))}`;
}

/**
 * The claims of a token signed by `publicKey`, whatever room it names and whether or not it expired, or 'invalid'.
 * Reads nothing before the length, prefix and signature are checked.
 */
export function decodeReservation(token: unknown, publicKey: Uint8Array): SeatClaims | 'invalid' {
  if (typeof token !== 'string' || token.length > MAX_RESERVATION_CHARS || !token.startsWith(TOKEN_PREFIX))
    return 'invalid';
  const dot = token.lastIndexOf('.');
  if (dot <= TOKEN_PREFIX.length) return 'invalid';
  const body = token.slice(0, dot);
  const signature = fromBase64url(token.slice(dot + 1));
  const payload = fromBase64url(body.slice(TOKEN_PREFIX.length));
  if (!signature || signature.length !== 64 || !payload) return 'invalid';
  if (!ed25519Verify(new TextEncoder().encode(body), signature, publicKey)) return 'invalid';
  let v: { r?: unknown; s?: unknown; u?: unknown; e?: unknown };
  try {
    v = JSON.parse(new TextDecoder().decode(payload)) as typeof v;
  } catch {
    return 'invalid';
  }
  if (typeof v !== 'object' || v === null || !isId(v.r) || !isId(v.s) || !isId(v.u)) return 'invalid';
  if (typeof v.e !== 'number' || !Number.isFinite(v.e)) return 'invalid';
  return { roomId: v.r, seatId: v.s, userId: v.u, expiresAtMs: v.e };
}

/** The claims of a token signed by `publicKey` for `roomId` and not expired at `nowMs`, or why not. */
export function verifyReservation(
  token: unknown,
  publicKey: Uint8Array,
  roomId: string,
  nowMs: number,
): SeatClaims | ReservationProblem {
  const claims = decodeReservation(token, publicKey);
  if (claims === 'invalid') return claims;
  if (claims.roomId !== roomId) return 'other-room';
  if (claims.expiresAtMs <= nowMs) return 'expired';
  return claims;
}
