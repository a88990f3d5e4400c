/**
 * The server's links: each new one becomes a pending `ServerPeer` (the oldest pending evicted past the caps), and
 * its connection's callbacks (acks, losses, errors, close) are routed to whatever peer its binding names, stale
 * connections ignored. Acks and losses reach the layer above inside the containment boundary.
 */
import { Connection } from '../connection/connection.ts';
import type { ErrorCodeName, NetError } from '../errors.ts';
import type { Link } from '../transport/transport.ts';
import { judgeConnectionError } from './peer-verdicts.ts';
import { PeerLimiter } from './rate-limiter.ts';
import { makeRoomForPending, type ServerSessionStats } from './server-capacity.ts';
import { type PeerHandler, ServerPeer } from './server-peer.ts';
import type { ServerSessionOptions } from './server-session-options.ts';
import { type CapacityOptions, CLOSE_GOODBYE, MAX_HELLO_BYTES, type RateLimitOptions } from './session-options.ts';

/** What the links need from the server session. */
export interface ServerLinksHost {
  readonly options: ServerSessionOptions;
  readonly limits: Required<RateLimitOptions>;
  readonly capacity: Required<CapacityOptions>;
  readonly pending: Set<ServerPeer>;
  readonly stats: ServerSessionStats;
  /** The layer above, if set yet. */
  handler(): PeerHandler | null;
  /** One message from one peer (reliable: `packetSeq` -1). */
  dispatch(peer: ServerPeer, msg: Uint8Array, packetSeq: number): void;
  report(code: ErrorCodeName, message: string): void;
  contain(peer: ServerPeer, e: unknown, what: string): void;
  leave(peer: ServerPeer, reason: string): void;
  suspend(peer: ServerPeer, why: string): void;
}

/** Accepts links and follows their connections' events. */
export class ServerLinks {
  constructor(private readonly h: ServerLinksHost) {}

  /** A new link: a pending peer that may send nothing but a Hello until it is welcomed. */
  accept(link: Link): void {
    const h = this.h;
    const options = h.options;
    const now = options.clock.now();
    makeRoomForPending(h.pending, link.remoteAddress, h.capacity, (p, why) => this.evictPending(p, why));
    const connection: Connection = new Connection(link, {
      maxReliableQueueBytes: h.capacity.maxSendQueueBytes,
      maxReliableQueueMessages: h.capacity.maxSendQueueMessages,
      ...options.connection,
      clock: options.clock,
      // After a resume the binding names the resumed peer, so errors count against it.
      onError: (e) => this.onConnectionError(peer.binding.peer, connection, e),
    });
    const peer: ServerPeer = new ServerPeer(connection, new PeerLimiter(h.limits, now), now, (p) => ({
      reliable: (msg) => h.dispatch(p, msg, -1),
      unreliable: (msg, seq) => h.dispatch(p, msg, seq),
    }));
    peer.remoteAddress = link.remoteAddress;
    // Until the Welcome, the Hello is all a client may send: nothing larger is ever buffered for it.
    connection.limitIncoming(MAX_HELLO_BYTES);
    this.wire(connection, peer.binding);
    h.pending.add(peer);
  }

  private evictPending(peer: ServerPeer, why: string): void {
    this.h.stats.pendingEvicted++;
    this.h.report('Overloaded', `dropped the oldest pending handshake: ${why}`);
    this.h.leave(peer, `Overloaded: ${why}`);
  }

  /** Routes a connection's callbacks to whatever peer its binding names, ignoring stale connections. */
  private wire(connection: Connection, binding: { peer: ServerPeer }): void {
    const h = this.h;
    connection.onPacketAcked = (seq) => {
      const p = binding.peer;
      if (p.connection !== connection || p.state !== 'connected') return;
      try {
        h.handler()?.acked(p, seq);
      } catch (e) {
        h.contain(p, e, 'an ack');
      }
    };
    connection.onPacketLost = (seq) => {
      const p = binding.peer;
      if (p.connection !== connection || p.state !== 'connected') return;
      try {
        h.handler()?.lost(p, seq);
      } catch (e) {
        h.contain(p, e, 'a loss');
      }
    };
    connection.onClose = (reason) => {
      const p = binding.peer;
      if (p.connection === connection) this.onLinkClosed(p, reason);
    };
  }

  private onConnectionError(peer: ServerPeer, connection: Connection, e: NetError): void {
    if (peer.connection !== connection || peer.state === 'closed') return;
    judgeConnectionError(peer, e, this.h.stats, (err) => this.h.options.onError?.(err));
  }

  private onLinkClosed(peer: ServerPeer, reason: string): void {
    if (peer.state === 'handshaking' || peer.state === 'authorizing') {
      peer.state = 'closed';
      this.h.pending.delete(peer);
    } else if (peer.state === 'connected') {
      if (reason === CLOSE_GOODBYE) this.h.leave(peer, 'goodbye');
      else this.h.suspend(peer, `link closed (${reason})`);
    }
  }
}
