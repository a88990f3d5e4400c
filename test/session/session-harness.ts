/**
 * A bare session rig (no replication): a ServerSession and ClientSessions over the in-memory network with a
 * manual clock, a handler that records what the server reported, and raw peers that speak the wire directly.
 */
import { decodeBody } from '../../src/codec/msgpack-body.ts';
import { encodeControl, readMessageTag } from '../../src/codec/message-frame.ts';
import { createManualClock, type Clock, type ManualClock } from '../../src/clock.ts';
import { Connection, type ConnectionOptions } from '../../src/connection/connection.ts';
import type { NetError } from '../../src/errors.ts';
import { parseChallenge, PROTOCOL_VERSION } from '../../src/protocol/handshake.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { ClientSession, type ClientSessionOptions } from '../../src/session/client-session.ts';
import { ServerSession, type ServerPeer, type ServerSessionOptions } from '../../src/session/server-session.ts';
import type { KeyPair } from '../../src/session/identity.ts';
import { type HandshakeTranscript, signClientProof } from '../../src/session/identity-proof.ts';
import {
  createMemoryNetwork,
  type LinkPairConditions,
  type MemoryNetwork,
} from '../../src/transport/memory-transport.ts';
import type { ClientTransport, Link } from '../../src/transport/transport.ts';

export const SCHEMA = 'feedc0de12345678';

/** What the server's PeerHandler saw, in order. */
export interface ServerLog {
  events: string[];
  messages: Array<{ clientId: number; tag: number }>;
  errors: NetError[];
}

/** A client under test: its session, its errors and its state history. */
export interface RigClient {
  session: ClientSession;
  errors: NetError[];
  states: string[];
  links: Link[];
}

/** Options of `createRig`. */
export interface RigOptions {
  seed?: number;
  frameMs?: number;
  /** Flush every connection every frame, like the plugin's send system (default true). */
  sendTicks?: boolean;
  server?: Partial<Omit<ServerSessionOptions, 'transport' | 'clock' | 'schemaHash' | 'sendRateHz'>>;
}

/** The rig. */
export class SessionRig {
  readonly clock: ManualClock;
  readonly network: MemoryNetwork;
  readonly server: ServerSession;
  readonly log: ServerLog = { events: [], messages: [], errors: [] };
  readonly clients: RigClient[] = [];
  readonly raws: RawPeer[] = [];
  frameMs: number;
  sendTicks: boolean;

  constructor(opts: RigOptions = {}) {
    this.clock = createManualClock(1000);
    this.network = createMemoryNetwork({ clock: this.clock, seed: opts.seed ?? 1 });
    this.frameMs = opts.frameMs ?? 1000 / 60;
    this.sendTicks = opts.sendTicks ?? true;
    this.server = new ServerSession({
      transport: this.network.server,
      clock: this.clock,
      schemaHash: SCHEMA,
      sendRateHz: 60,
      onError: (e) => this.log.errors.push(e),
      ...opts.server,
    });
    const ev = (name: string) => (peer: ServerPeer, reason?: string) =>
      this.log.events.push(`${name} ${peer.clientId}${reason !== undefined ? ` ${reason}` : ''}`);
    this.server.setHandler({
      joined: ev('joined'),
      suspended: ev('suspended'),
      resumed: ev('resumed'),
      left: (peer, reason) => ev('left')(peer, reason),
      message: (peer, tag) => this.log.messages.push({ clientId: peer.clientId, tag }),
      acked: () => {},
      lost: () => {},
    });
  }

  /** A client over a link (`bare`) or over a transport of this network (reconnects through new links). */
  addClient(
    opts: Partial<ClientSessionOptions> & { conditions?: LinkPairConditions; bare?: boolean; clock?: Clock } = {},
  ): RigClient {
    const links: Link[] = [];
    const errors: NetError[] = [];
    const states: string[] = [];
    const transport: ClientTransport = opts.transport ?? {
      connect: () => {
        const link = this.network.connect(opts.conditions);
        links.push(link);
        return Promise.resolve(link);
      },
    };
    let link: Link | undefined;
    if (opts.bare) {
      link = this.network.connect(opts.conditions);
      links.push(link);
    }
    const session = new ClientSession({
      clock: this.clock,
      schemaHash: SCHEMA,
      reconnect: { seed: 7 },
      ...opts,
      link,
      transport: opts.bare ? undefined : transport,
      onError: (e) => errors.push(e),
      onStateChange: (s) => states.push(s),
    });
    session.setHandler({ welcomed: () => {}, message: () => {}, acked: () => {}, lost: () => {} });
    const client = { session, errors, states, links };
    this.clients.push(client);
    session.start();
    return client;
  }

