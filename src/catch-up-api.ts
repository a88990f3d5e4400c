/**
 * Resume catch-up's public face: the figures of both halves (see README "Resume and catch-up").
 *
 * @example
 * const s = catchUpStatsOf(serverWorld);
 * if (s.role === 'server') console.log(s.catchUps, s.tooOld, s.history.records);
 */
import { getNetContext } from './context.ts';
import type { ChangeHistoryCounters } from './replication/change-history.ts';
import type { CatchUpClientCounters } from './replication/catch-up-client.ts';
import type { CatchUpServerCounters } from './replication/catch-up-server.ts';

/** Server figures: batches and fallbacks, refused Resyncs, and the change history's size and drops. */
export interface ServerCatchUpStats extends CatchUpServerCounters {
  /** Marks the server's figures. */
  role: 'server';
  /** Records held, bytes, and records dropped by the byte and tick bounds. */
  history: ChangeHistoryCounters;
  /** The oldest lastSeq the history can still answer (-1 before the first tick). */
  coveredFrom: number;
  /** Resumed clients waiting for their Resync. */
  waiting: number;
}

/** Client figures: Resyncs sent, batches applied, and the lastSeq the next resume would send. */
export interface ClientCatchUpStats extends CatchUpClientCounters {
  /** Marks the client's figures. */
  role: 'client';
  /** The newest server tick of a reliable state message applied in order: what the next resume's Resync sends. */
  lastSeq: number;
}

/** Figures of resume catch-up on a server or a client world. */
export function catchUpStatsOf(world: object): ServerCatchUpStats | ClientCatchUpStats {
  const ctx = getNetContext(world);
  if (ctx.role === 'server') {
    const c = ctx.replicator.catchUp;
    return {
      role: 'server',
      ...c.counters,
      history: { ...c.history.counters },
      coveredFrom: c.history.coveredFrom,
      waiting: c.waitingCount,
    };
  }
  const c = ctx.replicator.catchUp;
  return { role: 'client', ...c.counters, lastSeq: c.lastSeq };
}
