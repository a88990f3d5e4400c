/**
 * Priority and bandwidth budget of one client's sends. Each entity waiting to be sent grows an accumulator by its
 * priority every send tick, the waiting entities go out highest accumulator first, and an entity sent starts again
 * from zero, so a far entity is delayed, never starved. The per-client cap is a token bucket in bytes.
 * All of it costs O(entities waiting) per tick: the accumulators that are non-zero are kept in a list (no walk of
 * the client's whole interest), and the order is a numeric sort of packed keys (no comparator closure).
 */
import { capacityFor, grown } from '../codec/grow-array.ts';
import type { DeliveryState } from './delivery-state.ts';
import { type EntityRegistry, SERVER_OWNER } from './entity-registry.ts';
import type { GridInterestOptions } from './interest.ts';
import { FieldKind } from '../protocol/field-schema.ts';
import type { RegisteredComponent } from '../register.ts';

/** Priority of an entity for a client; higher is sent sooner. */
export type PriorityFn = (clientId: number, eid: number, distance: number) => number;

/** Default per-client bandwidth cap: 256 kbps, Glenn Fiedler's budget for a 900-object scene at 60 Hz. */
export const DEFAULT_BANDWIDTH_KBPS = 256;

/** Bandwidth tokens saved up at most: a quarter second of the cap, so an idle client cannot burst for long. */
const MAX_TOKEN_SECONDS = 0.25;

/** Sort keys hold the position in the list in their low bits: 2^21 waiting entities per client at most. */
const INDEX_BITS = 2 ** 21;

/** Bits a varuint of a 32-bit number takes at most (five 8-bit groups): entity references. */
const MAX_VARUINT32_BITS = 40;

/** Bits of an entity's id gap at most: 40 as a varuint, 65 as an order-0 Exp-Golomb code of a 32-bit gap. */
const MAX_ID_GAP_BITS = 72;

/**
 * Bits of an unreliable Delta's header at most: tag, tick, dependsOn and entity count as writeDelta budgets them
 * (16 + 40 + 16 + 24), with 64 bits to spare for header fields a Delta variant may add.
 */
export const MAX_DELTA_HEADER_BITS = 16 + MAX_VARUINT32_BITS + 16 + 24 + 64;

/**
 * Upper bound of the bits one entity takes in an unreliable Delta of `comps` (not a CoarseDelta): its id gap,
 * the presence bits, and for each component it may carry the all-fields bit and field mask, a mode bit (acked
 * baselines: a residual is written only when smaller than the absolute values) and every field at its widest.
 * Components with a short string never travel in the unreliable Delta. Used to see that every waiting entity
 * fits the budget, when their order does not matter (see `SendPriority.fitsAll`).
 */
export function maxDeltaEntityBits(comps: readonly RegisteredComponent[]): number {
  let bits = MAX_ID_GAP_BITS + comps.length;
  for (const comp of comps) {
    if (comp.reliable) continue;
    const n = comp.fields.length;
    if (n === 0) continue;
    bits += (n > 1 ? 1 + n : 0) + 1;
    for (const f of comp.fields) bits += f.kind === FieldKind.entity ? MAX_VARUINT32_BITS : f.bits;
  }
  return bits;
}

/** Default priority: 1, plus up to 4 for closeness (within a few cells), doubled for entities a client owns. */
export function defaultPriority(owner: number, distance: number, cellSize: number): number {
  const closeness = Number.isFinite(distance) ? (4 * cellSize) / (cellSize + distance) : 0;
  return (1 + closeness) * (owner !== SERVER_OWNER ? 2 : 1);
}

/** One client's priority accumulators and bandwidth tokens. */
export class SendPriority {
  /** Accumulator per entity: grows while the entity waits, reset when sent. */
  acc: Float32Array;
  /** Bandwidth tokens in bytes (may go negative after a burst of reliable data). */
  tokens = 0;
  lastSendAtMs = -1;
  /** Entities whose accumulator may be non-zero, each once. */
  private held = new Int32Array(16);
  private heldCount = 0;
  private isHeld: Uint8Array;
  private keys = new Float64Array(16);
  private readonly bits = new Float32Array(1);
  private readonly bitsU = new Uint32Array(this.bits.buffer);

  constructor(capacity: number) {
    this.acc = new Float32Array(capacity);
    this.isHeld = new Uint8Array(capacity);
  }

  /** Grows the per-entity arrays so `eid` fits. */
  ensure(eid: number): void {
    if (eid < this.acc.length) return;
    const cap = capacityFor(this.acc.length, eid);
    this.acc = grown(this.acc, cap);
    this.isHeld = grown(this.isHeld, cap);
  }

  /** Adds the tokens earned since the last send (at `bytesPerSec`) and returns the whole tokens available. */
  refill(nowMs: number, bytesPerSec: number): number {
    const dt = this.lastSendAtMs < 0 ? 0 : (nowMs - this.lastSendAtMs) / 1000;
    this.tokens = Math.min(bytesPerSec * MAX_TOKEN_SECONDS, this.tokens + dt * bytesPerSec);
    return Math.floor(this.tokens);
  }

