/**
 * Identity material of a session: Ed25519 key pairs (tweetnacl), random session ids and resume tokens, and the
 * resume proof, a signature by the client's key over its token, so a token copied by someone else is useless.
 */
import nacl from 'tweetnacl';
import { usageError } from '../errors.ts';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from '../protocol/handshake.ts';
import { ed25519Sign, ed25519Verify } from './ed25519.ts';

/** An Ed25519 key pair as tweetnacl makes it (32-byte public key, 64-byte secret key). */
export interface KeyPair {
  /** The 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** The 64-byte Ed25519 secret key (keep it private). */
  secretKey: Uint8Array;
}

/** Bytes of randomness in a resume token: 128 bits cannot be guessed. */
export const RESUME_TOKEN_BYTES = 16;

/** Creates a fresh Ed25519 key pair. */
export function createKeyPair(): KeyPair {
  return nacl.sign.keyPair();
}

/** Checks a key pair given in options; throws a Usage error when it is not an Ed25519 pair. */
export function checkKeyPair(pair: KeyPair): KeyPair {
  if (
    !(pair.publicKey instanceof Uint8Array) ||
    !(pair.secretKey instanceof Uint8Array) ||
    pair.publicKey.length !== PUBLIC_KEY_BYTES ||
    pair.secretKey.length !== nacl.sign.secretKeyLength
  )
    usageError('keyPair is not an Ed25519 key pair', 'pass nacl.sign.keyPair() (32-byte public, 64-byte secret key)');
  return pair;
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, '0');
  return s;
}

/** `n` random bytes from the platform's secure generator, as hex. */
export function randomHex(n: number): string {
  return toHex(nacl.randomBytes(n));
}

/** A random 32-bit seed from the secure generator. */
export function randomSeed(): number {
  const b = nacl.randomBytes(4);
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

/** A new resume token: 128 random bits as 32 hex digits. */
export function createResumeToken(): string {
  return randomHex(RESUME_TOKEN_BYTES);
}

const utf8 = new TextEncoder();

/** The bytes a resume proof signs: a fixed label, the session id and the token. */
export function resumeProofBytes(sessionId: string, token: string): Uint8Array {
  return utf8.encode(`ecsync-resume\n${sessionId}\n${token}`);
}

/** Signs a resume token with the client's secret key. */
export function signResume(sessionId: string, token: string, secretKey: Uint8Array): Uint8Array {
  return ed25519Sign(resumeProofBytes(sessionId, token), secretKey);
}

/** True when `proof` is the signature of `token` by `publicKey`; never throws. */
export function verifyResume(sessionId: string, token: string, proof: Uint8Array, publicKey: Uint8Array): boolean {
  if (proof.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false;
  return ed25519Verify(resumeProofBytes(sessionId, token), proof, publicKey);
}

/** True when two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
