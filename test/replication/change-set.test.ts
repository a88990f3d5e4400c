/**
 * The tick's shared change set: its bitmap (what each client's known list is looked up in) says exactly what
 * `has` says, tick after tick, as entities change, the tables grow, and a new tick clears the last one's bits.
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/random.ts';
import { ChangeSet } from '../../src/replication/change-set.ts';

describe('change set', () => {
  it('its bitmap equals the stamps every tick, and begin clears the previous tick', () => {
    const rnd = createRandom(4);
    const set = new ChangeSet(2);
    let checked = 0;
    for (let tick = 0; tick < 200; tick++) {
      set.begin();
      // The tables grow over the run (ids up to ~5,000).
      const top = 64 + tick * 25;
      const want = new Set<number>();
      for (let i = 0, n = rnd.int(80); i < n; i++) {
        const eid = 1 + rnd.int(top);
        set.add(eid, rnd.int(2), 1 + rnd.int(7));
        want.add(eid);
      }
      const wrong: number[] = [];
      for (let eid = 0; eid < set.bits.length * 32; eid++) {
        const bit = (set.bits[eid >>> 5] & (1 << (eid & 31))) !== 0;
        if (bit !== want.has(eid) || set.has(eid) !== want.has(eid)) wrong.push(eid);
        checked++;
      }
      expect(wrong, `tick ${tick}`).toEqual([]);
      expect(set.count).toBe(want.size);
    }
    expect(checked).toBeGreaterThan(200_000);
  });
});
