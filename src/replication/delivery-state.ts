/**
 * What one receiver still needs from this sender, and what each sent packet carried. A field change is marked
 * pending; packing clears it and records it against the packet's sequence; a loss marks it pending again, so
 * the receiver always ends with the latest value (never a stale resend), and nothing is sent twice while acked.
 */
import { capacityFor, grown } from '../codec/grow-array.ts';

/** Ring of sent-packet records; must exceed the packets in flight before the connection decides acked/lost. */
export const SENT_RECORD_SLOTS = 1024;

interface SentRecord {
  seq: number;
  /** Tick of the Delta the record's fields went in (the baseline tick an ack confirms). */
  tick: number;
  count: number;
  eids: Int32Array;
  comps: Uint8Array;
  masks: Uint32Array;
  /** Generation of (eid, component) when sent: a loss re-marks only if it is still the same component. */
  gens: Uint32Array;
}

function createRecord(): SentRecord {
  return {
    seq: -1,
    tick: 0,
    count: 0,
    eids: new Int32Array(16),
    comps: new Uint8Array(16),
    masks: new Uint32Array(16),
    gens: new Uint32Array(16),
  };
}

/**
 * Told what the receiver confirmed and what it forgot, so per-receiver baselines (acked-baseline.ts) follow the
 * delivery state: fields acked at a tick, an entity or component forgotten, everything reset.
 */
export interface DeliveryListener {
  /** Component `c` of `eid`, sent in a Delta of `tick`, was acked. */
  acked(eid: number, c: number, tick: number): void;
  /** Component `c` of `eid` is forgotten (-1: every component). */
  forget(eid: number, c: number): void;
  /** Everything is forgotten (a full snapshot follows). */
  reset(): void;
}

/** Pending field masks per entity for one receiver, a FIFO of dirty entities, and the sent-packet records. */
export class DeliveryState {
  readonly componentCount: number;
  capacity: number;
  /** pending[c][eid]: fields of component c not yet sent since their last change (or loss). */
  pending: Uint32Array[];
  /** gen[c][eid]: bumped whenever component c of eid is forgotten (removed, despawned, ownership moved). */
  private gen: Uint32Array[];
  private inDirty: Uint8Array;
  /** inflight[eid]: record entries of eid in packets not yet acked or lost. */
  inflight: Uint16Array;
  /** Entities with any pending field, oldest first. */
  dirty: Int32Array;
  dirtyCount = 0;
  /** The record of each packet in flight, by seq modulo the slots; null once acked or lost. */
  private records: (SentRecord | null)[] = new Array<SentRecord | null>(SENT_RECORD_SLOTS).fill(null);
  /** Records not in use: memory follows the packets in flight, not the slots (at most SENT_RECORD_SLOTS + 1). */
  private readonly pool: SentRecord[] = [];
  private open: SentRecord = createRecord();
  /** Tick of the Delta being packed (set by the packer before it takes fields). */
  sendTick = 0;
  /** Per-receiver baselines to keep in step, or null. */
  baselines: DeliveryListener | null = null;

  constructor(componentCount: number, capacity: number) {
    this.componentCount = componentCount;
    this.capacity = capacity;
    this.pending = Array.from({ length: componentCount }, () => new Uint32Array(capacity));
    this.gen = Array.from({ length: componentCount }, () => new Uint32Array(capacity));
    this.inDirty = new Uint8Array(capacity);
    this.inflight = new Uint16Array(capacity);
    this.dirty = new Int32Array(64);
  }

  /** Grows per-entity arrays so `eid` fits. */
  ensure(eid: number): void {
    if (eid < this.capacity) return;
    const cap = capacityFor(this.capacity, eid);
    for (let c = 0; c < this.componentCount; c++) {
      this.pending[c] = grown(this.pending[c], cap);
      this.gen[c] = grown(this.gen[c], cap);
    }
    this.inDirty = grown(this.inDirty, cap);
    this.inflight = grown(this.inflight, cap);
    this.capacity = cap;
  }

  /** Marks fields of component `c` of `eid` as needing a send. */
  mark(eid: number, c: number, mask: number): void {
    if (eid >= this.capacity) this.ensure(eid);
    this.pending[c][eid] |= mask;
    if (this.inDirty[eid] === 0) {
      this.inDirty[eid] = 1;
      if (this.dirtyCount === this.dirty.length) this.dirty = grown(this.dirty, this.dirty.length * 2);
      this.dirty[this.dirtyCount++] = eid;
    }
  }

  /** True when `eid` has any pending field. */
  hasPending(eid: number): boolean {
    if (eid >= this.capacity) return false;
    for (let c = 0; c < this.componentCount; c++) if (this.pending[c][eid] !== 0) return true;
    return false;
  }

  /** Drops everything pending for `eid` (despawned, left interest, ownership moved). */
  forget(eid: number): void {
    if (eid >= this.capacity) return;
    for (let c = 0; c < this.componentCount; c++) {
      this.pending[c][eid] = 0;
      this.gen[c][eid]++;
    }
    this.baselines?.forget(eid, -1);
  }

