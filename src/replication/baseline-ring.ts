/**
 * A bounded history of one component's wire values per entity, by tick: values of recent ticks at which a value
 * was received (client) or sent (server), so a residual can be decoded or encoded against any of them while it is
 * at most `BASELINE_TICKS - 1` ticks old. Each entity that has history holds one row of `slots` slots (slot = tick
 * mod the slots, tagged with its tick, so a slot of an older tick never answers for a newer one). A client keeps
 * `BASELINE_TICKS` slots, the server `SERVER_BASELINE_SLOTS` per client (half the memory: an entity sent every tick
 * keeps its last 16 ticks, one sent now and then values up to the window's end unless a later send took their slot).
 * Rows come from a fixed pool of `maxRows`: an entity past it simply has no history (counted in `refused`), and
 * its values go absolute.
 *
 * Why the client holds every value the server names (one the client acked): the server sends in tick order, so a
 * slot it holds for tick T was taken by no later send. The client's slots change only on receipts of those sends,
 * a value never replaces a newer one in its slot (a late packet is not kept), and its slot count is a multiple of
 * the server's: a receipt that took T's slot on the client (T + 32k) would have taken it on the server too. So
 * while the server holds T, the client does, unless a value sent at least 16 ticks after the Delta naming T
 * overtook it on the way (the reordering margin; it then drops that late component and counts it).
 * Memory: (3 + fields) x 4 bytes per slot (its tick, mask, owner's word, values): 448 B per pose entity on the
 * server, 896 B on the client.
 */
import { capacityFor, grown } from '../codec/grow-array.ts';

/** The window of ages: the oldest baseline a residual may name is `BASELINE_TICKS - 1` ticks back. */
export const BASELINE_TICKS = 32;

/**
 * Slots per entity the server keeps for each client (a divisor of `BASELINE_TICKS`, the client's). 16 keep an
 * every-tick stream's baseline up to 7 ticks old together with its prediction's second value (115 ms of round trip
 * at 60 Hz): as many bytes as 32 slots on the room bench at half the memory; 8 slots cost ~7 % more bytes there.
 */
export const SERVER_BASELINE_SLOTS = 16;

/** Words of a slot before its values: the tick (`EMPTY` when none), the fields held, the owner's word. */
const SLOT_HEAD = 3;
const TICK = -3;
const MASK = -2;
const OWNER = -1;
/** Tick word of an empty slot. */
const EMPTY = 0xffffffff;
/** The owner's word: the depth in its low 8 bits, the mark in the bit above. */
const DEPTH_BITS = 0xff;
const MARK_BIT = 0x100;

