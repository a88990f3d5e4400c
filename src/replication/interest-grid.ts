/**
 * The shared spatial index of interest: one uniform grid over every positioned entity, rebuilt once per interest
 * tick by a counting sort into flat typed arrays (no Map, no per-cell arrays, nothing allocated once grown), and
 * queried by every client for the entities within its radius. Cells are hashed into a power-of-two bucket table,
 * so the world has no bounds; each entity keeps its exact cell coordinates, so a query never visits an entity
 * twice even when two of its cells share a bucket. The result of a query is exact: only entities within the
 * radius (inclusive) of the viewpoint, in the order of the buckets walked.
 */
import { grown } from '../codec/grow-array.ts';
import type { NumericArray } from './compiled-field.ts';
import type { EntityRegistry } from './entity-registry.ts';

/** Buckets per placed entity (at least): half-empty tables keep the entities walked per cell near the cell's own. */
const BUCKETS_PER_ENTITY = 2;

/** Smallest bucket table: a handful of entities still hash apart. */
const MIN_BUCKETS = 64;

/** Where the grid reads positions. */
export interface GridSource {
  cellSize: number;
  radius: number;
  /** Index of the registered component holding positions. */
  component: number;
  x: NumericArray;
  y: NumericArray;
  z: NumericArray;
}

