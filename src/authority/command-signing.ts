/**
 * Canonical bytes and Ed25519 signatures (tweetnacl keys; see ed25519.ts) of command-log entries. The signed bytes name the session,
 * the author and every field of the entry in a fixed binary layout, so a signature cannot be moved to another
 * entry, author or session; the payload is signed as the exact MessagePack bytes that travel.
 *
 * Canonical layout (varuint = LEB128 of a safe integer; str = varuint byte length + UTF-8):
 *   "ecsync-command-v1\n" | str sessionId | varuint author | varuint seq | varuint counter | varuint base |
 *   str type | str target | varuint payload length | payload bytes
 */
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from '../protocol/handshake.ts';
import { ed25519Sign, ed25519Verify } from '../session/ed25519.ts';

/** A command-log entry as its author made it. */
export interface CommandEntryData {
  /** Author's client id (0 = the server). */
  author: number;
  /** Author's sequence number: grows by one per entry; a replay repeats an old one. */
  seq: number;
  /** Lamport counter of the entry; with the author it totally orders entries. */
  counter: number;
  /** Version of the target the author saw (for reject-on-conflict); 0 when it had none. */
  base: number;
  /** Command type, e.g. 'select', 'transform', 'tool'. */
  type: string;
  /** What the command acts on, e.g. 'selection:3' or a network id as text. */
  target: string;
  /** The command's arguments as MessagePack bytes. */
  payload: Uint8Array;
  /** Ed25519 signature over `commandBytes(sessionId, entry)`. */
  sig: Uint8Array;
}

const LABEL = new TextEncoder().encode('ecsync-command-v1\n');
const utf8 = new TextEncoder();

/** Bytes a varuint of `n` takes. */
function varuintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVaruint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    out[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

function writeBytes(out: Uint8Array, pos: number, bytes: Uint8Array): number {
  pos = writeVaruint(out, pos, bytes.length);
  out.set(bytes, pos);
  return pos + bytes.length;
}

/** The canonical bytes an entry's signature covers (everything but the signature). */
export function commandBytes(sessionId: string, e: Omit<CommandEntryData, 'sig'>): Uint8Array {
  const session = utf8.encode(sessionId);
  const type = utf8.encode(e.type);
  const target = utf8.encode(e.target);
  const numbers = [e.author, e.seq, e.counter, e.base];
  let size = LABEL.length;
  for (const b of [session, type, target, e.payload]) size += varuintSize(b.length) + b.length;
  for (const n of numbers) size += varuintSize(n);
  const out = new Uint8Array(size);
  out.set(LABEL, 0);
  let pos = writeBytes(out, LABEL.length, session);
  for (const n of numbers) pos = writeVaruint(out, pos, n);
  pos = writeBytes(out, pos, type);
  pos = writeBytes(out, pos, target);
  writeBytes(out, pos, e.payload);
  return out;
}

/** Signs an entry with the author's Ed25519 secret key (64 bytes, tweetnacl). */
export function signCommand(sessionId: string, e: Omit<CommandEntryData, 'sig'>, secretKey: Uint8Array): Uint8Array {
  return ed25519Sign(commandBytes(sessionId, e), secretKey);
}

/** True when `e.sig` is the author's signature of `e` in this session; never throws. */
export function verifyCommand(sessionId: string, e: CommandEntryData, publicKey: Uint8Array): boolean {
  if (e.sig.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false;
  return ed25519Verify(commandBytes(sessionId, e), e.sig, publicKey);
}
