/**
 * Admission of clients by the server: checks a Hello (version, schema), asks `authorize` (sync or async) and the
 * ban list, gives a new client its id, and resumes a suspended one from its resume token. Tokens are 128 random
 * bits, bound to one client, used once (every Welcome rotates them) and, when the client has a key, only
 * accepted with a signature by that key, so a stolen token is useless.
 */
import { isThenable } from '../thenable.ts';
import { encodeControl } from '../codec/message-frame.ts';
import type { Clock } from '../clock.ts';
import { type ErrorCodeName, type ErrorHandler, NetError } from '../errors.ts';
import { type HelloBody, PROTOCOL_VERSION, type WelcomeBody } from '../protocol/handshake.ts';
import type { SchemaSummary } from '../protocol/schema-diff.ts';
import { MAX_USER_ID_LENGTH } from '../protocol/session-messages.ts';
import { Tag } from '../protocol/tags.ts';
import { bytesEqual, createResumeToken, type KeyPair, verifyResume } from './identity.ts';
import type { ServerPeer } from './server-peer.ts';

/** What `authorize` returns: accept with a role (default 'participant') and an optional user id, or refuse. */
export type AuthorizeResult =
  | {
      /** The client's role (default `participant`). */
      role?: string;
      /** The user's id, e.g. from your session store (at most 256 characters). */
      userId?: string;
    }
  | false;

/**
 * Decides identity and role from a Hello. It may return a Promise (e.g. to check a token with an auth service);
 * the client waits in the handshake meanwhile (up to HANDSHAKE_TIMEOUT_MS). A throw or rejection refuses the
 * client with `Unauthorized` and is reported through `onError`.
 */
export type Authorize = (hello: HelloBody) => AuthorizeResult | Promise<AuthorizeResult>;

/** A reason to refuse a Hello before any identity is looked at. */
export interface Refusal {
  code: ErrorCodeName;
  message: string;
  /** Extra fields of the Error body (the server's schema summary for `SchemaMismatch`). */
  detail?: Record<string, unknown>;
}

/** Checks protocol version and schema hash; null when both match. `schema` goes with a SchemaMismatch. */
export function checkHello(hello: HelloBody, schemaHash: string, schema?: SchemaSummary): Refusal | null {
  if (hello.protocolVersion !== PROTOCOL_VERSION)
    return {
      code: 'VersionMismatch',
      message: `client speaks ecsync protocol ${hello.protocolVersion}, server speaks ${PROTOCOL_VERSION}: update the older side`,
    };
  if (hello.schemaHash !== schemaHash)
    return {
      code: 'SchemaMismatch',
      message: `client schema ${hello.schemaHash} differs from server schema ${schemaHash}: both must import the same protocol module`,
      ...(schema ? { detail: { schema } } : {}),
    };
  return null;
}

/** What admission needs from the server session. */
export interface AdmissionHost {
  readonly sessionId: string;
  readonly keyPair: KeyPair;
  readonly resumeWindowMs: number;
  refuse(peer: ServerPeer, code: ErrorCodeName, message: string): void;
  isBanned(hello: HelloBody, userId: string | undefined): boolean;
  isPending(peer: ServerPeer): boolean;
  adopt(target: ServerPeer, shell: ServerPeer): void;
  admitted(peer: ServerPeer, resumed: boolean): void;
}

/** Options of `Admission`. */
export interface AdmissionOptions {
  clock: Clock;
  sendRateHz: number;
  authorize?: Authorize;
  capabilities: readonly string[];
  onError?: ErrorHandler;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Client ids, resume tokens and the join / resume steps of the handshake. */
export class Admission {
  private readonly tokens = new Map<string, ServerPeer>();
  private nextClientId = 1;

  constructor(
    private readonly host: AdmissionHost,
    private readonly options: AdmissionOptions,
  ) {}

  /** A fresh client: ask `authorize`, then admit or refuse. */
  join(peer: ServerPeer, hello: HelloBody): void {
    let verdict: AuthorizeResult | Promise<AuthorizeResult>;
    try {
      verdict = this.options.authorize ? this.options.authorize(hello) : {};
    } catch (e) {
      this.authorizeFailed(peer, e);
      return;
    }
    if (!isThenable<AuthorizeResult>(verdict)) {
      this.admit(peer, hello, verdict);
      return;
    }
    peer.state = 'authorizing';
    verdict.then(
      (v) => this.admit(peer, hello, v),
      (e: unknown) => this.authorizeFailed(peer, e),
    );
  }

