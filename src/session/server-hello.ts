/**
 * The server's side of the messages before Welcome: a Hello is checked (version, schema), a claimed key is
 * challenged (Challenge / ChallengeResponse) and, once proven or when no key is claimed, the client goes to
 * admission (join or resume). Anything else from a handshaking peer is ignored.
 */
import { readBody } from '../codec/msgpack-body.ts';
import type { ErrorCodeName } from '../errors.ts';
import { type HelloBody, parseChallengeResponse, parseHello } from '../protocol/handshake.ts';
import type { SchemaSummary } from '../protocol/schema-diff.ts';
import { Tag } from '../protocol/tags.ts';
import { needsChallenge, type ServerProofs } from './identity-proof.ts';
import { type Admission, checkHello } from './server-handshake.ts';
import type { ServerPeer } from './server-peer.ts';

/** What the handshake steps need from the server session. */
export interface ServerHelloHost {
  refuse(peer: ServerPeer, code: ErrorCodeName, message: string, detail?: Record<string, unknown>): void;
}

/** Hello, Challenge and ChallengeResponse handling for peers that have not been welcomed. */
export class ServerHello {
  constructor(
    private readonly host: ServerHelloHost,
    private readonly proofs: ServerProofs,
    private readonly admission: Admission,
    private readonly schemaHash: string,
    private readonly schemaSummary: SchemaSummary | undefined,
  ) {}

  /** One message from a handshaking peer: only a Hello (until challenged) and a ChallengeResponse count. */
  message(peer: ServerPeer, tag: number, msg: Uint8Array, now: number): void {
    if (tag === Tag.ChallengeResponse) this.onChallengeResponse(peer, msg);
    else if (tag === Tag.Hello && !this.proofs.isChallenged(peer)) this.onHello(peer, msg, now);
  }

  /** Nothing flushes a pending peer: resend its unacked Challenge once per retransmission timeout. */
  resendChallenge(peer: ServerPeer, now: number): void {
    const conn = peer.connection;
    if (!this.proofs.isChallenged(peer) || conn.reliablePendingBytes === 0 || now - peer.lastPingAtMs < conn.rtoMs)
      return;
    peer.lastPingAtMs = now; // reset to -Infinity once admitted
    conn.flush();
  }

  private onHello(peer: ServerPeer, msg: Uint8Array, now: number): void {
    const hello = readBody(msg, parseHello);
    if (hello === null) {
      peer.counters.decodeErrors++;
      this.host.refuse(peer, 'DecodeError', 'malformed Hello');
      return;
    }
    const refusal = checkHello(hello, this.schemaHash, this.schemaSummary);
    if (refusal) {
      this.host.refuse(peer, refusal.code, refusal.message, refusal.detail);
      return;
    }
    if (needsChallenge(hello)) {
      this.proofs.challenge(peer, hello);
      peer.lastPingAtMs = now; // the Challenge just went out: resend only after a timeout
    } else this.admit(peer, hello);
  }

  /** The answer to a Challenge: admit the Hello it proves, or refuse the claimed key. */
  private onChallengeResponse(peer: ServerPeer, msg: Uint8Array): void {
    if (!this.proofs.isChallenged(peer)) {
      peer.counters.unknownTags++; // an answer to no question
      return;
    }
    const response = readBody(msg, parseChallengeResponse);
    const proven = this.proofs.answer(peer, response ?? {});
    if (response === null) {
      peer.counters.decodeErrors++;
      this.host.refuse(peer, 'DecodeError', 'malformed ChallengeResponse');
    } else if (proven === null)
      this.host.refuse(peer, 'IdentityUnproven', 'the Hello claimed a key and the Challenge was not signed with it');
    else this.admit(peer, proven.hello);
  }

  private admit(peer: ServerPeer, hello: HelloBody): void {
    if (hello.resumeToken !== undefined) this.admission.resume(peer, hello);
    else this.admission.join(peer, hello);
  }
}
