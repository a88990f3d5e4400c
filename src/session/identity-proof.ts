/**
 * Proof of key possession in the handshake. A Hello that claims a client key (or carries a client nonce) is
 * answered with a Challenge: a fresh server nonce, the server's key and the server's signature over the
 * transcript; the client checks that signature (and, when the application gave one, the expected server key),
 * then signs the same transcript with its own key. The server verifies before `authorize`, the ban list or a
 * resume look at the key, so a claimed key without its secret is refused (`IdentityUnproven`) and a signature
 * from another connection or session never verifies (each names its own nonces, session and server key).
 *
 * Transcript (varuint = LEB128; bin = varuint length + bytes):
 *   label | bin UTF-8 sessionId | bin serverPublicKey | bin clientPublicKey (empty: none) | bin serverNonce |
 *   bin clientNonce (empty: none)
 * with label "ecsync-hello-server-v1\n" for the server's proof and "ecsync-hello-client-v1\n" for the client's.
 */
import nacl from 'tweetnacl';
import { encodeControl } from '../codec/message-frame.ts';
import {
  type ChallengeBody,
  type ChallengeResponseBody,
  type HelloBody,
  NONCE_BYTES,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
} from '../protocol/handshake.ts';
import { Tag } from '../protocol/tags.ts';
import { ed25519Sign, ed25519Verify } from './ed25519.ts';
import type { KeyPair } from './identity.ts';
import type { ServerPeer } from './server-peer.ts';

const utf8 = new TextEncoder();
const SERVER_LABEL = utf8.encode('ecsync-hello-server-v1\n');
const CLIENT_LABEL = utf8.encode('ecsync-hello-client-v1\n');
const NONE = new Uint8Array(0);

/** What both proofs of one handshake cover. */
export interface HandshakeTranscript {
  sessionId: string;
  serverPublicKey: Uint8Array;
  clientPublicKey?: Uint8Array;
  serverNonce: Uint8Array;
  clientNonce?: Uint8Array;
}

function varuintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n >>>= 7;
    size++;
  }
  return size;
}

function transcriptBytes(label: Uint8Array, t: HandshakeTranscript): Uint8Array {
  const parts = [
    utf8.encode(t.sessionId),
    t.serverPublicKey,
    t.clientPublicKey ?? NONE,
    t.serverNonce,
    t.clientNonce ?? NONE,
  ];
  let size = label.length;
  for (const p of parts) size += varuintSize(p.length) + p.length;
  const out = new Uint8Array(size);
  out.set(label, 0);
  let pos = label.length;
  for (const p of parts) {
    let n = p.length;
    while (n >= 128) {
      out[pos++] = (n & 127) | 128;
      n >>>= 7;
    }
    out[pos++] = n;
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** The server's signature over a transcript (it proves the server holds `serverPublicKey`'s secret). */
export function signServerProof(t: HandshakeTranscript, secretKey: Uint8Array): Uint8Array {
  return ed25519Sign(transcriptBytes(SERVER_LABEL, t), secretKey);
}

/** True when `proof` is the server's signature of `t`; never throws. */
export function verifyServerProof(t: HandshakeTranscript, proof: Uint8Array): boolean {
  if (proof.length !== SIGNATURE_BYTES || t.serverPublicKey.length !== PUBLIC_KEY_BYTES) return false;
  return ed25519Verify(transcriptBytes(SERVER_LABEL, t), proof, t.serverPublicKey);
}

/** The client's signature over a transcript with its secret key. */
export function signClientProof(t: HandshakeTranscript, secretKey: Uint8Array): Uint8Array {
  return ed25519Sign(transcriptBytes(CLIENT_LABEL, t), secretKey);
}

/** True when `proof` is the signature of `t` by `t.clientPublicKey`; never throws. */
export function verifyClientProof(t: HandshakeTranscript, proof: Uint8Array): boolean {
  const key = t.clientPublicKey;
  if (!key || key.length !== PUBLIC_KEY_BYTES || proof.length !== SIGNATURE_BYTES) return false;
  return ed25519Verify(transcriptBytes(CLIENT_LABEL, t), proof, key);
}

/** A fresh nonce from the platform's secure generator. */
export function createNonce(): Uint8Array {
  return nacl.randomBytes(NONCE_BYTES);
}

/** True when a Hello asks for the challenge round: it claims a key, or wants the server to prove its own. */
export function needsChallenge(hello: HelloBody): boolean {
  return hello.clientPublicKey !== undefined || hello.clientNonce !== undefined;
}

/** Counters of the server's identity checks. */
export interface ProofCounters {
  /** Challenges sent. */
  challenged: number;
  /** Responses that proved the claimed key. */
  proven: number;
  /** Responses refused: wrong, missing or replayed signature. */
  refused: number;
}

/** Server side: the Challenge of each pending peer, and the check of its response. */
export class ServerProofs {
  readonly counters: ProofCounters = { challenged: 0, proven: 0, refused: 0 };
  // Keyed weakly by the peer: a pending handshake that dies (timeout, close, pending cap) leaves nothing behind.
  private readonly pending = new WeakMap<ServerPeer, { hello: HelloBody; transcript: HandshakeTranscript }>();

  constructor(
    private readonly sessionId: string,
    private readonly keyPair: KeyPair,
  ) {}

  /** True while `peer` has been challenged and has not answered. */
  isChallenged(peer: ServerPeer): boolean {
    return this.pending.has(peer);
  }

  /** Sends `peer` a Challenge for `hello` (whose admission waits for the response). */
  challenge(peer: ServerPeer, hello: HelloBody): void {
    const transcript: HandshakeTranscript = {
      sessionId: this.sessionId,
      serverPublicKey: this.keyPair.publicKey,
      serverNonce: createNonce(),
    };
    if (hello.clientPublicKey) transcript.clientPublicKey = hello.clientPublicKey;
    if (hello.clientNonce) transcript.clientNonce = hello.clientNonce;
    const body: ChallengeBody = {
      sessionId: this.sessionId,
      serverPublicKey: this.keyPair.publicKey,
      nonce: transcript.serverNonce,
    };
    if (hello.clientNonce) body.serverProof = signServerProof(transcript, this.keyPair.secretKey);
    this.pending.set(peer, { hello, transcript });
    this.counters.challenged++;
    peer.connection.sendReliable(encodeControl(Tag.Challenge, body));
    peer.connection.flush();
  }

  /**
   * Checks `peer`'s response (once: the challenge is used up either way). Returns the Hello to admit, or null when
   * the peer was not challenged or its signature does not prove the claimed key.
   */
  answer(peer: ServerPeer, response: ChallengeResponseBody): { hello: HelloBody } | null {
    const p = this.pending.get(peer);
    if (!p) return null;
    this.pending.delete(peer);
    const ok =
      p.hello.clientPublicKey === undefined
        ? response.signature === undefined
        : response.signature !== undefined && verifyClientProof(p.transcript, response.signature);
    if (!ok) {
      this.counters.refused++;
      return null;
    }
    this.counters.proven++;
    return { hello: p.hello };
  }
}
