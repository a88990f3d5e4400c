/**
 * The change set of one detection tick, shared by every client: which entities changed and which fields of each
 * component. Change detection fills it once (O(changed)); each client's view then pulls from it (see
 * client-view.ts), so no work is done per (changed entity x client) and none per client over the whole world.
 * A generation stamp per entity makes clearing it O(1); a bitmap of the changed entities (one bit per entity:
 * 1.25 KB for 10k entities, so it stays in the L1 cache while every client's known list is looked up in it) is
 * cleared word by word in O(changed).
 */
import { capacityFor, grown } from '../codec/grow-array.ts';

/** Entities that changed this tick and their changed-field masks, per component. */
export class ChangeSet {
  readonly componentCount: number;
  /** The changed entities, in the order first seen. */
  list = new Int32Array(64);
  count = 0;
  /** masks[c][eid]: fields of component c of eid that changed (valid while `stamp[eid] === generation`). */
  masks: Uint32Array[];
  /** Generation in which each entity last changed. */
  stamp = new Uint32Array(0);
  generation = 1;
  /** Bit `eid & 31` of word `eid >>> 5` is set when `eid` changed this tick. */
  bits = new Uint32Array(0);

  constructor(componentCount: number) {
    this.componentCount = componentCount;
    this.masks = Array.from({ length: componentCount }, () => new Uint32Array(0));
  }

  /** Empties the set for a new tick. */
  begin(): void {
    for (let i = 0; i < this.count; i++) this.bits[this.list[i] >>> 5] = 0;
    this.count = 0;
    // A wrap after 2^32 ticks would make an entity stamped long ago look fresh: start again from a clean table.
    if (++this.generation === 0xffffffff) {
      this.stamp.fill(0);
      this.generation = 1;
    }
  }

  /** True when `eid` changed this tick. */
  has(eid: number): boolean {
    return eid < this.stamp.length && this.stamp[eid] === this.generation;
  }

  /** Records that fields `mask` (non-zero) of component `c` of `eid` changed this tick. */
  add(eid: number, c: number, mask: number): void {
    if (eid >= this.stamp.length) this.grow(eid);
    if (this.stamp[eid] !== this.generation) {
      this.stamp[eid] = this.generation;
      this.bits[eid >>> 5] |= 1 << (eid & 31);
      for (let k = 0; k < this.componentCount; k++) this.masks[k][eid] = 0;
      if (this.count === this.list.length) this.list = grown(this.list, this.count * 2);
      this.list[this.count++] = eid;
    }
    this.masks[c][eid] |= mask;
  }

  private grow(eid: number): void {
    const cap = capacityFor(Math.max(64, this.stamp.length), eid);
    this.stamp = grown(this.stamp, cap);
    this.bits = grown(this.bits, (cap + 31) >>> 5);
    for (let k = 0; k < this.componentCount; k++) this.masks[k] = grown(this.masks[k], cap);
  }
}
