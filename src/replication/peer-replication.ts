/** Replication state the server keeps for one client. */
import { capacityFor, grown } from '../codec/grow-array.ts';
import type { ServerPeer } from '../session/server-session.ts';
import { DeliveryState } from './delivery-state.ts';
import { EntitySet } from './entity-set.ts';
import { SendPriority } from './send-priority.ts';
import { ClientInterest } from './interest.ts';
import { TickWindow } from './tick-window.ts';

/** Structural operations queued for one peer, in the order they happened. */
export const Op = { Spawn: 0, Despawn: 1, ComponentAdd: 2, ComponentRemove: 3, Owner: 4 } as const;

/** What the server tracks per client: known entities, pending fields, interest, priority and bandwidth. */
export class PeerReplication {
  readonly peer: ServerPeer;
  /** known[eid]: the client has been sent the spawn of eid (and no despawn since). */
  known: Uint8Array;
  /** The same entities as a dense list, for walking them. */
  readonly knownSet = new EntitySet();
  readonly delivery: DeliveryState;
  /** Pending structural ops: triples (op, netId, arg). */
  ops: number[] = [];
  /** Link lost, session kept: nothing is sent until it resumes. */
  suspended = false;
  readonly interest = new ClientInterest();
  /** Priority accumulators and bandwidth tokens. */
  readonly priority: SendPriority;
  lastBytesOut = 0;
  nextHashAtMs = 0;
  /**
   * Reliable id of the last structural message (spawn, despawn, component add/remove, ownership, snapshot) sent
   * to this client; deltas depend on it alone, so a lost StateHash or Presence never holds state back.
   * 0xffff = none yet (always delivered).
   */
  lastStructuralId = 0xffff;
  /** Epoch the next OwnerHash from this client must carry. */
  nextOwnerEpoch = 0;
  /** Bounds the ticks of this client's owner Deltas (a far-future tick would block fields for good). */
  readonly ownerTicks = new TickWindow();
  /** Generation marks for interest recomputation. */
  mark: Uint32Array;
  generation = 0;

  constructor(peer: ServerPeer, componentCount: number, capacity: number) {
    this.peer = peer;
    this.known = new Uint8Array(capacity);
    this.priority = new SendPriority(capacity);
    this.mark = new Uint32Array(capacity);
    this.delivery = new DeliveryState(componentCount, capacity);
  }

  /** Grows per-entity arrays so `eid` fits. */
  ensure(eid: number): void {
    if (eid < this.known.length) return;
    const cap = capacityFor(this.known.length, eid);
    this.known = grown(this.known, cap);
    this.priority.ensure(eid);
    this.mark = grown(this.mark, cap);
    this.delivery.ensure(eid);
  }

  /** Records that the client now has `eid`. */
  learn(eid: number): void {
    this.ensure(eid);
    this.known[eid] = 1;
    this.knownSet.add(eid);
    this.priority.clear(eid);
  }

  /** Records that the client no longer has `eid` and drops what was pending for it. */
  unlearn(eid: number): void {
    if (eid < this.known.length) this.known[eid] = 0;
    this.knownSet.delete(eid);
    this.delivery.forget(eid);
  }

  /** True when the client has `eid`. */
  knows(eid: number): boolean {
    return eid < this.known.length && this.known[eid] !== 0;
  }
}
