/** Options and counters of the client replicator. */
import type { Clock } from '../clock.ts';
import type { ErrorHandler } from '../errors.ts';
import type { Protocol } from '../register.ts';
import type { ClientSession } from '../session/client-session.ts';
import type { WorldAdapter } from './world-adapter.ts';

/** Options of the client replicator. */
export interface ClientReplicatorOptions {
  protocol: Protocol;
  session: ClientSession;
  world: WorldAdapter;
  onError?: ErrorHandler;
  /** Local clock, for the tick window's elapsed-time allowance (without it only the fixed lead applies). */
  clock?: Clock;
  /** Cap on references waiting for an entity not here (default DEFAULT_MAX_UNRESOLVED_REFS). */
  maxUnresolvedRefs?: number;
}

/** Counters of the client replicator, for stats. */
export interface ClientReplicationCounters {
  heldDeltas: number;
  droppedHeldDeltas: number;
  decodeErrors: number;
  snapshots: number;
  hashChecks: number;
  hashMismatches: number;
  /** Messages refused for a tick beyond the tick window (see tick-window.ts). */
  futureTicks: number;
  /** References waiting for an entity not here (updated each receive). */
  unresolvedRefs: number;
  /** References refused because that table was full (the field stays null until its bucket is resynced). */
  droppedRefs: number;
  /** Reliable Deltas queued for owned entities (components with a short-string field). */
  reliableDeltas: number;
  /** Delta components dropped for naming a baseline tick not held (ackedbase; the state-hash resync repairs). */
  baselineMissing: number;
  /**
   * Entities refused a received-value history row because `MAX_CLIENT_BASELINE_ENTITIES` rows were taken (their
   * residuals then come back as `baselineMissing`).
   */
  baselineRefused: number;
}

/** A fresh set of client counters, all zero. */
export function createClientCounters(): ClientReplicationCounters {
  return {
    heldDeltas: 0,
    droppedHeldDeltas: 0,
    decodeErrors: 0,
    snapshots: 0,
    hashChecks: 0,
    hashMismatches: 0,
    futureTicks: 0,
    unresolvedRefs: 0,
    droppedRefs: 0,
    reliableDeltas: 0,
    baselineMissing: 0,
    baselineRefused: 0,
  };
}