/** Bucket of cell (x, y, z) in a table of `mask + 1` buckets. */
function bucketOf(x: number, y: number, z: number, mask: number): number {
  return (Math.imul(x, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(z, 83492791)) & mask;
}

/** Counting-sort grid of the replicated entities that have a position. */
export class InterestGrid {
  private readonly src: GridSource;
  /** Entities placed in the grid (those with the position component and a finite position). */
  placed = 0;
  /** Replicated entities without the position component: candidates of every query. */
  unplaced = new Int32Array(64);
  unplacedCount = 0;
  /** Result of the last `query`: entities within the radius. */
  result = new Int32Array(64);
  resultCount = 0;
  private cellX = new Int32Array(0);
  private cellY = new Int32Array(0);
  private cellZ = new Int32Array(0);
  private mask = MIN_BUCKETS - 1;
  /** bucketStart[b] .. bucketStart[b + 1]: the entities of bucket b in `items`. */
  private bucketStart = new Int32Array(MIN_BUCKETS + 1);
  private items = new Int32Array(64);
  /** Bucket of each placed entity, in placement order (scratch of the sort). */
  private placedBucket = new Int32Array(64);
  private placedEid = new Int32Array(64);

  constructor(source: GridSource) {
    this.src = source;
  }

  /** Rebuilds the grid from current positions: O(replicated entities), shared by every client. */
  rebuild(reg: EntityRegistry): void {
    const src = this.src;
    const has = reg.has[src.component];
    const inv = 1 / src.cellSize;
    if (this.cellX.length < reg.capacity) {
      this.cellX = grown(this.cellX, reg.capacity);
      this.cellY = grown(this.cellY, reg.capacity);
      this.cellZ = grown(this.cellZ, reg.capacity);
    }
    if (this.placedEid.length < reg.count) {
      this.placedEid = grown(this.placedEid, reg.count);
      this.placedBucket = grown(this.placedBucket, reg.count);
      this.items = grown(this.items, reg.count);
      this.unplaced = grown(this.unplaced, reg.count);
    }
    let buckets = MIN_BUCKETS;
    while (buckets < reg.count * BUCKETS_PER_ENTITY) buckets *= 2;
    if (this.bucketStart.length < buckets + 1) this.bucketStart = new Int32Array(buckets + 1);
    const mask = buckets - 1;
    this.mask = mask;
    const start = this.bucketStart;
    start.fill(0, 0, buckets + 1);
    // 1. cell of each entity, and the count per bucket (shifted by one for the prefix sum)
    let n = 0;
    let u = 0;
    for (let i = 0; i < reg.count; i++) {
      const eid = reg.list[i];
      if (has[eid] === 0) {
        this.unplaced[u++] = eid;
        continue;
      }
      const fx = Math.floor(src.x[eid] * inv);
      const fy = Math.floor(src.y[eid] * inv);
      const fz = Math.floor(src.z[eid] * inv);
      // A non-finite position is within no radius: the entity is in no cell (as if infinitely far).
      if (!Number.isFinite(fx + fy + fz)) continue;
      const cx = fx | 0;
      const cy = fy | 0;
      const cz = fz | 0;
      this.cellX[eid] = cx;
      this.cellY[eid] = cy;
      this.cellZ[eid] = cz;
      const b = bucketOf(cx, cy, cz, mask);
      this.placedEid[n] = eid;
      this.placedBucket[n] = b;
      n++;
      start[b + 1]++;
    }
    // 2. prefix sum: start of each bucket
    for (let b = 0; b < buckets; b++) start[b + 1] += start[b];
    // 3. place (stable: registry order within a bucket)
    const fill = this.placedBucket;
    for (let i = 0; i < n; i++) {
      const b = fill[i];
      // start[b] is advanced while filling, then restored from the next bucket's start below.
      this.items[start[b]++] = this.placedEid[i];
    }
    for (let b = buckets; b > 0; b--) start[b] = start[b - 1];
    start[0] = 0;
    this.placed = n;
    this.unplacedCount = u;
  }

  /**
   * Fills `result` with the placed entities within the radius of (vx, vy, vz) and returns how many. Walks the
   * cells overlapping the sphere, or every placed entity when there are more such cells than entities.
   */
  query(vx: number, vy: number, vz: number): number {
    const src = this.src;
    const r = src.radius;
    const r2 = r * r;
    const inv = 1 / src.cellSize;
    if (this.result.length < this.placed) this.result = grown(this.result, this.placed);
    const out = this.result;
    let n = 0;
    // A non-finite viewpoint is within no distance of anything (and must not cost a walk of every entity).
    if (!Number.isFinite(vx + vy + vz)) {
      this.resultCount = 0;
      return 0;
    }
    const x0 = Math.floor((vx - r) * inv);
    const x1 = Math.floor((vx + r) * inv);
    const y0 = Math.floor((vy - r) * inv);
    const y1 = Math.floor((vy + r) * inv);
    const z0 = Math.floor((vz - r) * inv);
    const z1 = Math.floor((vz + r) * inv);
    const cells = (x1 - x0 + 1) * (y1 - y0 + 1) * (z1 - z0 + 1);
    const items = this.items;
    const px = src.x;
    const py = src.y;
    const pz = src.z;
    if (cells > this.placed) {
      // A radius spanning more cells than there are entities: test every entity.
      for (let i = 0; i < this.placed; i++) {
        const eid = items[i];
        const dx = px[eid] - vx;
        const dy = py[eid] - vy;
        const dz = pz[eid] - vz;
        if (dx * dx + dy * dy + dz * dz <= r2) out[n++] = eid;
      }
      this.resultCount = n;
      return n;
    }
    const start = this.bucketStart;
    const mask = this.mask;
    const cellX = this.cellX;
    const cellY = this.cellY;
    const cellZ = this.cellZ;
    for (let x = x0; x <= x1; x++)
      for (let y = y0; y <= y1; y++)
        for (let z = z0; z <= z1; z++) {
          // Cell coordinates wrap to 32 bits like the stored ones (only a world past 2^31 cells would notice).
          const xi = x | 0;
          const yi = y | 0;
          const zi = z | 0;
          const b = bucketOf(xi, yi, zi, mask);
          const end = start[b + 1];
          for (let i = start[b]; i < end; i++) {
            const eid = items[i];
            // Another cell of the same bucket: it is found (once) when its own cell is walked, if at all.
            if (cellX[eid] !== xi || cellY[eid] !== yi || cellZ[eid] !== zi) continue;
            const dx = px[eid] - vx;
            const dy = py[eid] - vy;
            const dz = pz[eid] - vz;
            if (dx * dx + dy * dy + dz * dz <= r2) out[n++] = eid;
          }
        }
    this.resultCount = n;
    return n;
  }
}
