/**
 * The client's side of the handshake: the Hello sent on each new link (with its resume token and proof after a
 * Welcome), the answer to the server's Challenge (its key and proof checked, the transcript signed), and the
 * Welcome that makes the session connected.
 */
import { encodeControl } from '../codec/message-frame.ts';
import type { Connection } from '../connection/connection.ts';
import type { ErrorCodeName } from '../errors.ts';
import { type HelloBody, parseChallenge, PROTOCOL_VERSION, type WelcomeBody } from '../protocol/handshake.ts';
import { Tag } from '../protocol/tags.ts';
import type { ClientLinkTimes } from './client-link-times.ts';
import type { ClientServerProof } from './client-server-proof.ts';
import {
  type ClientHandler,
  type ClientSessionOptions,
  DEFAULT_CLIENT_CAPABILITIES,
} from './client-session-options.ts';
import type { ClientStatus } from './client-status.ts';
import type { ClockSync } from './clock-sync.ts';
import { type KeyPair, signResume } from './identity.ts';
import type { MemberKeys } from './member-keys.ts';
import type { ClientState } from './presence-list.ts';

/** What the handshake needs from the client session. */
export interface ClientHandshakeHost {
  readonly options: ClientSessionOptions;
  readonly keyPair: KeyPair;
  readonly serverProof: ClientServerProof;
  readonly memberKeys: MemberKeys;
  readonly clockSync: ClockSync;
  readonly times: ClientLinkTimes;
  readonly status: ClientStatus;
  state(): ClientState;
  setState(state: ClientState): void;
  /** The current link, if any. */
  connection(): Connection | null;
  /** The last Welcome, if any. */
  welcome(): WelcomeBody | null;
  /** Keeps `welcome` (its token resumes the session) and resets the reconnect backoff. */
  setWelcome(welcome: WelcomeBody): void;
  /** The layer above, if set yet. */
  handler(): ClientHandler | null;
  /** Decodes a server message's body; null (and a DecodeError reported) when malformed. */
  body<T>(msg: Uint8Array, parse: (v: unknown) => T | null, name: string): T | null;
  fail(code: ErrorCodeName, message: string): void;
}

/** Hello, Challenge and Welcome of one client session. */
export class ClientHandshake {
  constructor(private readonly h: ClientHandshakeHost) {}

  /** Says Hello on a newly attached link (a resume after a Welcome). */
  hello(conn: Connection): void {
    const h = this.h;
    const options = h.options;
    const now = options.clock.now();
    const hello: HelloBody = {
      protocolVersion: PROTOCOL_VERSION,
      schemaHash: options.schemaHash,
      capabilities: [...(options.capabilities ?? DEFAULT_CLIENT_CAPABILITIES)],
      clientPublicKey: h.keyPair.publicKey,
      clientNonce: h.serverProof.begin(),
    };
    if (options.auth !== undefined) hello.auth = options.auth;
    const w = h.welcome();
    if (w) {
      hello.resumeToken = w.resumeToken;
      hello.resumeProof = signResume(w.sessionId, w.resumeToken, h.keyPair.secretKey);
    }
    conn.sendReliable(encodeControl(Tag.Hello, hello));
    conn.flush();
    h.times.helloSentAtMs = now;
    h.times.attachedAtMs = now;
    h.times.lastHeardAtMs = now;
  }

  /** The server's Challenge: check its key and proof, then sign the transcript with this client's key. */
  challenge(msg: Uint8Array): void {
    const h = this.h;
    const conn = h.connection();
    const state = h.state();
    if ((state !== 'connecting' && state !== 'reconnecting') || h.serverProof.challengeAnswered || !conn) return;
    const c = h.body(msg, parseChallenge, 'Challenge');
    if (!c) return;
    const answer = h.serverProof.answer(c);
    if ('refusal' in answer) {
      h.fail('ServerKeyMismatch', answer.refusal);
      return;
    }
    conn.sendReliable(encodeControl(Tag.ChallengeResponse, { signature: answer.signature }));
    conn.flush();
    // The Welcome answers this message: its round trip, not the Hello's two, is the first clock sample.
    h.times.helloSentAtMs = h.options.clock.now();
  }

  /** The Welcome: the server's key checked, the clock's first sample, then connected. */
  welcome(welcome: WelcomeBody): void {
    const h = this.h;
    const state = h.state();
    if (state !== 'connecting' && state !== 'reconnecting') return; // a duplicate
    const refusal = h.serverProof.refuseWelcome(welcome);
    if (refusal !== null) {
      h.fail('ServerKeyMismatch', refusal);
      return;
    }
    const now = h.options.clock.now();
    const previous = h.welcome();
    if (previous?.sessionId !== welcome.sessionId) h.memberKeys.clear();
    if (previous && previous.sessionId !== welcome.sessionId) h.clockSync.reset();
    h.clockSync.add(h.times.helloSentAtMs, welcome.serverTime, now);
    h.setWelcome(welcome);
    h.times.lostAtMs = -1;
    h.times.lastHeardAtMs = now;
    h.times.lastPingAtMs = -Infinity;
    h.setState('connected');
    h.handler()?.welcomed(welcome);
    if (h.status.status !== 'active' || welcome.resumed) h.status.send();
  }
}
