/**
 * The server's ownership arbiter. Requests (grab an object) received during a tick are decided together at the
 * end of it, in Lamport order with the client id as the tie-break, so two clients grabbing the same object in
 * the same tick always see the same winner. A request for an entity that is not grabbable (see `ArbiterHost`) is
 * refused before any policy sees it. A request for a free grabbable entity (owned by the server) is granted; one
 * for an entity someone else holds is refused, queued or granted by the configured policy. A release hands the
 * entity to the next client in its queue, or back to the server.
 */
import { sortByStamp } from './lamport.ts';

/** What to do with a request: grant it now, refuse it, or queue it until the holder releases. */
export type OwnershipDecision = 'grant' | 'refuse' | 'queue';

/** What a policy is told about a request. */
export interface OwnershipRequestInfo {
  /** Client id of the requester. */
  clientId: number;
  /** The requester's role. */
  role: string;
  /** Server entity id of the requested entity. */
  eid: number;
  /** Network id of the requested entity. */
  netId: number;
  /** Current owner (0 = the server). */
  owner: number;
}

/**
 * Policy for requests: 'refuse' (default) refuses an entity someone holds, 'queue' queues behind the holder,
 * 'steal' takes it from the holder; free entities are granted. A function decides every request itself.
 */
export type OwnershipPolicy = 'refuse' | 'queue' | 'steal' | ((request: OwnershipRequestInfo) => OwnershipDecision);

/** Queued clients per entity: a queue longer than this refuses (a crowd grabbing one object gains nothing). */
export const MAX_OWNERSHIP_QUEUE = 32;

/** Requests held per tick: far above what a room of hands can produce, bounds memory against a flood. */
export const MAX_PENDING_REQUESTS = 4096;

/** One request waiting for the end of the tick. */
export interface PendingRequest {
  counter: number;
  clientId: number;
  netId: number;
}

/** What the arbiter needs from the world. */
export interface ArbiterHost {
  /** Local entity of a network id, or 0. */
  entityOf(netId: number): number;
  ownerOf(eid: number): number;
  roleOf(clientId: number): string | undefined;
  /** May `clientId` own `eid` at all? (default: the entity has the `Grabbable` tag). */
  isGrabbable(eid: number, clientId: number): boolean;
  setOwner(eid: number, clientId: number): void;
  /** Tells a client its request was not granted (now). */
  denied(clientId: number, netId: number, reason: 'refused' | 'queued' | 'unknown'): void;
}

/** Counters of the arbiter. */
export interface OwnershipCounters {
  /** Ownership requests received. */
  requests: number;
  /** Requests granted. */
  granted: number;
  /** Requests refused (by the policy, or because the entity is not grabbable). */
  refused: number;
  /** Requests refused because the entity is not grabbable (also counted in `refused`). */
  notGrabbable: number;
  /** Requests queued until the holder releases. */
  queued: number;
  /** Releases by the holder (the entity went to the next queued client or the server). */
  released: number;
}

/** Decides ownership requests. */
export class OwnershipArbiter {
  readonly counters: OwnershipCounters = {
    requests: 0,
    granted: 0,
    refused: 0,
    notGrabbable: 0,
    queued: 0,
    released: 0,
  };
  /** Clients waiting for an entity, by entity, in the order they will get it. */
  readonly queues = new Map<number, number[]>();
  private pending: PendingRequest[] = [];

  constructor(
    private readonly host: ArbiterHost,
    private readonly policy: OwnershipPolicy,
  ) {}

  /** Holds a request until the end of the tick. */
  request(clientId: number, netId: number, counter: number): void {
    if (this.pending.length >= MAX_PENDING_REQUESTS) {
      this.host.denied(clientId, netId, 'refused');
      return;
    }
    this.counters.requests++;
    this.pending.push({ counter, clientId, netId });
  }

  /** Decides the tick's requests in Lamport order (counter, then client id). */
  decide(): void {
    if (this.pending.length === 0) return;
    const batch = sortByStamp(this.pending);
    this.pending = [];
    for (const r of batch) this.decideOne(r);
  }

  private decideOne(r: PendingRequest): void {
    const h = this.host;
    const eid = h.entityOf(r.netId);
    const role = h.roleOf(r.clientId);
    if (eid === 0 || role === undefined) {
      if (role !== undefined) h.denied(r.clientId, r.netId, 'unknown');
      return;
    }
    const owner = h.ownerOf(eid);
    if (owner === r.clientId) return; // already holds it: nothing to do
    if (!h.isGrabbable(eid, r.clientId)) {
      this.counters.notGrabbable++;
      this.counters.refused++;
      h.denied(r.clientId, r.netId, 'refused');
      return;
    }
    let decision: OwnershipDecision;
    if (typeof this.policy === 'function') {
      decision = this.policy({ clientId: r.clientId, role, eid, netId: r.netId, owner });
    } else if (owner === 0) decision = 'grant';
    else decision = this.policy === 'steal' ? 'grant' : this.policy === 'queue' ? 'queue' : 'refuse';
    if (decision === 'queue' && owner === 0) decision = 'grant';
    if (decision === 'grant') {
      this.dequeue(eid, r.clientId);
      this.counters.granted++;
      h.setOwner(eid, r.clientId);
      return;
    }
    if (decision === 'queue') {
      const q = this.queues.get(eid) ?? [];
      if (!q.includes(r.clientId)) {
        if (q.length >= MAX_OWNERSHIP_QUEUE) decision = 'refuse';
        else {
          q.push(r.clientId);
          this.queues.set(eid, q);
        }
      }
      if (decision === 'queue') {
        this.counters.queued++;
        h.denied(r.clientId, r.netId, 'queued');
        return;
      }
    }
    this.counters.refused++;
    h.denied(r.clientId, r.netId, 'refused');
  }

  /**
   * `clientId` lets go of `eid`: it goes to the next queued client still in the session, else to the server.
   * A client that only waited for `eid` leaves its queue. Returns false when the client neither held nor waited.
   */
  release(clientId: number, eid: number): boolean {
    if (this.host.ownerOf(eid) !== clientId) return this.dequeue(eid, clientId);
    this.counters.released++;
    this.host.setOwner(eid, this.nextInQueue(eid));
    return true;
  }

  /** The next queued client still in the session (removed from the queue), or 0. */
  private nextInQueue(eid: number): number {
    const q = this.queues.get(eid);
    while (q && q.length > 0) {
      const next = q.shift() as number;
      if (this.host.roleOf(next) !== undefined) {
        if (q.length === 0) this.queues.delete(eid);
        this.counters.granted++;
        return next;
      }
    }
    this.queues.delete(eid);
    return 0;
  }

  private dequeue(eid: number, clientId: number): boolean {
    const q = this.queues.get(eid);
    const i = q ? q.indexOf(clientId) : -1;
    if (!q || i < 0) return false;
    q.splice(i, 1);
    if (q.length === 0) this.queues.delete(eid);
    return true;
  }

  /** A client left (or lost the right to own): it leaves every queue and its pending requests are dropped. */
  forget(clientId: number): void {
    for (const [eid, q] of this.queues) {
      const i = q.indexOf(clientId);
      if (i >= 0) q.splice(i, 1);
      if (q.length === 0) this.queues.delete(eid);
    }
    this.pending = this.pending.filter((r) => r.clientId !== clientId);
  }

  /** An entity is gone: its queue goes with it. */
  entityRemoved(eid: number): void {
    this.queues.delete(eid);
  }
}
