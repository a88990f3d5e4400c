/**
 * What the server receives: each `receive()` reads every pending and connected peer's packets, judges its intake
 * (rate and byte limits, fatal verdicts disconnect it), then runs the lingering links and the timers. Each message
 * is dispatched inside the containment boundary — the Hello path before Welcome, the permission gate, the
 * session's own messages, then the layer above — so nothing one peer sends throws into the game loop.
 */
import { readMessageTag } from '../codec/message-frame.ts';
import type { Clock } from '../clock.ts';
import type { ErrorCodeName } from '../errors.ts';
import type { LingeringLinks } from './lingering-links.ts';
import { judgeIntake } from './peer-verdicts.ts';
import type { ServerSessionStats } from './server-capacity.ts';
import type { ServerControl } from './server-control.ts';
import type { ServerHello } from './server-hello.ts';
import type { PeerHandler, ServerPeer } from './server-peer.ts';
import { runServerTimers, type ServerTimersHost } from './server-timers.ts';
import type { RateLimitOptions } from './session-options.ts';

/** What receiving needs from the server session. */
export interface ServerIntakeHost extends ServerTimersHost {
  readonly clock: Clock;
  readonly limits: Required<RateLimitOptions>;
  readonly stats: ServerSessionStats;
  readonly lingering: LingeringLinks;
  readonly hello: ServerHello;
  readonly control: ServerControl;
  /** The layer above, if set yet. */
  handler(): PeerHandler | null;
  /** The authority layer's permission table (`messageGate`): false refuses a connected client's message. */
  permits(peer: ServerPeer, tag: number, msg: Uint8Array): boolean;
  contain(peer: ServerPeer, e: unknown, what: string): void;
  disconnect(peer: ServerPeer, code: ErrorCodeName, message: string): void;
}

/** The receive pass and message dispatch of a server session. */
export class ServerIntake {
  private now: number;

  constructor(private readonly h: ServerIntakeHost) {
    this.now = h.clock.now();
  }

  /** Processes every packet received since the last call, on every peer, then runs the session's timers. */
  receive(): void {
    const h = this.h;
    this.now = h.clock.now();
    for (const peer of h.pending) this.receivePeer(peer);
    for (const peer of h.peers.values()) this.receivePeer(peer);
    h.lingering.pass(this.now);
    runServerTimers(h, this.now);
  }

  private receivePeer(peer: ServerPeer): void {
    const conn = peer.connection;
    const stats = conn.stats;
    const packets = stats.packetsIn;
    const bytes = stats.bytesIn;
    try {
      conn.receive(peer.sink);
    } catch (e) {
      this.h.contain(peer, e, 'a packet');
    }
    if (peer.connection !== conn || peer.state === 'closed') return;
    if (stats.packetsIn !== packets) peer.lastHeardAtMs = this.now;
    judgeIntake(peer, stats.bytesIn - bytes, this.h.limits, this.now);
    if (peer.fatal) {
      if (peer.fatal.code === 'SendQueueFull') this.h.stats.sendQueueDisconnects++;
      this.h.disconnect(peer, peer.fatal.code, peer.fatal.message);
      return;
    }
    if (peer.needsFlush) {
      peer.needsFlush = false;
      conn.flush();
    }
  }

  /** One message from one peer, inside the containment boundary (one try per message, none per entity). */
  dispatch(peer: ServerPeer, msg: Uint8Array, packetSeq: number): void {
    try {
      this.dispatchMessage(peer, msg, packetSeq);
    } catch (e) {
      this.h.contain(peer, e, `a message (tag ${readMessageTag(msg)})`);
    }
  }

  private dispatchMessage(peer: ServerPeer, msg: Uint8Array, packetSeq: number): void {
    const h = this.h;
    if (peer.state === 'closed' || peer.fatal) return;
    if (!peer.limiter.messages.take(1, this.now)) {
      peer.fatal = { code: 'RateLimited', message: `more than ${h.limits.messagesPerSecond} messages per second` };
      return;
    }
    const tag = readMessageTag(msg);
    if (tag < 0) {
      h.control.decodeError(peer, 'message shorter than its tag');
      return;
    }
    // Anything before a valid Hello is ignored: the client may still be sending a previous session's traffic.
    if (peer.state === 'handshaking') return h.hello.message(peer, tag, msg, this.now);
    if (peer.state !== 'connected') return;
    // The permission table (authority layer): a role may send only the tags allowed to it, core ones included.
    if (!h.permits(peer, tag, msg)) return;
    if (!h.control.message(peer, tag, msg, this.now)) h.handler()?.message(peer, tag, msg, packetSeq);
  }
}