  private authorizeFailed(peer: ServerPeer, e: unknown): void {
    if (!this.host.isPending(peer)) return;
    this.options.onError?.(new NetError('Unauthorized', `authorize threw: ${describe(e)}`));
    this.host.refuse(peer, 'Unauthorized', 'the server could not check these credentials');
  }

  private admit(peer: ServerPeer, hello: HelloBody, verdict: AuthorizeResult): void {
    // The link may have closed (or the handshake timed out) while an async authorize ran.
    if (!this.host.isPending(peer)) return;
    if (verdict === false || typeof verdict !== 'object' || verdict === null) {
      this.host.refuse(peer, 'Unauthorized', 'the server refused these credentials');
      return;
    }
    const userId = typeof verdict.userId === 'string' ? verdict.userId.slice(0, MAX_USER_ID_LENGTH) : undefined;
    if (this.host.isBanned(hello, userId)) {
      this.host.refuse(peer, 'Banned', 'this user is banned from the session');
      return;
    }
    peer.hello = hello;
    peer.role = typeof verdict.role === 'string' && verdict.role.length > 0 ? verdict.role.slice(0, 64) : 'participant';
    peer.userId = userId;
    peer.clientId = this.nextClientId++;
    peer.capabilities = this.grant(hello);
    peer.connectedAtMs = this.options.clock.now();
    peer.state = 'connected';
    this.sendWelcome(peer, false);
    this.host.admitted(peer, false);
  }

  /** A client presenting a resume token: rebind its kept session to this link, or refuse. */
  resume(shell: ServerPeer, hello: HelloBody): void {
    const token = hello.resumeToken ?? '';
    const target = this.tokens.get(token);
    if (!target || (target.state !== 'connected' && target.state !== 'suspended')) {
      this.host.refuse(shell, 'Unauthorized', 'resume token unknown, expired or already used');
      return;
    }
    const key = target.hello?.clientPublicKey;
    if (
      key &&
      !(
        hello.clientPublicKey &&
        bytesEqual(key, hello.clientPublicKey) &&
        hello.resumeProof &&
        verifyResume(this.host.sessionId, token, hello.resumeProof, key)
      )
    ) {
      this.host.refuse(shell, 'Unauthorized', 'resume token not signed by the key of the session it belongs to');
      return;
    }
    if (this.host.isBanned(hello, target.userId)) {
      this.host.refuse(shell, 'Banned', 'this user is banned from the session');
      this.host.refuse(target, 'Banned', 'this user is banned from the session');
      return;
    }
    this.tokens.delete(token);
    target.resumeToken = '';
    this.host.adopt(target, shell);
    target.hello = key ? { ...hello, clientPublicKey: key } : hello;
    target.capabilities = this.grant(hello);
    target.state = 'connected';
    target.suspendedAtMs = -1;
    this.sendWelcome(target, true);
    this.host.admitted(target, true);
  }

  /** Drops a peer's token (its session ended). */
  forget(peer: ServerPeer): void {
    if (peer.resumeToken !== '' && this.tokens.get(peer.resumeToken) === peer) this.tokens.delete(peer.resumeToken);
    peer.resumeToken = '';
  }

  private grant(hello: HelloBody): string[] {
    return hello.capabilities.filter(
      (c) => this.options.capabilities.includes(c) && (c !== 'ed25519' || hello.clientPublicKey !== undefined),
    );
  }

  private sendWelcome(peer: ServerPeer, resumed: boolean): void {
    this.forget(peer);
    const token = createResumeToken();
    this.tokens.set(token, peer);
    peer.resumeToken = token;
    const welcome: WelcomeBody = {
      clientId: peer.clientId,
      sessionId: this.host.sessionId,
      role: peer.role,
      capabilities: peer.capabilities,
      serverPublicKey: this.host.keyPair.publicKey,
      serverTime: this.options.clock.now(),
      resumeToken: token,
      sendRateHz: this.options.sendRateHz,
      resumed,
      resumeWindowMs: this.host.resumeWindowMs,
    };
    if (peer.userId !== undefined) welcome.userId = peer.userId;
    peer.connection.sendReliable(encodeControl(Tag.Welcome, welcome));
  }
}