/**
 * Per-entity tick history of one component's wire values, in a fixed number of rows. One slot is one run of
 * words in one array (its tick, its fields mask, the owner's word, then the values), so finding a baseline and
 * recording a send touch one cache line each. Values are wire values of quantized fields and quaternions of at
 * most 32 bits (residual-codec.ts's `residualLayout`): unsigned 32-bit words hold them exactly.
 */
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
  /** Words per slot. */
  private readonly stride: number;
  /**
   * The slots, `stride` words each, row after row (`slots` slots a row): a slot's values start at the
   * offset `find` and `slotOf` give, `values[at + f]`; its head words sit just before them.
   */
  values: Uint32Array = new Uint32Array(0);
  /** The last tick word `slotBeside` read (kept so the read is not optimized away). */
  touched = 0;

  /** Slots per row: the values kept per entity, by tick modulo it. */
  readonly slots: number;

  /**
   * A ring for a component of `fieldCount` fields, holding history for at most `maxRows` entities in `slots` slots
   * each (`BASELINE_TICKS`, the client's; the server's `SERVER_BASELINE_SLOTS` divides it).
   */
  constructor(fieldCount: number, maxRows: number, slots = BASELINE_TICKS) {
    if (!(Number.isInteger(slots) && slots >= 1 && BASELINE_TICKS % slots === 0))
      throw new RangeError(`slots must divide ${BASELINE_TICKS}, got ${slots}`);
    this.fieldCount = fieldCount;
    this.maxRows = maxRows;
    this.stride = SLOT_HEAD + fieldCount;
    this.slots = slots;
  }

  /** True when `eid` holds a row of history (else nothing of it can serve as a baseline). */
  hasRow(eid: number): boolean {
    return eid < this.rowOf.length && this.rowOf[eid] !== 0;
  }

  /** Entities that hold history now. */
  get rows(): number {
    return this.rowsUsed - this.free.length;
  }

  private rowFor(eid: number): number {
    if (eid < this.rowOf.length && this.rowOf[eid] !== 0) return this.rowOf[eid] - 1;
    let row = this.free.pop();
    const rowWords = this.slots * this.stride;
    if (row === undefined) {
      if (this.rowsUsed >= this.maxRows) {
        this.refused++;
        return -1;
      }
      row = this.rowsUsed++;
      const words = capacityFor(this.values.length / rowWords, row) * rowWords;
      if (words > this.values.length) this.values = grown(this.values, words);
    }
    const data = this.values;
    for (let w = row * rowWords; w < (row + 1) * rowWords; w += this.stride) data[w] = EMPTY;
    if (eid >= this.rowOf.length) this.rowOf = grown(this.rowOf, capacityFor(this.rowOf.length, eid));
    this.rowOf[eid] = row + 1;
    return row;
  }

  /**
   * Offset of the values of `eid`'s slot for `tick` (its row taken from the pool when it has none), or -1 when
   * every row is taken (counted in `refused`) or the slot holds a newer tick (a late value: not kept). The slot
   * may still hold an older tick: `store` retags it.
   */
  slotOf(eid: number, tick: number): number {
    const row = this.rowFor(eid);
    if (row < 0) return -1;
    const at = (row * this.slots + (tick % this.slots)) * this.stride + SLOT_HEAD;
    const held = this.values[at + TICK];
    return held !== EMPTY && held > tick ? -1 : at;
  }

  /**
   * Offset of the slot for tick `now` in the row of the slot at `at` (which holds tick `tick`): where a send of
   * that entity at `now` goes. Its tick word is read too, so the line is in cache when the send is recorded.
   */
  slotBeside(at: number, tick: number, now: number): number {
    const next = at + ((now % this.slots) - (tick % this.slots)) * this.stride;
    this.touched = this.values[next + TICK];
    return next;
  }

  /**
   * Retags the slot at `at` for `tick` unless it holds that tick already (then returns true). A retagged slot
   * holds no fields, or, with `baseAt` >= 0 (a slot of the row: the baseline the value was coded against), the
   * fields of the baseline outside `mask`, so it holds a whole value both sides agree on. The baseline's own slot
   * is the one retagged when its tick is `slots` older: its fields outside `mask` then stay where they are.
   */
  private open(at: number, tick: number, mask: number, baseAt: number): boolean {
    const data = this.values;
    if (data[at + TICK] === tick) return true;
    let rest = 0;
    if (baseAt >= 0) {
      rest = data[baseAt + MASK] & ~mask;
      if (baseAt !== at)
        for (let f = 0; f < this.fieldCount; f++) if ((rest & (1 << f)) !== 0) data[at + f] = data[baseAt + f];
    }
    data[at + TICK] = tick;
    data[at + OWNER] = 0;
    data[at + MASK] = rest;
    return false;
  }

  /**
   * Stores fields `mask` of `values[vOff + f]` in the slot at `at` (from `slotOf`) as the value of `tick`,
   * adding to what the slot holds of that same tick (else filling the rest from `baseAt`, see `record`).
   * Returns true when the slot held a value of `tick` already.
   */
  store(at: number, tick: number, mask: number, values: ArrayLike<number>, vOff: number, baseAt = -1): boolean {
    const again = this.open(at, tick, mask, baseAt);
    const data = this.values;
    data[at + MASK] |= mask;
    for (let f = 0; f < this.fieldCount; f++) if ((mask & (1 << f)) !== 0) data[at + f] = values[vOff + f];
    return again;
  }

  /** `store` with the values of entity `eid` read from columns (`wires[f][eid]`). */
  storeFrom(at: number, tick: number, mask: number, wires: readonly Float64Array[], eid: number, baseAt = -1): boolean {
    const again = this.open(at, tick, mask, baseAt);
    const data = this.values;
    data[at + MASK] |= mask;
    for (let f = 0; f < this.fieldCount; f++) if ((mask & (1 << f)) !== 0) data[at + f] = wires[f][eid];
    return again;
  }

  /** The fields the slot at `at` holds (a mask): the other words of the slot are stale, not part of its value. */
  fieldsAt(at: number): number {
    return this.values[at + MASK];
  }

  /** The owner's number of the slot at `at` (the server: the residual chain depth of that value), 0 .. 255. */
  depthAt(at: number): number {
    return this.values[at + OWNER] & DEPTH_BITS;
  }

  /** Sets the owner's number of the slot at `at` (0 .. 255). */
  setDepth(at: number, depth: number): void {
    this.values[at + OWNER] = (this.values[at + OWNER] & MARK_BIT) | (depth & DEPTH_BITS);
  }

  /** The owner's flag of the slot at `at` (the server: the client acked that value); cleared by a retag. */
  markedAt(at: number): boolean {
    return (this.values[at + OWNER] & MARK_BIT) !== 0;
  }

  /** Sets the owner's flag of the slot at `at`. */
  setMark(at: number): void {
    this.values[at + OWNER] |= MARK_BIT;
  }

  /**
   * Records fields `mask` of `values[vOff + f]` as the value of `eid` at `tick` (a later record of the same tick
   * adds its fields). With `baseAt` >= 0 (the offset of another of this entity's slots, found by `find`: the
   * baseline the value was coded against) the fields outside `mask` that the baseline holds are copied from it,
   * so the slot holds a whole value both sides agree on. Returns false when no row was free.
   */
  record(eid: number, tick: number, mask: number, values: ArrayLike<number>, vOff: number, baseAt = -1): boolean {
    const at = this.slotOf(eid, tick);
    if (at < 0) return false;
    this.store(at, tick, mask, values, vOff, baseAt);
    return true;
  }

  /**
   * Offset into `values` of the value of `eid` at `tick` when it holds every field of `mask` and is at most
   * `BASELINE_TICKS - 1` ticks older than `now`; -1 otherwise.
   */
  find(eid: number, tick: number, mask: number, now: number): number {
    if (!(tick >= 0 && tick <= now && now - tick < BASELINE_TICKS)) return -1;
    if (eid >= this.rowOf.length || this.rowOf[eid] === 0) return -1;
    const at = ((this.rowOf[eid] - 1) * this.slots + (tick % this.slots)) * this.stride + SLOT_HEAD;
    const data = this.values;
    if (data[at + TICK] !== tick || (mask & ~data[at + MASK]) !== 0) return -1;
    return at;
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
