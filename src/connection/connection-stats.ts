/** The per-connection stats object (SPEC 9): counters plus the RTT / jitter / loss estimates. */
import type { LossEstimator, RttEstimator } from './link-estimator.ts';

/** Live stats of one connection; counters only grow, estimates follow the link. */
export interface ConnectionStats {
  /** Smoothed round trip in ms (0 until the first ack), including the peer's wait until its next flush. */
  rttMs: number;
  /** Mean deviation of the round trip in ms. */
  jitterMs: number;
  /** Fraction of recently resolved sent packets that were declared lost. */
  lossRatio: number;
  /** Bytes received, counting whole packets (headers included). */
  bytesIn: number;
  /** Bytes sent, counting whole packets (headers included). */
  bytesOut: number;
  /** Packets received. */
  packetsIn: number;
  /** Packets sent. */
  packetsOut: number;
  /** Reliable fragments sent again. */
  resends: number;
  /** Incoming packets dropped as malformed (Oversize rejections included). */
  decodeErrors: number;
  /** Incoming packets rejected for claiming a reliable message above the size limit (also in decodeErrors). */
  oversizeRejected: number;
  /** Incoming packets dropped because their sequence was seen before or is too old to tell. */
  duplicatesDropped: number;
  /** Incoming packets dropped (unacked) because the reliable receive buffer was full. */
  receiveWindowDrops: number;
  /** Incoming packets dropped because `receive()` was not called for MAX_INBOX_PACKETS packets. */
  inboxDropped: number;
  /** Reliable messages refused because the send queue was at its cap (the peer does not ack). */
  sendQueueRefused: number;
}

/** Owns a `ConnectionStats` and refreshes its estimates. */
export class ConnectionCounters {
  readonly stats: ConnectionStats = {
    rttMs: 0,
    jitterMs: 0,
    lossRatio: 0,
    bytesIn: 0,
    bytesOut: 0,
    packetsIn: 0,
    packetsOut: 0,
    resends: 0,
    decodeErrors: 0,
    oversizeRejected: 0,
    duplicatesDropped: 0,
    receiveWindowDrops: 0,
    inboxDropped: 0,
    sendQueueRefused: 0,
  };

  /** Copies the current estimates into the stats. */
  update(rtt: RttEstimator, loss: LossEstimator): void {
    this.stats.rttMs = rtt.srttMs;
    this.stats.jitterMs = rtt.rttVarMs;
    this.stats.lossRatio = loss.ratio;
  }
}
