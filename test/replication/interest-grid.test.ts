/** The shared interest grid: every query equals a brute-force distance check, whatever the world and the viewer. */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/index.ts';
import { EntityRegistry } from '../../src/replication/entity-registry.ts';
import { InterestGrid } from '../../src/replication/interest-grid.ts';
import { SendPriority } from '../../src/replication/send-priority.ts';

interface World {
  reg: EntityRegistry;
  x: Float32Array;
  y: Float32Array;
  z: Float32Array;
  eids: number[];
}

/** `n` entities over a `size`-metre cube centred on `centre`; some without a position, a few at NaN or far away. */
function randomWorld(seed: number, n: number, size: number, centre: number): World {
  const rnd = createRandom(seed);
  const cap = n + 8;
  const reg = new EntityRegistry(1, cap);
  const x = new Float32Array(cap);
  const y = new Float32Array(cap);
  const z = new Float32Array(cap);
  const eids: number[] = [];
  for (let eid = 1; eid <= n; eid++) {
    reg.add(eid);
    const r = rnd.next();
    reg.has[0][eid] = r < 0.05 ? 0 : 1;
    x[eid] = centre + rnd.range(-size / 2, size / 2);
    y[eid] = rnd.range(-size / 8, size / 8);
    z[eid] = centre + rnd.range(-size / 2, size / 2);
    if (r > 0.99) x[eid] = NaN;
    else if (r > 0.98) z[eid] = 1e9;
    eids.push(eid);
  }
  return { reg, x, y, z, eids };
}

function brute(w: World, view: number[], radius: number): number[] {
  const out: number[] = [];
  for (const eid of w.eids) {
    if (!w.reg.has[0][eid]) continue;
    const d2 = (w.x[eid] - view[0]) ** 2 + (w.y[eid] - view[1]) ** 2 + (w.z[eid] - view[2]) ** 2;
    if (d2 <= radius * radius) out.push(eid);
  }
  return out.sort((a, b) => a - b);
}

function queried(grid: InterestGrid, view: number[]): number[] {
  const n = grid.query(view[0], view[1], view[2]);
  return [...grid.result.subarray(0, n)].sort((a, b) => a - b);
}

describe('interest grid', () => {
  const cases = [
    { seed: 1, n: 3000, size: 200, centre: 100, cellSize: 10, radius: 20 },
    { seed: 2, n: 2000, size: 60, centre: -30, cellSize: 3, radius: 7.5 },
    { seed: 3, n: 500, size: 40, centre: 0, cellSize: 0.5, radius: 30 }, // more cells than entities: linear walk
    { seed: 4, n: 1500, size: 100, centre: 0, cellSize: 25, radius: 5 },
  ];
  for (const c of cases) {
    it(`equals a brute-force distance check for moving viewers (cell ${c.cellSize} m, radius ${c.radius} m)`, () => {
      const w = randomWorld(c.seed, c.n, c.size, c.centre);
      const grid = new InterestGrid({ cellSize: c.cellSize, radius: c.radius, component: 0, x: w.x, y: w.y, z: w.z });
      const rnd = createRandom(c.seed + 100);
      const viewers = Array.from({ length: 12 }, () => [
        c.centre + rnd.range(-c.size / 2, c.size / 2),
        rnd.range(-2, 2),
        c.centre + rnd.range(-c.size / 2, c.size / 2),
      ]);
      let found = 0;
      for (let tick = 0; tick < 20; tick++) {
        // Entities drift, a few jump; the grid is rebuilt as at an interest tick.
        for (let i = 0; i < c.n / 10; i++) {
          const eid = w.eids[rnd.int(w.eids.length)];
          if (Number.isFinite(w.x[eid])) w.x[eid] += rnd.range(-c.cellSize, c.cellSize);
        }
        grid.rebuild(w.reg);
        for (const v of viewers) {
          v[0] += rnd.range(-1, 1);
          v[2] += rnd.range(-1, 1);
          if (rnd.next() < 0.05) v[0] = c.centre + rnd.range(-c.size / 2, c.size / 2); // a jump
          const expected = brute(w, v, c.radius);
          expect(queried(grid, v)).toEqual(expected);
          found += expected.length;
        }
      }
      expect(found).toBeGreaterThan(100);
      // Entities without the position component are listed apart (every query's candidates).
      const unplaced = w.eids.filter((e) => !w.reg.has[0][e]).sort((a, b) => a - b);
      expect([...grid.unplaced.subarray(0, grid.unplacedCount)].sort((a, b) => a - b)).toEqual(unplaced);
    });
  }

  it('follows entities that are added and removed between rebuilds', () => {
    const w = randomWorld(5, 400, 50, 0);
    const grid = new InterestGrid({ cellSize: 4, radius: 10, component: 0, x: w.x, y: w.y, z: w.z });
    grid.rebuild(w.reg);
    for (let i = 0; i < 200; i += 2) w.reg.remove(w.eids[i]);
    w.eids = w.eids.filter((_, i) => i % 2 === 1 || i >= 200);
    grid.rebuild(w.reg);
    for (const v of [
      [0, 0, 0],
      [10, 1, -10],
      [-20, 0, 20],
    ])
      expect(queried(grid, v)).toEqual(brute(w, v, 10));
    // A non-finite viewpoint sees nothing (as the distance test says).
    expect(grid.query(NaN, 0, 0)).toBe(0);
  });
});

describe('send priority order', () => {
  it('orders waiting entities as a stable sort by accumulator, highest first, ties kept in order', () => {
    const rnd = createRandom(9);
    for (let round = 0; round < 50; round++) {
      const p = new SendPriority(512);
      const n = 1 + rnd.int(300);
      const list = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        list[i] = 1 + rnd.int(500);
        // Few distinct values (ties), negatives, zeros and fractions.
        const kind = rnd.int(4);
        p.acc[list[i]] = kind === 0 ? rnd.int(5) : kind === 1 ? -rnd.range(0.01, 10) : rnd.range(0, 1000);
      }
      const acc = p.acc;
      const expected = [...list].sort((a, b) => acc[b] - acc[a]);
      p.sort(list, n);
      expect([...list]).toEqual(expected);
    }
  });

  it('keeps a list already in order as it is, and sorts one that is out of order by a single pair', () => {
    const rnd = createRandom(10);
    for (let round = 0; round < 50; round++) {
      const p = new SendPriority(512);
      const n = 2 + rnd.int(300);
      const list = Int32Array.from({ length: n }, (_, i) => i + 1);
      // Non-increasing accumulators with runs of ties (all equal in some rounds).
      let v = 100;
      for (let i = 0; i < n; i++) {
        if (round % 5 !== 0 && rnd.int(3) === 0) v -= rnd.range(0, 2);
        p.acc[list[i]] = v;
      }
      const acc = p.acc;
      const sorted = [...list];
      p.sort(list, n);
      expect([...list]).toEqual(sorted);
      // One pair swapped out of order: the fast path must not take it.
      const i = rnd.int(n - 1);
      if (acc[list[i]] === acc[list[i + 1]]) continue;
      [list[i], list[i + 1]] = [list[i + 1], list[i]];
      p.sort(list, n);
      expect([...list]).toEqual(sorted);
    }
  });
});
