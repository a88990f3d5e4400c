/**
 * Network ids and the per-entity facts replication keeps: which entities replicate, which registered
 * components each has (as last announced), and who owns it. Network ids are never reused within a session,
 * so a late message about a destroyed entity can never land on a new one.
 */
import { capacityFor, grown } from '../codec/grow-array.ts';

/** The id "no client": the server owns the entity. */
export const SERVER_OWNER = 0;

/** Entity-indexed tables, grown by doubling. */
export class EntityRegistry {
  capacity: number;
  readonly componentCount: number;
  /** netIdOf[eid]: network id, 0 when the entity does not replicate. */
  netIdOf: Uint32Array;
  /** owner[eid]: owning client id, SERVER_OWNER for the server. */
  owner: Uint32Array;
  /** has[c][eid]: component c is part of the replicated state of eid. */
  has: Uint8Array[];
  readonly entityOf = new Map<number, number>();
  /** Dense list of replicated entities, for scanning. */
  list: Int32Array;
  count = 0;
  private indexOf: Int32Array;
  private nextNetId = 1;

  constructor(componentCount: number, capacity: number) {
    this.componentCount = componentCount;
    this.capacity = capacity;
    this.netIdOf = new Uint32Array(capacity);
    this.owner = new Uint32Array(capacity);
    this.has = Array.from({ length: componentCount }, () => new Uint8Array(capacity));
    this.list = new Int32Array(capacity);
    this.indexOf = new Int32Array(capacity).fill(-1);
  }

  /** Grows the tables so `eid` fits. */
  ensure(eid: number): void {
    if (eid < this.capacity) return;
    const cap = capacityFor(this.capacity, eid);
    this.netIdOf = grown(this.netIdOf, cap);
    this.owner = grown(this.owner, cap);
    this.has = this.has.map((a) => grown(a, cap));
    this.list = grown(this.list, cap);
    const old = this.indexOf.length;
    this.indexOf = grown(this.indexOf, cap);
    this.indexOf.fill(-1, old);
    this.capacity = cap;
  }

  /** True when `eid` replicates. */
  isReplicated(eid: number): boolean {
    return eid < this.capacity && this.netIdOf[eid] !== 0;
  }

  /** Gives `eid` a network id (the next one, or `netId` on a client mirroring the server). */
  add(eid: number, netId = this.nextNetId++): number {
    this.ensure(eid);
    this.netIdOf[eid] = netId;
    this.entityOf.set(netId, eid);
    this.owner[eid] = SERVER_OWNER;
    this.indexOf[eid] = this.count;
    this.list[this.count++] = eid;
    return netId;
  }

  /** Forgets `eid` (its network id is retired). Returns the network id it had, or 0. */
  remove(eid: number): number {
    if (!this.isReplicated(eid)) return 0;
    const netId = this.netIdOf[eid];
    this.entityOf.delete(netId);
    this.netIdOf[eid] = 0;
    this.owner[eid] = SERVER_OWNER;
    for (let c = 0; c < this.componentCount; c++) this.has[c][eid] = 0;
    const i = this.indexOf[eid];
    const last = this.list[--this.count];
    this.list[i] = last;
    this.indexOf[last] = i;
    this.indexOf[eid] = -1;
    return netId;
  }

  /** Local entity of a network id, or 0. */
  toLocal(netId: number): number {
    return this.entityOf.get(netId) ?? 0;
  }

  /** Network id of a local entity, or 0. */
  toNet(eid: number): number {
    return eid < this.capacity ? this.netIdOf[eid] : 0;
  }
}
