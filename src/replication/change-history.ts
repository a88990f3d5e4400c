/**
 * A room's bounded history of what changed, per send tick: the record a catch-up (Resync {lastSeq} answered by a
 * Deltas batch) is computed from. Each record is four u32 in one preallocated ring (tick, kind | component << 8,
 * netId, arg): field changes carry the changed-field mask, structural events (spawn, despawn, component add/remove,
 * owner change) their argument. The ring is bounded by records (bytes) and by ticks; the oldest records go first,
 * and `coveredFrom` rises with them, so a query for a lastSeq the history no longer covers is refused, never
 * answered from a partial record. Nothing here allocates per record.
 */

/** Kinds of history records (low 8 bits of the second word; the component index is in the bits above). */
export const ChangeKind = { Fields: 0, Spawn: 1, Despawn: 2, ComponentAdd: 3, ComponentRemove: 4, Owner: 5 } as const;

/** A kind of history record. */
export type ChangeKindValue = (typeof ChangeKind)[keyof typeof ChangeKind];

/** Default tick bound: 60 s at the default 30 Hz send rate, the default resume window. */
export const DEFAULT_HISTORY_TICKS = 1800;

/**
 * Default byte bound: 2 MiB of 16-byte records (131,072 changes): the 16-user room (48 moving parts) for 60 s at
 * 30 Hz needs ~86,000; a few seconds of a busy 1,000-entity room.
 */
export const DEFAULT_HISTORY_BYTES = 2 * 1024 * 1024;

/** Bytes one record takes: four u32. */
export const HISTORY_RECORD_BYTES = 16;

/** Bounds of a change history. */
export interface ChangeHistoryOptions {
  /** Ticks kept at most (records older than newest tick - maxTicks are dropped). */
  maxTicks?: number;
  /** Bytes of records kept at most (rounded down to whole records; at least one record). */
  maxBytes?: number;
}

/** Counters of a change history, for stats. */
export interface ChangeHistoryCounters {
  /** Records held now. */
  records: number;
  /** Bytes held now (records x 16). */
  bytes: number;
  /** Records dropped because the byte bound was reached. */
  droppedForBytes: number;
  /** Records dropped because they fell out of the tick window. */
  droppedForTicks: number;
}

/** Called for each record after a lastSeq: kind, network id, component (0 for kinds without one), mask or argument. */
export type ChangeVisitor = (kind: ChangeKindValue, netId: number, component: number, arg: number) => void;

/** The bounded per-room change history. */
export class ChangeHistory {
  readonly maxTicks: number;
  readonly capacity: number;
  readonly counters: ChangeHistoryCounters = { records: 0, bytes: 0, droppedForBytes: 0, droppedForTicks: 0 };
  private readonly ring: Uint32Array;
  /** Index (in records) of the oldest record. */
  private head = 0;
  private size = 0;
  private tick = -1;
  /** The smallest lastSeq a query can be answered for: every record of a later tick is still here. */
  private from = -1;

  constructor(options: ChangeHistoryOptions = {}) {
    const maxTicks = options.maxTicks ?? DEFAULT_HISTORY_TICKS;
    const maxBytes = options.maxBytes ?? DEFAULT_HISTORY_BYTES;
    if (!Number.isInteger(maxTicks) || maxTicks < 1) throw new RangeError(`maxTicks must be an integer >= 1`);
    if (!(maxBytes >= HISTORY_RECORD_BYTES)) throw new RangeError(`maxBytes must be >= ${HISTORY_RECORD_BYTES}`);
    this.maxTicks = maxTicks;
    this.capacity = Math.floor(maxBytes / HISTORY_RECORD_BYTES);
    this.ring = new Uint32Array(this.capacity * 4);
  }

  /** The newest tick begun (-1 before the first). */
  get newestTick(): number {
    return this.tick;
  }

  /** The smallest lastSeq `since` answers (-1 before the first tick). */
  get coveredFrom(): number {
    return this.from;
  }

  /** Starts recording `tick` (ticks only grow); records older than the tick window are dropped. */
  begin(tick: number): void {
    if (tick <= this.tick) throw new RangeError(`history tick ${tick} does not follow ${this.tick}`);
    // A history starts complete from the tick before its first one: nothing happened before it was created.
    if (this.tick < 0) this.from = tick - 1;
    this.tick = tick;
    const oldest = tick - this.maxTicks;
    if (this.from < oldest) this.from = oldest;
    while (this.size > 0 && this.ring[this.head * 4] <= oldest) {
      this.drop();
      this.counters.droppedForTicks++;
    }
  }

  /** Records that fields `mask` of component `component` of `netId` changed this tick. */
  fields(netId: number, component: number, mask: number): void {
    if (mask !== 0) this.push(ChangeKind.Fields, netId, component, mask);
  }

  /** Records a structural event of this tick (spawn, despawn, component add/remove, owner change). */
  structural(kind: ChangeKindValue, netId: number, component: number, arg: number): void {
    this.push(kind, netId, component, arg);
  }

  /** True when every change after `lastSeq` is still recorded (and lastSeq is not ahead of the history). */
  covers(lastSeq: number): boolean {
    return Number.isInteger(lastSeq) && lastSeq >= this.from && lastSeq <= this.tick;
  }

  /** Visits every record of a tick after `lastSeq`, oldest first; false (nothing visited) when not covered. */
  since(lastSeq: number, visit: ChangeVisitor): boolean {
    if (!this.covers(lastSeq)) return false;
    const ring = this.ring;
    const cap = this.capacity;
    // Records are in tick order: skip the older ones, then visit the rest.
    for (let i = 0; i < this.size; i++) {
      const at = ((this.head + i) % cap) * 4;
      if (ring[at] <= lastSeq) continue;
      const word = ring[at + 1];
      visit((word & 0xff) as ChangeKindValue, ring[at + 2], word >>> 8, ring[at + 3]);
    }
    return true;
  }

  /** Forgets everything (e.g. the room was reset); the next tick starts a new complete history. */
  clear(): void {
    this.head = 0;
    this.size = 0;
    this.from = this.tick;
    this.counters.records = 0;
    this.counters.bytes = 0;
  }

  private push(kind: ChangeKindValue, netId: number, component: number, arg: number): void {
    if (this.tick < 0) throw new RangeError('history: begin(tick) before recording');
    if (this.size === this.capacity) {
      // The byte bound: the oldest record goes, and queries for its tick or earlier are refused from now on.
      this.drop();
      this.counters.droppedForBytes++;
    }
    const at = ((this.head + this.size) % this.capacity) * 4;
    const ring = this.ring;
    ring[at] = this.tick;
    ring[at + 1] = (kind & 0xff) | (component << 8);
    ring[at + 2] = netId;
    ring[at + 3] = arg >>> 0;
    this.size++;
    this.counters.records = this.size;
    this.counters.bytes = this.size * HISTORY_RECORD_BYTES;
  }

  private drop(): void {
    const tick = this.ring[this.head * 4];
    if (tick > this.from) this.from = tick;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    this.counters.records = this.size;
    this.counters.bytes = this.size * HISTORY_RECORD_BYTES;
  }
}