  /** Drops pending fields of one component of `eid` (component removed). */
  forgetComponent(eid: number, c: number): void {
    if (eid < this.capacity) {
      this.pending[c][eid] = 0;
      this.gen[c][eid]++;
    }
    this.baselines?.forget(eid, c);
  }

  /**
   * Removes from the dirty list every entity whose pending masks are all zero (after packing or forgetting),
   * keeping the order of the rest so unsent entities go first next time.
   */
  compactDirty(): void {
    let out = 0;
    for (let i = 0; i < this.dirtyCount; i++) {
      const eid = this.dirty[i];
      if (this.hasPending(eid)) this.dirty[out++] = eid;
      else this.inDirty[eid] = 0;
    }
    this.dirtyCount = out;
  }

  /** Notes that fields `mask` of component `c` of `eid` go into the packet being built, and clears them. */
  take(eid: number, c: number, mask: number): void {
    this.pending[c][eid] &= ~mask;
    const r = this.open;
    if (r.count === r.eids.length) {
      const n = r.count * 2;
      r.eids = grown(r.eids, n);
      r.comps = grown(r.comps, n);
      r.masks = grown(r.masks, n);
      r.gens = grown(r.gens, n);
    }
    this.inflight[eid]++;
    r.eids[r.count] = eid;
    r.comps[r.count] = c;
    r.masks[r.count] = mask;
    r.gens[r.count] = this.gen[c][eid];
    r.count++;
  }

  /** Gives back everything taken since the last commit (the message was not sent after all). */
  untake(): void {
    const r = this.open;
    for (let i = 0; i < r.count; i++) {
      this.inflight[r.eids[i]]--;
      this.mark(r.eids[i], r.comps[i], r.masks[i]);
    }
    r.count = 0;
  }

  /** Files the taken fields under packet `seq`, so an ack frees them and a loss re-marks them. */
  commit(seq: number): void {
    const slot = seq % SENT_RECORD_SLOTS;
    const old = this.records[slot];
    // An unresolved record in this slot means the ring wrapped; treat its content as lost to stay correct.
    if (old !== null) {
      this.settle(old);
      this.resend(old, null);
      this.records[slot] = null;
      this.recycle(old);
    }
    const r = this.open;
    if (r.count === 0) return;
    r.seq = seq;
    r.tick = this.sendTick;
    this.records[slot] = r;
    this.open = this.pool.pop() ?? createRecord();
  }

  private recycle(r: SentRecord): void {
    r.seq = -1;
    r.count = 0;
    this.pool.push(r);
  }

  /** Packet `seq` arrived: its fields are delivered. */
  acked(seq: number): void {
    const slot = seq % SENT_RECORD_SLOTS;
    const r = this.records[slot];
    if (r === null || r.seq !== seq) return;
    this.settle(r);
    const b = this.baselines;
    if (b !== null) {
      // Only fields of a component not forgotten since: a re-added component starts without a baseline.
      for (let i = 0; i < r.count; i++)
        if (r.gens[i] === this.gen[r.comps[i]][r.eids[i]]) b.acked(r.eids[i], r.comps[i], r.tick);
    }
    this.records[slot] = null;
    this.recycle(r);
  }

  /** Packet `seq` was lost: its fields become pending again (sent with their latest value). */
  lost(seq: number, tracked: Uint8Array | Uint32Array | null): void {
    const slot = seq % SENT_RECORD_SLOTS;
    const r = this.records[slot];
    if (r === null || r.seq !== seq) return;
    this.settle(r);
    this.records[slot] = null;
    this.resend(r, tracked);
    this.recycle(r);
  }

  private settle(r: SentRecord): void {
    for (let i = 0; i < r.count; i++) if (this.inflight[r.eids[i]] > 0) this.inflight[r.eids[i]]--;
  }

  /** True when nothing of `eid` is pending or in flight: the receiver holds its latest value. */
  isSettled(eid: number): boolean {
    return eid >= this.capacity || (this.inflight[eid] === 0 && !this.hasPending(eid));
  }

  private resend(r: SentRecord, tracked: Uint8Array | Uint32Array | null): void {
    for (let i = 0; i < r.count; i++) {
      const eid = r.eids[i];
      const c = r.comps[i];
      // Never fields of a component removed (or removed and re-added) since: they would carry cleared values.
      if (r.gens[i] !== this.gen[c][eid]) continue;
      if (tracked === null || (eid < tracked.length && tracked[eid] !== 0)) this.mark(eid, c, r.masks[i]);
    }
  }

  /** Forgets every pending field and record (the receiver is about to get a full snapshot). */
  reset(): void {
    for (let c = 0; c < this.componentCount; c++) this.pending[c].fill(0);
    this.inDirty.fill(0);
    this.inflight.fill(0);
    this.dirtyCount = 0;
    for (let i = 0; i < SENT_RECORD_SLOTS; i++) {
      const r = this.records[i];
      if (r === null) continue;
      this.records[i] = null;
      this.recycle(r);
    }
    this.open.count = 0;
    this.baselines?.reset();
  }
}
