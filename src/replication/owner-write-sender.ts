/**
 * The client's writes to the entities it owns, on their way to the server: change detection of the owned
 * entities against their shadow, one Delta per send tick (string components on the reliable lane), and the
 * periodic OwnerHash that lets the server check the stream (owner-hash.ts).
 */
import type { Connection } from '../connection/connection.ts';
import type { RegisteredComponent } from '../register.ts';
import type { DeliveryState } from './delivery-state.ts';
import { type PackScratch, writeDelta } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { writeOwnerHash } from './owner-hash.ts';
import type { ReliableLane } from './reliable-deltas.ts';
import type { ShadowStore } from './shadow-store.ts';
import type { BitWriter } from './wire-bodies.ts';

/** Send ticks between two OwnerHash checks of this client's owned state (~1 s at 30 Hz). */
export const OWNER_HASH_EVERY_TICKS = 30;

/** What owner writes are detected in and sent through. */
export interface OwnerWriteSenderHost {
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly delivery: DeliveryState;
  readonly scratch: PackScratch;
  readonly writer: BitWriter;
  readonly reliableLane: ReliableLane | null;
  readonly counters: { reliableDeltas: number };
  /** Components whose owner writes an extension streams itself: the generic Delta skips them. */
  readonly ownerWriteExcluded: Uint8Array;
  /** This client's id (0 before Welcome). */
  clientId(): number;
}

/** Detects and sends the owned entities' changes, and checks the stream with OwnerHash. */
export class OwnerWriteSender {
  private readonly h: OwnerWriteSenderHost;
  private ownerEpoch = 0;

  constructor(host: OwnerWriteSenderHost) {
    this.h = host;
  }

  /** A new connection: the OwnerHash epochs start again. */
  resetEpoch(): void {
    this.ownerEpoch = 0;
  }

  /** Marks every field of every owned entity pending, so the server gets all of it again. */
  remarkOwned(): void {
    const { registry: reg, comps, delivery, ownerWriteExcluded } = this.h;
    const me = this.h.clientId();
    for (let i = 0; i < reg.count; i++) {
      const eid = reg.list[i];
      if (reg.owner[eid] !== me) continue;
      for (let c = 0; c < comps.length; c++) {
        if (reg.has[c][eid] && comps[c].fields.length > 0 && !ownerWriteExcluded[c])
          delivery.mark(eid, c, comps[c].allFieldsMask);
      }
    }
  }

  /** Diffs every owned entity against its shadow and marks the changes for the server. */
  detect(): void {
    const me = this.h.clientId();
    if (me === 0) return;
    const { registry: reg, comps, shadow, delivery, ownerWriteExcluded } = this.h;
    for (let i = 0; i < reg.count; i++) {
      const eid = reg.list[i];
      if (reg.owner[eid] !== me) continue;
      for (let c = 0; c < comps.length; c++) {
        if (reg.has[c][eid] === 0 || comps[c].fields.length === 0 || ownerWriteExcluded[c]) continue;
        const mask = shadow.detect(c, eid);
        if (mask !== 0) delivery.mark(eid, c, mask);
      }
    }
  }

  /** Queues send tick `tick`'s owner writes on `conn` (`reservedBytes` left to extensions), and the OwnerHash. */
  send(conn: Connection, tick: number, reservedBytes: number): void {
    const h = this.h;
    const lane = h.reliableLane;
    if (lane !== null && h.delivery.dirtyCount > 0)
      h.counters.reliableDeltas += lane.send(h.delivery, conn, tick, conn.lastReliableIdSent);
    const delta = writeDelta(h.writer, h.scratch, h.comps, h.shadow, h.registry, h.delivery, {
      tick,
      dependsOn: conn.lastReliableIdSent,
      budgetBytes: conn.unreliableSpaceBytes() - reservedBytes,
    });
    if (delta !== null && !conn.sendUnreliable(delta)) h.delivery.untake();
    if (tick % OWNER_HASH_EVERY_TICKS === 0) this.sendOwnerHash(conn, tick);
  }

  /** OwnerHash (owner-hash.ts): the hash of what this client sent for its entities, once all of it is settled. */
  private sendOwnerHash(conn: Connection, tick: number): void {
    const h = this.h;
    const me = h.clientId();
    if (me === 0) return;
    const body = { epoch: this.ownerEpoch, tick };
    const msg = writeOwnerHash(h.writer, body, me, h.comps, h.registry, h.shadow, h.delivery, h.ownerWriteExcluded);
    if (msg === null) return;
    this.ownerEpoch++;
    conn.sendReliable(msg);
  }
}
