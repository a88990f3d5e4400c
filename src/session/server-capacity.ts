/** Counters of the server session's capacity limits and contained exceptions (see `CapacityOptions`). */
import type { ServerPeer } from './server-peer.ts';
import type { CapacityOptions } from './session-options.ts';

/** Live counters of a server session; they only grow. */
export interface ServerSessionStats {
  /** Pending handshakes dropped (oldest first) at `maxPendingHandshakes` or `maxPendingPerSource`. */
  pendingEvicted: number;
  /** Suspended sessions ended early (oldest first) at `maxSuspendedSessions`. */
  suspendedEvicted: number;
  /** Exceptions thrown while handling client messages, caught and reported as `InternalError`. */
  handlerErrors: number;
  /** Clients disconnected with `SendQueueFull` (they did not ack our reliable data). */
  sendQueueDisconnects: number;
  /** Messages and packets refused with `Oversize` from links that had not completed the handshake. */
  preHandshakeOversize: number;
  /** Refused links closed before their fatal Error was acked, because `maxPendingHandshakes` others lingered. */
  lingerDropped: number;
}

/** A fresh set of counters. */
export function createServerSessionStats(): ServerSessionStats {
  return {
    pendingEvicted: 0,
    suspendedEvicted: 0,
    handlerErrors: 0,
    sendQueueDisconnects: 0,
    preHandshakeOversize: 0,
    lingerDropped: 0,
  };
}

/** Text of a caught exception for a report. */
export function describeThrown(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Makes room for one more pending handshake from `source`: drops (through `evict`, which removes the peer from
 * `pending`) the oldest of that source at the per-source cap, then the oldest overall at the total cap. Pending
 * peers are kept in arrival order.
 */
export function makeRoomForPending(
  pending: ReadonlySet<ServerPeer>,
  source: string | undefined,
  cap: Required<CapacityOptions>,
  evict: (peer: ServerPeer, why: string) => void,
): void {
  if (source !== undefined) {
    let oldest: ServerPeer | null = null;
    let n = 0;
    for (const p of pending) {
      if (p.remoteAddress !== source) continue;
      oldest ??= p;
      n++;
    }
    if (oldest !== null && n >= cap.maxPendingPerSource)
      evict(oldest, `more than ${cap.maxPendingPerSource} handshakes from ${source}`);
  }
  if (pending.size >= cap.maxPendingHandshakes)
    evict(pending.values().next().value!, `more than ${cap.maxPendingHandshakes} handshakes pending`);
}
