/**
 * The server's side of deltas against acked baselines, for one client and one component: what it sent the
 * client at each recent tick (a `BaselineRing`), and per entity the newest tick whose packet the client acked.
 * The baseline of an entity is the value sent at that acked tick, while it is still inside the client's history
 * window; a residual names that tick, and the client decodes against the value it holds for it. Memory is
 * bounded by `maxEntities` (per client and component): an entity past it is always sent absolute.
 */
import { capacityFor, grown } from '../codec/grow-array.ts';
import { BASELINE_TICKS, BaselineRing, SERVER_BASELINE_SLOTS } from './baseline-ring.ts';

/**
 * Longest chain of residuals (each against a value that was itself a residual) before a value goes absolute
 * again: if the client ever failed to hold one link (a delta it dropped after its packet was acked), the chain
 * it cannot decode ends within this many sends of the entity.
 */
export const MAX_RESIDUAL_CHAIN = 30;

/** Acked baselines of one component for one client. */
export class AckedBaselines {
  /** What was sent, by entity and tick. */
  readonly sent: BaselineRing;
  /** acked[eid]: newest tick of a value of eid the client acked, -1 for none. */
  private acked: Int32Array = new Int32Array(64).fill(-1);

  /** Baselines of a component of `fieldCount` fields for at most `maxEntities` entities at once. */
  constructor(fieldCount: number, maxEntities: number) {
    this.sent = new BaselineRing(fieldCount, maxEntities, SERVER_BASELINE_SLOTS);
  }

  /**
   * Notes that fields `mask` of `eid` with `values[vOff + f]` go to the client in a packet of `tick`, coded
   * against the baseline at offset `baseAt` (-1: absolute) and, for a predicted reference, the second value at
   * `predAt` (-1: none). The fields outside `mask` are taken from the baseline, as the client records them.
   */
  recordSent(
    eid: number,
    tick: number,
    mask: number,
    values: ArrayLike<number>,
    vOff: number,
    baseAt = -1,
    predAt = -1,
  ): void {
    const sent = this.sent;
    // One slot lookup per entity and packet: the row of eid, the slot of this tick.
    const slot = sent.slotOf(eid, tick);
    if (slot < 0) return;
    const depth = this.depthFor(baseAt, predAt);
    // A second send of eid in the same tick (two sends per tick) would make the tick name two values: such a
    // tick never serves as a baseline (its chain depth is set past the cap).
    const again = sent.store(slot, tick, mask, values, vOff, baseAt);
    sent.setDepth(slot, again ? 255 : depth);
  }

  /** `recordSent` with the values of `eid` read from the shadow's columns (`wires[f][eid]`). */
  recordSentFrom(
    eid: number,
    tick: number,
    mask: number,
    wires: readonly Float64Array[],
    baseAt = -1,
    predAt = -1,
  ): void {
    const slot = this.sent.slotOf(eid, tick);
    if (slot >= 0) this.recordSentAt(slot, eid, tick, mask, wires, baseAt, predAt);
  }

  /** `recordSentFrom` into the slot at `slot`, `eid`'s for `tick` (from `slotOf` or `slotBeside`). */
  recordSentAt(
    slot: number,
    eid: number,
    tick: number,
    mask: number,
    wires: readonly Float64Array[],
    baseAt: number,
    predAt: number,
  ): void {
    const sent = this.sent;
    if (slot < 0) return;
    const depth = this.depthFor(baseAt, predAt);
    const again = sent.storeFrom(slot, tick, mask, wires, eid, baseAt);
    sent.setDepth(slot, again ? 255 : depth);
  }

  /** Chain depth of a value coded against `baseAt` (and `predAt`): one more than the deeper of them, 0 absolute. */
  private depthFor(baseAt: number, predAt: number): number {
    if (baseAt < 0) return 0;
    const d1 = this.sent.depthAt(baseAt);
    return Math.min(255, 1 + (predAt >= 0 ? Math.max(d1, this.sent.depthAt(predAt)) : d1));
  }

  /** The packet of `tick` that carried `eid` was acked. */
  ackedTick(eid: number, tick: number): void {
    // Nothing of an entity without history can serve as a baseline (refused a row, or forgotten since).
    if (!this.sent.hasRow(eid)) return;
    if (eid >= this.acked.length) {
      const old = this.acked.length;
      this.acked = grown(this.acked, capacityFor(old, eid));
      this.acked.fill(-1, old);
    }
    if (tick > this.acked[eid]) this.acked[eid] = tick;
    const at = this.sent.find(eid, tick, 0, tick);
    if (at >= 0) this.sent.setMark(at);
  }

  /**
   * The baseline for sending fields `mask` of `eid` at tick `now`: its tick in `out[0]` and the offset of its
   * values in `this.sent.values` as the result, or -1 when there is none usable (never acked, older than the
   * client's history window, or lacking one of the fields).
   */
  baseline(eid: number, mask: number, now: number, out: Int32Array): number {
    if (eid >= this.acked.length) return -1;
    const tick = this.acked[eid];
    if (tick < 0 || now - tick >= BASELINE_TICKS) return -1;
    const at = this.sent.find(eid, tick, mask, now);
    if (at < 0 || this.sent.depthAt(at) >= MAX_RESIDUAL_CHAIN) return -1;
    out[0] = tick;
    return at;
  }

  /**
   * Offset of the value of `eid` at `tick` for use as a prediction's second value (fields `mask`): it must be
   * acked by the client, inside its history window at `now` and under the residual chain cap; -1 otherwise.
   */
  second(eid: number, tick: number, mask: number, now: number): number {
    const sent = this.sent;
    const at = sent.find(eid, tick, mask, now);
    return at >= 0 && sent.markedAt(at) && sent.depthAt(at) < MAX_RESIDUAL_CHAIN ? at : -1;
  }

  /** Forgets `eid` (left interest, despawned, component removed): its next value goes absolute. */
  forget(eid: number): void {
    if (eid < this.acked.length) this.acked[eid] = -1;
    this.sent.forget(eid);
  }

  /** Forgets every entity (the client is about to get a full snapshot). */
  clear(): void {
    this.acked.fill(-1);
    this.sent.clear();
  }
}
