/**
 * Opt-in change marks for sparse worlds: a component registered with `changes: 'marked'` is not scanned; change
 * detection compares (in wire form, against the shadow) only the entities marked since the last detection, by the
 * application (`markChanged`) or by an owner's accepted write. A mark is a byte flag plus a list entry, so marking
 * twice costs nothing and the list never holds more than the registry's capacity; taking them returns the marked
 * entities that have the component, ascending (sorted when few, swept from the flags when many), and clears them.
 */
import { capacityFor, grown } from '../codec/grow-array.ts';

/** Marks of the entities whose components changed, per component. */
export class ChangeMarks {
  /** Marks recorded, and marks ignored (an entity id the registry does not hold), since creation. */
  readonly counters = { marked: 0, ignored: 0 };
  private readonly flags: Uint8Array[];
  private readonly lists: Int32Array[];
  private readonly counts: Int32Array;
  /** Components detected from marks (registered with `changes: 'marked'`). */
  private readonly marked: readonly number[];

  constructor(markedComponents: readonly boolean[]) {
    this.flags = markedComponents.map(() => new Uint8Array(0));
    this.lists = markedComponents.map(() => new Int32Array(0));
    this.counts = new Int32Array(markedComponents.length);
    this.marked = markedComponents.flatMap((m, c) => (m ? [c] : []));
  }

  /**
   * Marks component `c` of `eid` changed. Ids outside [0, capacity) (the registry's: no replicated entity has one;
   * an entity that starts replicating is sent whole anyway) are ignored and counted. True when recorded.
   */
  mark(c: number, eid: number, capacity: number): boolean {
    if (!(eid >= 0 && eid < capacity) || (eid | 0) !== eid) {
      this.counters.ignored++;
      return false;
    }
    let flags = this.flags[c];
    if (eid >= flags.length) {
      // A multiple of 8, at most the registry's capacity rounded up: the bound of every list below.
      const length = (Math.min(capacityFor(Math.max(64, flags.length), eid), capacity + 7) + 7) & ~7;
      flags = this.flags[c] = grown(flags, length);
      this.lists[c] = grown(this.lists[c], length);
    }
    if (flags[eid] !== 0) return true;
    flags[eid] = 1;
    this.lists[c][this.counts[c]++] = eid;
    this.counters.marked++;
    return true;
  }

  /** Marks every marked-mode component of `eid` (an owner's write was accepted for it). */
  markEntity(eid: number, capacity: number): void {
    for (const c of this.marked) this.mark(c, eid, capacity);
  }

  /** Writes into `ids` the marked entities of `c` with `has[eid] !== 0`, ascending, clears the marks; the count. */
  take(c: number, has: Uint8Array, ids: Int32Array): number {
    const count = this.counts[c];
    if (count === 0) return 0;
    this.counts[c] = 0;
    const flags = this.flags[c];
    let n = 0;
    if (count * 16 > flags.length) {
      // Many marks: one sweep of the flags, eight at a time, is cheaper than a sort.
      const words = new Float64Array(flags.buffer, flags.byteOffset, flags.length >> 3);
      for (let k = 0; k < words.length; k++) {
        if (words[k] === 0) continue;
        for (let e = 8 * k; e < 8 * k + 8; e++) {
          if (flags[e] === 0) continue;
          flags[e] = 0;
          if (e < has.length && has[e] !== 0) ids[n++] = e;
        }
      }
      return n;
    }
    const list = this.lists[c].subarray(0, count);
    list.sort();
    for (let i = 0; i < count; i++) {
      const e = list[i];
      flags[e] = 0;
      if (e < has.length && has[e] !== 0) ids[n++] = e;
    }
    return n;
  }
}
