/** The server replicator's counters, shared by the parts that bump them (snapshots, hash checks, owner writes). */

/** Counters of the server replicator, for stats. */
export interface ServerReplicationCounters {
  snapshots: number;
  snapshotRawBytes: number;
  snapshotSentBytes: number;
  resyncs: number;
  hashesSent: number;
  epochGaps: number;
  ownerHashMismatches: number;
  /** Owner Deltas refused for a tick beyond the tick window (see tick-window.ts). */
  futureTicks: number;
  /** Reliable Deltas queued (changes of components with a short-string field, see reliable-deltas.ts). */
  reliableDeltas: number;
}

/** A fresh set of counters, all zero. */
export function createServerCounters(): ServerReplicationCounters {
  return {
    snapshots: 0,
    snapshotRawBytes: 0,
    snapshotSentBytes: 0,
    resyncs: 0,
    hashesSent: 0,
    epochGaps: 0,
    ownerHashMismatches: 0,
    futureTicks: 0,
    reliableDeltas: 0,
  };
}