  /** Adds `priority` to the accumulator of waiting entity `eid`. */
  add(eid: number, priority: number): void {
    if (eid >= this.acc.length) this.ensure(eid);
    this.acc[eid] += priority;
    if (this.isHeld[eid] !== 0) return;
    this.isHeld[eid] = 1;
    if (this.heldCount === this.held.length) this.held = grown(this.held, this.heldCount * 2);
    this.held[this.heldCount++] = eid;
  }

  /**
   * Grows the accumulator of every entity waiting in `d` by its priority for `clientId` (`fn`, or the default
   * from its distance to `view` and its owner), then orders the waiting list by it, highest first.
   */
  prioritize(
    d: DeliveryState,
    clientId: number,
    reg: EntityRegistry,
    grid: GridInterestOptions | null,
    view: Float64Array | null,
    fn: PriorityFn | null,
  ): void {
    if (d.dirtyCount < 2) return;
    const cell = grid ? grid.cellSize : 1;
    const has = grid ? reg.has[grid.component] : null;
    for (let i = 0; i < d.dirtyCount; i++) {
      const eid = d.dirty[i];
      let dist = Infinity;
      if (grid && view && has![eid]) {
        const dx = grid.x[eid] - view[0];
        const dy = grid.y[eid] - view[1];
        const dz = grid.z[eid] - view[2];
        dist = Math.sqrt(dx * dx + dy * dy + dz * dz);
      }
      this.add(eid, fn !== null ? fn(clientId, eid, dist) : defaultPriority(reg.owner[eid], dist, cell));
    }
    this.sort(d.dirty, d.dirtyCount);
  }

  /**
   * Orders `list[0..count)` by accumulator, highest first; equal accumulators keep their order (as a stable
   * sort by comparator would). Keys pack the order-preserving bits of the float32 accumulator above the position.
   */
  sort(list: Int32Array, count: number): void {
    if (count < 2) return;
    const acc = this.acc;
    // Already highest first (common when nothing waits long: equal accumulators): the stable sort is the identity.
    let ordered = true;
    for (let i = 1; i < count && ordered; i++) {
      const a = acc[list[i]];
      const b = acc[list[i - 1]];
      // NaN, or +0 after -0, takes the sort (its keys order them by bits).
      ordered = a < b || (a === b && (a !== 0 || 1 / a === 1 / b));
    }
    if (ordered) return;
    if (count > INDEX_BITS) {
      list.subarray(0, count).sort((a, b) => acc[b] - acc[a]);
      return;
    }
    if (this.keys.length < count) this.keys = new Float64Array(capacityFor(this.keys.length, count - 1));
    const keys = this.keys;
    const f = this.bits;
    const u = this.bitsU;
    for (let i = 0; i < count; i++) {
      f[0] = acc[list[i]];
      const b = u[0];
      // Float bits as an unsigned order (negative floats reversed), then inverted so the highest sorts first.
      const ordered = (b & 0x80000000) !== 0 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
      keys[i] = (0xffffffff - ordered) * INDEX_BITS + i;
    }
    const sorted = keys.subarray(0, count).sort();
    // Positions are read back from the keys; a copy of the entities is needed as the list is rewritten in place.
    if (this.held.length < this.heldCount + count) this.held = grown(this.held, this.heldCount + count);
    const copy = this.held.subarray(this.heldCount, this.heldCount + count);
    copy.set(list.subarray(0, count));
    for (let i = 0; i < count; i++) list[i] = copy[sorted[i] % INDEX_BITS];
  }

  /**
   * True when all `waiting` entities fit `budgetBytes` of unreliable Delta even at their largest
   * (`entityBits` from `maxDeltaEntityBits`): then every one of them is sent this tick and the priority pass
   * would change nothing (each accumulator it grows is zeroed by `resetSent`), so it can be skipped.
   */
  static fitsAll(waiting: number, entityBits: number, budgetBytes: number): boolean {
    return waiting * entityBits + MAX_DELTA_HEADER_BITS <= budgetBytes * 8;
  }

  /** Zeroes the accumulators of the entities with nothing pending in `d` any more: they were sent. */
  resetSent(d: DeliveryState): void {
    const acc = this.acc;
    let out = 0;
    for (let i = 0; i < this.heldCount; i++) {
      const eid = this.held[i];
      if (acc[eid] === 0 || !d.hasPending(eid)) {
        acc[eid] = 0;
        this.isHeld[eid] = 0;
      } else this.held[out++] = eid;
    }
    this.heldCount = out;
  }

  /** Forgets the accumulator of `eid` (it entered the client's interest anew). */
  clear(eid: number): void {
    if (eid < this.acc.length) this.acc[eid] = 0;
  }
}
