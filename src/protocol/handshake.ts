/**
 * Shapes of the core control messages (MessagePack maps) and their validators. A validator returns null for
 * anything that is not exactly the expected shape, so session code never touches an unchecked value.
 */
import { parseSchemaSummary, type SchemaSummary } from './schema-diff.ts';

/**
 * Version of the ecsync wire protocol; peers with different versions refuse each other (`VersionMismatch`).
 * 2: the handshake proves key possession (Challenge / ChallengeResponse) and presence carries public keys.
 */
export const PROTOCOL_VERSION = 2;

/** Longest string field accepted in a control message (ids, tokens, names): bounds memory per message. */
export const MAX_CONTROL_STRING = 1024;

/** Bytes of an Ed25519 public key (tweetnacl `sign`). */
export const PUBLIC_KEY_BYTES = 32;

/** Bytes of an Ed25519 detached signature. */
export const SIGNATURE_BYTES = 64;

/** Bytes of a handshake nonce: 256 random bits are never repeated nor guessed. */
export const NONCE_BYTES = 32;

/** Client → server: first message of a connection. */
export interface HelloBody {
  /** The client's `PROTOCOL_VERSION`; the server refuses another with `VersionMismatch`. */
  protocolVersion: number;
  /** Hash of the client's registered components; the server refuses another with `SchemaMismatch`. */
  schemaHash: string;
  /** What the client can do, e.g. 'deflate' (inflates snapshots), 'ed25519' (signs with clientPublicKey). */
  capabilities: string[];
  /** The client's Ed25519 public key: its identity for signatures and for resuming. */
  clientPublicKey?: Uint8Array;
  /** Credentials for the server's `authorize` hook. */
  auth?: string;
  /** Present when resuming a suspended session: the token of the last Welcome. */
  resumeToken?: string;
  /** Ed25519 signature of `resumeProofBytes(sessionId, resumeToken)` by the client's key: proves the token is its own. */
  resumeProof?: Uint8Array;
  /** Random bytes the server signs in its Challenge, proving it holds the key it claims (NONCE_BYTES). */
  clientNonce?: Uint8Array;
}

/** Server → client after a Hello with a key or a nonce: what the client signs, and the server's own proof. */
export interface ChallengeBody {
  sessionId: string;
  serverPublicKey: Uint8Array;
  /** Fresh random bytes for this connection (NONCE_BYTES). */
  nonce: Uint8Array;
  /** Signature by the server's key of `serverProofBytes(...)`; present when the Hello had a `clientNonce`. */
  serverProof?: Uint8Array;
}

/** Client → server: the signature of `clientProofBytes(...)`; present when the Hello claimed a key. */
export interface ChallengeResponseBody {
  signature?: Uint8Array;
}

/** Server → client: the connection is accepted. */
export interface WelcomeBody {
  clientId: number;
  sessionId: string;
  role: string;
  capabilities: string[];
  serverPublicKey?: Uint8Array;
  serverTime: number;
  resumeToken: string;
  sendRateHz: number;
  /** True when this Welcome resumes a suspended session (same clientId and role). */
  resumed: boolean;
  /** The user id `authorize` gave this client, if any. */
  userId?: string;
  /** How long the server keeps this session after the link is lost, in ms (0 when unknown). */
  resumeWindowMs: number;
}

/** Either direction: `Error {code, message, fatal}`; a fatal error is followed by closing the link. */
export interface ErrorBody {
  code: number;
  message: string;
  fatal: boolean;
  /** With `SchemaMismatch` from the server: a summary of its manifest, so the client can name the difference. */
  schema?: SchemaSummary;
}

/** True for a plain object (a decoded MessagePack map). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** A bounded string, or undefined. */
export function asString(v: unknown, max = MAX_CONTROL_STRING): string | undefined {
  return typeof v === 'string' && v.length <= max ? v : undefined;
}

