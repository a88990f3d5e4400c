/**
 * Change marks (change-marks.ts): taken ascending, only entities with the component, each once however often
 * marked, whether few (sorted list) or many (flag sweep); bounded by the registry's capacity, the rest ignored and
 * counted (owner writes from the network mark entities too).
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/random.ts';
import { ChangeMarks } from '../../src/replication/change-marks.ts';

describe('change marks', () => {
  it('returns the marked entities with the component, ascending, once, on both the sort and the sweep path', () => {
    const rnd = createRandom(9);
    const capacity = 2048;
    const marks = new ChangeMarks([false, true]);
    const has = new Uint8Array(capacity).map(() => (rnd.next() < 0.7 ? 1 : 0));
    const ids = new Int32Array(capacity);
    for (const count of [1, 5, 60, 127, 128, 129, 500, 2048, 5000]) {
      const expected = new Set<number>();
      for (let i = 0; i < count; i++) {
        const e = rnd.int(capacity);
        expect(marks.mark(1, e, capacity)).toBe(true);
        if (has[e] !== 0) expected.add(e);
      }
      const n = marks.take(1, has, ids);
      expect(Array.from(ids.subarray(0, n)), `${count} marks`).toEqual([...expected].sort((x, y) => x - y));
      expect(marks.take(1, has, ids)).toBe(0); // cleared
    }
  });

  it('holds at most the capacity and ignores ids outside it', () => {
    const marks = new ChangeMarks([true]);
    const capacity = 1000;
    const has = new Uint8Array(capacity).fill(1);
    const ids = new Int32Array(capacity);
    for (let round = 0; round < 3; round++) for (let e = 0; e < capacity; e++) marks.mark(0, e, capacity);
    for (const bad of [-1, capacity, 2 ** 31, 2 ** 40, 0.5, NaN, Infinity])
      expect(marks.mark(0, bad, capacity)).toBe(false);
    expect(marks.counters.marked).toBe(capacity);
    expect(marks.counters.ignored).toBe(7);
    expect(marks.take(0, has, ids)).toBe(capacity);
    // An owner write marks every marked component of its entity, and nothing of the others.
    const two = new ChangeMarks([true, false, true]);
    two.markEntity(7, 64);
    const h = new Uint8Array(64).fill(1);
    expect([two.take(0, h, ids), two.take(1, h, ids), two.take(2, h, ids)]).toEqual([1, 0, 1]);
  });
});
