/** Replication state the server keeps for one client. */
import { capacityFor, grown } from '../codec/grow-array.ts';
import type { ServerPeer } from '../session/server-session.ts';
import { DeliveryState } from './delivery-state.ts';
import { EntitySet } from './entity-set.ts';
import { SendPriority } from './send-priority.ts';
import { ClientInterest } from './interest.ts';
import { TickWindow } from './tick-window.ts';
import type { ServerBaselineCoder } from './baseline-block.ts';

/** `known` value of an entity learned outside an interest recompute (a spawn, a grant, a snapshot). */
export const KNOWN_UNMARKED = 0xffffffff;

/** Structural operations queued for one peer, in the order they happened. */
export const Op = { Spawn: 0, Despawn: 1, ComponentAdd: 2, ComponentRemove: 3, Owner: 4 } as const;

/** What the server tracks per client: known entities, pending fields, interest, priority and bandwidth. */
export class PeerReplication {
  readonly peer: ServerPeer;
  /**
   * known[eid] !== 0: the client has been sent the spawn of eid (and no despawn since). The value is the interest
   * generation that last kept it (see client-view.ts), or KNOWN_UNMARKED when it was learned outside a recompute:
   * one table for both, so a recompute touches one entry per candidate.
   */
  known: Uint32Array;
  /** The same entities as a dense list, for walking them. */
  readonly knownSet = new EntitySet();
  readonly delivery: DeliveryState;
  /** Deltas against this client's acked baselines, when it was granted `ackedbase` (see baseline-block.ts). */
  baselines: ServerBaselineCoder | undefined;
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
  /** Generation of the last interest recompute (1 .. KNOWN_UNMARKED - 1). */
  generation = 0;

  constructor(peer: ServerPeer, componentCount: number, capacity: number) {
    this.peer = peer;
    this.known = new Uint32Array(capacity);
    this.priority = new SendPriority(capacity);
    this.delivery = new DeliveryState(componentCount, capacity);
  }

  /** Turns on deltas against acked baselines for this client. */
  useBaselines(coder: ServerBaselineCoder | undefined): void {
    this.baselines = coder;
    this.delivery.baselines = coder ?? null;
  }

  /** Grows per-entity arrays so `eid` fits. */
  ensure(eid: number): void {
    if (eid < this.known.length) return;
    const cap = capacityFor(this.known.length, eid);
    this.known = grown(this.known, cap);
    this.priority.ensure(eid);
    this.delivery.ensure(eid);
  }

  /** Records that the client now has `eid`. */
  learn(eid: number): void {
    this.ensure(eid);
    if (this.known[eid] === 0) this.known[eid] = KNOWN_UNMARKED;
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

  /** The generation of a new interest recompute; after 2^32 - 2 of them, older marks are cleared first. */
  nextGeneration(): number {
    if (++this.generation < KNOWN_UNMARKED) return this.generation;
    const known = this.knownSet;
    for (let i = 0; i < known.count; i++) this.known[known.list[i]] = KNOWN_UNMARKED;
    return (this.generation = 1);
  }
}
