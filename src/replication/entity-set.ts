import { capacityFor, grown } from '../codec/grow-array.ts';

/** A set of entity ids with O(1) add, remove and membership, and a dense list for iteration. */
export class EntitySet {
  list: Int32Array = new Int32Array(64);
  count = 0;
  private index: Int32Array = new Int32Array(0);

  has(eid: number): boolean {
    return eid < this.index.length && this.index[eid] > 0;
  }

  add(eid: number): void {
    if (eid >= this.index.length) this.index = grown(this.index, capacityFor(Math.max(64, this.index.length), eid));
    if (this.index[eid] > 0) return;
    if (this.count === this.list.length) this.list = grown(this.list, this.list.length * 2);
    this.list[this.count++] = eid;
    this.index[eid] = this.count; // position + 1, so 0 means absent
  }

  delete(eid: number): void {
    if (!this.has(eid)) return;
    const i = this.index[eid] - 1;
    const last = this.list[--this.count];
    this.list[i] = last;
    this.index[last] = i + 1;
    this.index[eid] = 0;
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) this.index[this.list[i]] = 0;
    this.count = 0;
  }
}
