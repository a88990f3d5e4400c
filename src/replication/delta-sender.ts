/**
 * The per-client send pass of the server: the owner's corrections, then, within the packet's space and the
 * client's bandwidth tokens, the reliable Deltas of string components and the unreliable Delta of the most
 * important pending changes (send-priority.ts orders them, delta-packer.ts packs them); finally the flush that
 * commits what went out to the delivery state and takes the bytes off the tokens.
 */
import type { RegisteredComponent } from '../register.ts';
import type { CatchUpServer } from './catch-up-server.ts';
import { type PackScratch, writeDelta } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { InterestIndex } from './interest.ts';
import type { OwnerWriteFilter } from './owner-write-filter.ts';
import type { PeerReplication } from './peer-replication.ts';
import type { ReliableLane } from './reliable-deltas.ts';
import { maxDeltaEntityBits, SendPriority, type PriorityFn } from './send-priority.ts';
import type { ServerReplicationCounters } from './server-counters.ts';
import type { ShadowStore } from './shadow-store.ts';
import type { BitWriter } from './wire-bodies.ts';
import type { Fidelity } from './fidelity.ts';

/** Smallest delta worth sending; below this the budget waits for more tokens. */
const MIN_DELTA_BYTES = 24;

/** Smallest bandwidth share worth a reliable Delta of strings: a name change with its framing takes ~40 bytes. */
const MIN_RELIABLE_SHARE_BYTES = 48;

/** What a packet costs besides the delta: header, acks, framing (reliable data was already counted). */
const PACKET_OVERHEAD_BYTES = 16;

/** What the send pass packs from and through. */
export interface DeltaSenderHost {
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly scratch: PackScratch;
  readonly writer: BitWriter;
  readonly interest: InterestIndex;
  readonly ownerFilter: OwnerWriteFilter;
  readonly reliableLane: ReliableLane | null;
  readonly catchUp: CatchUpServer;
  readonly counters: ServerReplicationCounters;
  /** The per-client bandwidth cap in bytes per second; 0 when uncapped. */
  readonly bandwidthBytesPerSec: number;
  readonly priority: PriorityFn | null;
  /** Fidelity levels by distance, or null. */
  readonly fidelity: Fidelity | null;
}

/** Packs each client's pending changes into its packet and bandwidth budget. */
export class DeltaSender {
  private readonly h: DeltaSenderHost;
  /** Largest bits one entity can take in the unreliable Delta (see `SendPriority.fitsAll`). */
  private readonly maxEntityBits: number;

  constructor(host: DeltaSenderHost) {
    this.h = host;
    this.maxEntityBits = maxDeltaEntityBits(host.comps);
  }

  /**
   * Queues `p`'s corrections, reliable string Deltas and the best unreliable Delta that fits, for send tick
   * `tick`; `reservedBytes` of the packet are left to extensions.
   */
  sendChanges(p: PeerReplication, now: number, tick: number, reservedBytes: number): void {
    const h = this.h;
    const conn = p.peer.connection;
    h.ownerFilter.flush(p.peer.clientId, conn, tick, h.writer, h.scratch, h.comps, h.shadow);
    const pr = p.priority;
    let budget = conn.unreliableSpaceBytes() - reservedBytes;
    if (h.bandwidthBytesPerSec > 0) {
      budget = Math.min(budget, pr.refill(now, h.bandwidthBytesPerSec) - PACKET_OVERHEAD_BYTES);
    }
    pr.lastSendAtMs = now;
    // String components: at most half the client's bandwidth tokens (a flood of renames never starves poses),
    // and what they take is the delta's no more.
    const lane = h.reliableLane;
    if (lane !== null && p.delivery.dirtyCount > 0) {
      const share = h.bandwidthBytesPerSec > 0 ? Math.floor(pr.tokens / 2) : Infinity;
      if (share >= MIN_RELIABLE_SHARE_BYTES) {
        // (catch-up records what the lane queued: see CatchUpServer.recordLaneSend)
        h.counters.reliableDeltas += h.catchUp.recordLaneSend(p.delivery, () =>
          lane.send(p.delivery, conn, tick, p.lastStructuralId, share),
        );
        budget -= lane.lastBytes;
      } else if (lane.hasPending(p.delivery)) lane.deferred++;
    }
    h.fidelity?.refine(p, tick);
    if (budget >= MIN_DELTA_BYTES && p.delivery.dirtyCount > 0) {
      const grid = h.interest.config.grid;
      const view = grid ? h.interest.viewpoint(p.interest, h.registry) : null;
      const fidelity = h.fidelity?.prepare(p, tick) ?? null;
      // Every waiting entity goes out whatever its priority (no fidelity holds, a budget that holds them all at
      // their largest): the priority pass is done only if the Delta does not go out after all.
      const all =
        fidelity === null &&
        h.priority === null &&
        SendPriority.fitsAll(p.delivery.dirtyCount, this.maxEntityBits, budget);
      const clientId = p.peer.clientId;
      if (!all) pr.prioritize(p.delivery, clientId, h.registry, grid, view, h.priority);
      const delta = writeDelta(h.writer, h.scratch, h.comps, h.shadow, h.registry, p.delivery, {
        tick,
        dependsOn: p.lastStructuralId,
        budgetBytes: budget,
        fidelity,
        baselines: p.baselines,
      });
      if (delta !== null && !conn.sendUnreliable(delta)) {
        p.delivery.untake();
        if (all) pr.prioritize(p.delivery, clientId, h.registry, grid, view, h.priority);
      }
      pr.resetSent(p.delivery);
    }
  }

  /** Flushes `p`'s packet: what went out is committed (or put back), and its bytes are taken off the tokens. */
  flush(p: PeerReplication): void {
    const conn = p.peer.connection;
    const pr = p.priority;
    // Bytes the session sent since the last tick (Pings, Pongs) count too; a resumed peer's new connection restarts.
    const before = Math.min(p.lastBytesOut, conn.stats.bytesOut);
    const seq = conn.flush();
    if (seq >= 0) p.delivery.commit(seq);
    else p.delivery.untake();
    pr.tokens -= conn.stats.bytesOut - before;
    p.lastBytesOut = conn.stats.bytesOut;
  }
}