/** A finite number, or undefined. */
export function asNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A non-negative safe integer, or undefined. */
export function asUint(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** A list of short strings (at most `maxItems`), or undefined. */
export function asStringList(v: unknown, maxItems = 32): string[] | undefined {
  if (!Array.isArray(v) || v.length > maxItems) return undefined;
  const out: string[] = [];
  for (const x of v) {
    const s = asString(x, 64);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

function asBytes(v: unknown, max: number): Uint8Array | undefined {
  return v instanceof Uint8Array && v.length <= max ? v : undefined;
}

/** Validates a Hello body. */
export function parseHello(v: unknown): HelloBody | null {
  if (!isRecord(v)) return null;
  const protocolVersion = asUint(v.protocolVersion);
  const schemaHash = asString(v.schemaHash, 64);
  const capabilities = v.capabilities === undefined ? [] : asStringList(v.capabilities);
  if (protocolVersion === undefined || schemaHash === undefined || capabilities === undefined) return null;
  const hello: HelloBody = { protocolVersion, schemaHash, capabilities };
  if (v.clientPublicKey !== undefined) {
    const key = asBytes(v.clientPublicKey, PUBLIC_KEY_BYTES);
    if (key === undefined || key.length !== PUBLIC_KEY_BYTES) return null;
    hello.clientPublicKey = key;
  }
  if (v.auth !== undefined) {
    const auth = asString(v.auth, 4096);
    if (auth === undefined) return null;
    hello.auth = auth;
  }
  if (v.resumeToken !== undefined) {
    const token = asString(v.resumeToken, 128);
    if (token === undefined) return null;
    hello.resumeToken = token;
  }
  if (v.resumeProof !== undefined) {
    const proof = asBytes(v.resumeProof, SIGNATURE_BYTES);
    if (proof === undefined || proof.length !== SIGNATURE_BYTES) return null;
    hello.resumeProof = proof;
  }
  if (v.clientNonce !== undefined) {
    const nonce = asBytes(v.clientNonce, NONCE_BYTES);
    if (nonce === undefined || nonce.length !== NONCE_BYTES) return null;
    hello.clientNonce = nonce;
  }
  return hello;
}

/** Bytes of exactly `n` length, or undefined. */
function exactBytes(v: unknown, n: number): Uint8Array | undefined {
  return v instanceof Uint8Array && v.length === n ? v : undefined;
}

/** Validates a Challenge body. */
export function parseChallenge(v: unknown): ChallengeBody | null {
  if (!isRecord(v)) return null;
  const sessionId = asString(v.sessionId, 128);
  const serverPublicKey = exactBytes(v.serverPublicKey, PUBLIC_KEY_BYTES);
  const nonce = exactBytes(v.nonce, NONCE_BYTES);
  if (sessionId === undefined || serverPublicKey === undefined || nonce === undefined) return null;
  const body: ChallengeBody = { sessionId, serverPublicKey, nonce };
  if (v.serverProof !== undefined) {
    const proof = exactBytes(v.serverProof, SIGNATURE_BYTES);
    if (proof === undefined) return null;
    body.serverProof = proof;
  }
  return body;
}

/** Validates a ChallengeResponse body. */
export function parseChallengeResponse(v: unknown): ChallengeResponseBody | null {
  if (!isRecord(v)) return null;
  if (v.signature === undefined) return {};
  const signature = exactBytes(v.signature, SIGNATURE_BYTES);
  return signature === undefined ? null : { signature };
}

/** Validates a Welcome body. */
export function parseWelcome(v: unknown): WelcomeBody | null {
  if (!isRecord(v)) return null;
  const clientId = asUint(v.clientId);
  const sessionId = asString(v.sessionId, 128);
  const role = asString(v.role, 64);
  const capabilities = asStringList(v.capabilities);
  const serverTime = asNumber(v.serverTime);
  const resumeToken = asString(v.resumeToken, 128);
  const sendRateHz = asNumber(v.sendRateHz);
  const resumed = v.resumed === undefined ? false : v.resumed;
  const resumeWindowMs = v.resumeWindowMs === undefined ? 0 : asNumber(v.resumeWindowMs);
  const userId = v.userId === undefined ? undefined : asString(v.userId, 256);
  if (
    typeof resumed !== 'boolean' ||
    resumeWindowMs === undefined ||
    resumeWindowMs < 0 ||
    (v.userId !== undefined && userId === undefined)
  )
    return null;
  if (
    clientId === undefined ||
    clientId === 0 ||
    sessionId === undefined ||
    role === undefined ||
    capabilities === undefined ||
    serverTime === undefined ||
    resumeToken === undefined ||
    sendRateHz === undefined
  )
    return null;
  const welcome: WelcomeBody = {
    clientId,
    sessionId,
    role,
    capabilities,
    serverTime,
    resumeToken,
    sendRateHz,
    resumed,
    resumeWindowMs,
  };
  if (userId !== undefined) welcome.userId = userId;
  if (v.serverPublicKey !== undefined) {
    const key = asBytes(v.serverPublicKey, PUBLIC_KEY_BYTES);
    if (key === undefined || key.length !== PUBLIC_KEY_BYTES) return null;
    welcome.serverPublicKey = key;
  }
  return welcome;
}

/** Validates an Error body (a malformed schema summary is dropped, the error itself still counts). */
export function parseErrorBody(v: unknown): ErrorBody | null {
  if (!isRecord(v)) return null;
  const code = asUint(v.code);
  const message = asString(v.message, 4096);
  if (code === undefined || message === undefined || typeof v.fatal !== 'boolean') return null;
  const body: ErrorBody = { code, message, fatal: v.fatal };
  const schema = v.schema === undefined ? null : parseSchemaSummary(v.schema);
  if (schema !== null) body.schema = schema;
  return body;
}
