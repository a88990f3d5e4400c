/** Counters of the server session's capacity limits and contained exceptions (see `CapacityOptions`). */

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
