/**
 * A bounded history of one component's wire values per entity, by tick: the last `BASELINE_TICKS` ticks at
 * which a value was received (client) or sent (server), so a residual can be decoded or encoded against any
 * of them. Each entity that has history holds one row of `BASELINE_TICKS` slots (slot = tick mod the slots,
 * tagged with its tick, so a slot of an older tick never answers for a newer one). Rows come from a fixed pool
 * of `maxRows`: an entity past it simply has no history (counted in `refused`), and its values go absolute.
 */
import { capacityFor, grown } from '../codec/grow-array.ts';

/** Ticks of history per entity: the oldest baseline a residual may name is this many ticks back. */
export const BASELINE_TICKS = 32;

/** Per-entity tick history of one component's wire values, in a fixed number of rows. */
export class BaselineRing {
  /** Fields of the component. */
  readonly fieldCount: number;
  /** Most entities that may hold history at once. */
  readonly maxRows: number;
  /** Entities that asked for a row when every row was taken. */
  refused = 0;
  /** rowOf[eid]: row + 1, or 0 when the entity has no history. */
  private rowOf: Int32Array = new Int32Array(64);
  /** Rows given back, reused before new ones. */
  private readonly free: number[] = [];
  private rowsUsed = 0;
  /** ticks[row * BASELINE_TICKS + slot]: tick of the value in the slot, -1 when empty. */
  private ticks: Int32Array = new Int32Array(0);
  /** masks[...]: the fields the slot holds. */
  private masks: Uint32Array = new Uint32Array(0);
  /** values[(row * BASELINE_TICKS + slot) * fieldCount + f]. */
  values: Float64Array = new Float64Array(0);
  /** depth[row * BASELINE_TICKS + slot]: a number the owner keeps per value (the server: its residual chain). */
  depth: Uint8Array = new Uint8Array(0);
  /** mark[row * BASELINE_TICKS + slot]: a flag the owner keeps per value (the server: the client acked it). */
  mark: Uint8Array = new Uint8Array(0);

  /** A ring for a component of `fieldCount` fields, holding history for at most `maxRows` entities. */
  constructor(fieldCount: number, maxRows: number) {
    this.fieldCount = fieldCount;
    this.maxRows = maxRows;
  }

  /** Entities that hold history now. */
  get rows(): number {
    return this.rowsUsed - this.free.length;
  }

  private rowFor(eid: number): number {
    if (eid < this.rowOf.length && this.rowOf[eid] !== 0) return this.rowOf[eid] - 1;
    let row = this.free.pop();
    if (row === undefined) {
      if (this.rowsUsed >= this.maxRows) {
        this.refused++;
        return -1;
      }
      row = this.rowsUsed++;
      const slots = capacityFor(this.ticks.length / BASELINE_TICKS, row) * BASELINE_TICKS;
      if (slots > this.ticks.length) {
        const old = this.ticks.length;
        this.ticks = grown(this.ticks, slots);
        this.ticks.fill(-1, old);
        this.masks = grown(this.masks, slots);
        this.depth = grown(this.depth, slots);
        this.mark = grown(this.mark, slots);
        this.values = grown(this.values, slots * this.fieldCount);
      }
    }
    this.ticks.fill(-1, row * BASELINE_TICKS, (row + 1) * BASELINE_TICKS);
    if (eid >= this.rowOf.length) this.rowOf = grown(this.rowOf, capacityFor(this.rowOf.length, eid));
    this.rowOf[eid] = row + 1;
    return row;
  }

  /**
   * Records fields `mask` of `values[vOff + f]` as the value of `eid` at `tick` (a later record of the same tick
   * adds its fields). With `baseAt` >= 0 (the offset of another of this entity's slots, found by `find`: the
   * baseline the value was coded against) the fields outside `mask` that the baseline holds are copied from it,
   * so the slot holds a whole value both sides agree on. Returns false when no row was free.
   */
  record(eid: number, tick: number, mask: number, values: ArrayLike<number>, vOff: number, baseAt = -1): boolean {
    const row = this.rowFor(eid);
    if (row < 0) return false;
    const slot = row * BASELINE_TICKS + (tick % BASELINE_TICKS);
    const at = slot * this.fieldCount;
    if (this.ticks[slot] !== tick) {
      this.ticks[slot] = tick;
      this.masks[slot] = 0;
      this.mark[slot] = 0;
      if (baseAt >= 0 && baseAt !== at) {
        const rest = this.masks[baseAt / this.fieldCount] & ~mask;
        for (let f = 0; f < this.fieldCount; f++)
          if ((rest & (1 << f)) !== 0) this.values[at + f] = this.values[baseAt + f];
        this.masks[slot] = rest;
      }
    }
    this.masks[slot] |= mask;
    for (let f = 0; f < this.fieldCount; f++) if ((mask & (1 << f)) !== 0) this.values[at + f] = values[vOff + f];
    return true;
  }

  /**
   * Offset into `values` of the value of `eid` at `tick` when it holds every field of `mask` and is at most
   * `BASELINE_TICKS - 1` ticks older than `now`; -1 otherwise.
   */
  find(eid: number, tick: number, mask: number, now: number): number {
    if (!(tick >= 0 && tick <= now && now - tick < BASELINE_TICKS)) return -1;
    if (eid >= this.rowOf.length || this.rowOf[eid] === 0) return -1;
    const slot = (this.rowOf[eid] - 1) * BASELINE_TICKS + (tick % BASELINE_TICKS);
    if (this.ticks[slot] !== tick || (mask & ~this.masks[slot]) !== 0) return -1;
    return slot * this.fieldCount;
  }

  /** Drops the history of `eid` (despawned, component removed, out of interest) and frees its row. */
  forget(eid: number): void {
    if (eid >= this.rowOf.length || this.rowOf[eid] === 0) return;
    this.free.push(this.rowOf[eid] - 1);
    this.rowOf[eid] = 0;
  }

  /** Drops every entity's history (a full snapshot replaces the state). */
  clear(): void {
    this.rowOf.fill(0);
    this.free.length = 0;
    this.rowsUsed = 0;
  }
}
