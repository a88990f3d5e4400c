/**
 * The reliable lane for reliable-only components: a component with a short-string field (SPEC §2: short strings
 * are reliable only) never goes into the unreliable Delta. Its pending field changes are drained here, each send
 * tick before the unreliable Delta, into Delta messages queued on the reliable lane: the same body as the
 * unreliable Delta (so the receiver applies them by the same code, in tick order per field), but delivered in
 * order and never lost, so they are cleared when queued instead of being recorded for a resend.
 * Used by both sides: the server for every client, the client for the entities it owns.
 */
import type { BitWriter } from '../codec/bit-writer.ts';
import type { Connection } from '../connection/connection.ts';
import type { RegisteredComponent } from '../register.ts';
import type { DeliveryState } from './delivery-state.ts';
import { type PackScratch, writeDelta } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { SNAPSHOT_CHUNK_BYTES } from './full-state.ts';
import type { ShadowStore } from './shadow-store.ts';

/**
 * Target size of one reliable Delta: a snapshot chunk, so a burst of name changes never holds the reliable lane
 * longer than a chunk of a snapshot would. A single entity larger than this still goes, alone.
 */
export const RELIABLE_DELTA_BYTES = SNAPSHOT_CHUNK_BYTES;

/** Drains the reliable-only components' pending changes of one delivery state into reliable Deltas. */
export class ReliableLane {
  private constructor(
    private readonly w: BitWriter,
    private readonly s: PackScratch,
    private readonly comps: readonly RegisteredComponent[],
    private readonly shadow: ShadowStore,
    private readonly reg: EntityRegistry,
  ) {}

  /** The lane of a replicator, or null when no component of the protocol has a short-string field. */
  static create(
    w: BitWriter,
    s: PackScratch,
    comps: readonly RegisteredComponent[],
    shadow: ShadowStore,
    reg: EntityRegistry,
  ): ReliableLane | null {
    return comps.some((c) => c.reliable) ? new ReliableLane(w, s, comps, shadow, reg) : null;
  }

  /** Ticks on which `budgetBytes` held changes back (they wait, coalesced, for the next tick with budget). */
  deferred = 0;
  /** Bytes queued by the last `send`. */
  lastBytes = 0;

  /**
   * Queues the pending changes of reliable-only components in `d` as reliable Deltas on `conn` (tick `tick`,
   * depending on reliable message `dependsOn`), while `budgetBytes` lasts: a message may overshoot it (the first
   * entity of a Delta always goes), what is left waits with its latest value. Returns the number of messages.
   */
  send(d: DeliveryState, conn: Connection, tick: number, dependsOn: number, budgetBytes = Infinity): number {
    let sent = 0;
    let budget = budgetBytes;
    this.lastBytes = 0;
    // Each Delta takes at least one entity and clears what it takes, so the loop ends.
    while (budget > 0) {
      const h = { tick, dependsOn, budgetBytes: Math.min(RELIABLE_DELTA_BYTES, budget), reliable: true };
      const msg = writeDelta(this.w, this.s, this.comps, this.shadow, this.reg, d, h);
      if (msg === null) return sent;
      budget -= msg.length;
      this.lastBytes += msg.length;
      conn.sendReliable(msg);
      sent++;
    }
    if (this.hasPending(d)) this.deferred++;
    return sent;
  }

  /** True when a reliable-only component of some entity in `d` has a pending change. */
  hasPending(d: DeliveryState): boolean {
    for (let i = 0; i < d.dirtyCount; i++) {
      const eid = d.dirty[i];
      for (let c = 0; c < this.comps.length; c++) if (this.comps[c].reliable && d.pending[c][eid] !== 0) return true;
    }
    return false;
  }
}