  /** A raw peer: a Connection on a fresh link, speaking whatever the test sends. */
  addRaw(conditions?: LinkPairConditions, options: Partial<ConnectionOptions> = {}): RawPeer {
    const raw = new RawPeer(this.network.connect(conditions), this.clock, options);
    this.raws.push(raw);
    return raw;
  }

  /** A raw peer on an existing link (e.g. the server end, to play a fake server). */
  addRawOn(link: Link): RawPeer {
    const raw = new RawPeer(link, this.clock, {});
    this.raws.push(raw);
    return raw;
  }

  /** One frame: time passes, packets arrive, the server and every client receive (and flush on send ticks). */
  step(): void {
    this.clock.advance(this.frameMs);
    this.network.pump();
    this.server.receive();
    if (this.sendTicks) for (const p of this.server.peers.values()) p.connection.flush();
    for (const c of this.clients) {
      c.session.receive();
      if (this.sendTicks) c.session.connection?.flush();
    }
    for (const r of this.raws) r.receive();
  }

  /** Steps for `ms` of clock time; lets promise callbacks (transport connects) run between frames. */
  async run(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end - 1e-9) {
      this.step();
      await flushMicrotasks();
    }
  }

  /** The server peer of a client. */
  peerOf(c: RigClient): ServerPeer | undefined {
    return this.server.peer(c.session.clientId);
  }
}

/** Lets pending promise callbacks run. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A decoded control message received by a raw peer. */
export interface RawMessage {
  tag: number;
  body: unknown;
  bytes: Uint8Array;
}

/** A peer that speaks the wire directly (to send wrong or hostile traffic). */
export class RawPeer {
  readonly connection: Connection;
  readonly received: RawMessage[] = [];
  closedReason: string | null = null;
  /** Flush after every receive (acks and resends flow); false makes the peer silent. */
  autoFlush = true;
  /** Called for each message received. */
  onMessage: ((m: RawMessage) => void) | null = null;

  constructor(
    readonly link: Link,
    clock: Clock,
    options: Partial<ConnectionOptions>,
  ) {
    this.connection = new Connection(link, { clock, ...options });
    this.connection.onClose = (reason) => (this.closedReason = reason);
  }

  /** Sends a control message on the reliable lane and flushes. */
  send(tag: number, body: unknown, flush = true): void {
    this.connection.sendReliable(encodeControl(tag, body));
    if (flush) this.connection.flush();
  }

  /**
   * A valid Hello (fields may be overridden). With `signer`, the server's Challenge is answered with a signature
   * by `signer`'s secret key over the transcript of this Hello (its own key, or another to play a thief).
   */
  hello(overrides: Record<string, unknown> = {}, signer?: KeyPair): void {
    const hello = { protocolVersion: PROTOCOL_VERSION, schemaHash: SCHEMA, capabilities: [], ...overrides };
    this.signer = signer ? { hello, keyPair: signer } : null;
    this.send(Tag.Hello, hello);
  }

  private signer: { hello: Record<string, unknown>; keyPair: KeyPair } | null = null;

  private answerChallenge(msg: RawMessage): void {
    const c = parseChallenge(msg.body);
    if (!c || !this.signer) return;
    const { hello, keyPair } = this.signer;
    const t: HandshakeTranscript = { sessionId: c.sessionId, serverPublicKey: c.serverPublicKey, serverNonce: c.nonce };
    if (hello.clientPublicKey instanceof Uint8Array) t.clientPublicKey = hello.clientPublicKey;
    if (hello.clientNonce instanceof Uint8Array) t.clientNonce = hello.clientNonce;
    this.send(Tag.ChallengeResponse, { signature: signClientProof(t, keyPair.secretKey) });
  }

  receive(): void {
    if (!this.connection.isOpen) return;
    const push = (m: Uint8Array) => {
      const d = decodeBody(m.subarray(2));
      const msg = { tag: readMessageTag(m), body: d.ok ? d.value : undefined, bytes: m.slice() };
      this.received.push(msg);
      if (msg.tag === Tag.Challenge) this.answerChallenge(msg);
      this.onMessage?.(msg);
    };
    this.connection.receive({ reliable: push, unreliable: push });
    if (this.autoFlush && this.connection.isOpen) this.connection.flush();
  }

  /** The received messages with `tag`. */
  messages(tag: number): RawMessage[] {
    return this.received.filter((m) => m.tag === tag);
  }

  /** The body of the first fatal Error received, if any. */
  fatalError(): { code: number; message: string } | undefined {
    const e = this.messages(Tag.Error).find((m) => (m.body as { fatal?: boolean }).fatal);
    return e?.body as { code: number; message: string } | undefined;
  }
}
