/**
 * Interest management: which entities each client receives. Built in: a spatial grid (cell size, radius around
 * the client's viewpoint), scopes (entities belong to scopes, clients subscribe), always-relevant entities, a
 * custom predicate, and publish/receive toggles. The server replicator asks `isRelevant` per (client, entity)
 * and recomputes each client's set at the configured rate, walking only the grid cells near the viewpoint.
 */
import { capacityFor, grown } from '../codec/grow-array.ts';
import type { NumericArray } from './compiled-field.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { ScopeNames } from './scope-names.ts';

/** Default interest recompute rate: 10 Hz follows walking speed with a few cm of lag at the border. */
export const DEFAULT_INTEREST_RATE_HZ = 10;

/** Spatial interest: entities with the position component within `radius` of the viewpoint. */
export interface GridInterestOptions {
  /** Edge of a grid cell in world units; about the radius / 2 keeps the cells walked small. */
  cellSize: number;
  /** Distance from the viewpoint within which entities are relevant. */
  radius: number;
  /** Index of the registered component holding positions, and its x/y/z arrays. */
  component: number;
  x: NumericArray;
  y: NumericArray;
  z: NumericArray;
}

/** Interest configuration of the server. */
export interface InterestConfig {
  rateHz: number;
  grid: GridInterestOptions | null;
  predicate: ((clientId: number, eid: number) => boolean) | null;
}

/** Per-client interest state. */
export class ClientInterest {
  /** Entity whose position is the viewpoint (e.g. the head), or 0. */
  viewEntity = 0;
  /** Explicit viewpoint when there is no view entity. */
  viewPosition: [number, number, number] | null = null;
  readonly scopes = new Set<number>();
  readonly pausedScopes = new Set<number>();
  readonly pausedEntities = new Set<number>();
  /** Recompute at the next interest tick. */
  dirty = true;
}

/** Server-wide interest tables: scopes, always-relevant, publish toggles, and the grid index. */
export class InterestIndex {
  readonly config: InterestConfig;
  /** Scope names in use, reference-counted (entities, subscriptions, pauses and mutes hold them). */
  readonly names = new ScopeNames();
  /** Scopes of each entity that has any. */
  readonly scopesOf = new Map<number, number[]>();
  alwaysRelevant = new Uint8Array(0);
  muted = new Uint8Array(0);
  /** Entities currently muted one by one (so change detection can skip the check when there are none). */
  mutedCount = 0;
  readonly mutedScopes = new Set<number>();
  private readonly cells = new Map<number, number[]>();
  private unplaced: number[] = [];

  constructor(config: InterestConfig) {
    this.config = config;
  }

  /** True when any interest rule is configured (otherwise every client gets every entity). */
  get active(): boolean {
    return this.config.grid !== null || this.config.predicate !== null || this.scopesOf.size > 0;
  }

  /** Puts `eid` in the named scopes (replacing its previous ones); [] removes it from every scope. */
  setEntityScopes(eid: number, scopes: readonly string[]): void {
    const before = this.scopesOf.get(eid);
    const ids = [...new Set(scopes)].map((s) => this.names.acquire(s));
    if (ids.length === 0) this.scopesOf.delete(eid);
    else this.scopesOf.set(eid, ids);
    if (before) for (const id of before) this.names.release(id);
  }

  /** Adds scope `name` to `set` (taking a reference) unless it is there; returns its id. */
  addScope(set: Set<number>, name: string): number {
    const known = this.names.idOf(name);
    if (known !== undefined && set.has(known)) return known;
    const id = this.names.acquire(name);
    set.add(id);
    return id;
  }

  /** Removes scope `name` from `set` (dropping its reference); false when it was not there. */
  removeScope(set: Set<number>, name: string): boolean {
    const id = this.names.idOf(name);
    if (id === undefined || !set.delete(id)) return false;
    this.names.release(id);
    return true;
  }

  /** Drops every scope reference a client held (it left for good). */
  releaseClient(client: ClientInterest): void {
    for (const id of client.scopes) this.names.release(id);
    for (const id of client.pausedScopes) this.names.release(id);
    client.scopes.clear();
    client.pausedScopes.clear();
  }

  ensure(eid: number): void {
    if (eid < this.alwaysRelevant.length) return;
    const cap = capacityFor(Math.max(64, this.alwaysRelevant.length), eid);
    this.alwaysRelevant = grown(this.alwaysRelevant, cap);
    this.muted = grown(this.muted, cap);
  }

  /** Mutes or unmutes one entity's updates. */
  setMuted(eid: number, muted: boolean): void {
    this.ensure(eid);
    if ((this.muted[eid] === 1) === muted) return;
    this.muted[eid] = muted ? 1 : 0;
    this.mutedCount += muted ? 1 : -1;
  }

  /** Forgets per-entity settings of a removed entity. */
  forget(eid: number): void {
    const scopes = this.scopesOf.get(eid);
    if (scopes) for (const id of scopes) this.names.release(id);
    this.scopesOf.delete(eid);
    if (eid < this.alwaysRelevant.length) {
      this.alwaysRelevant[eid] = 0;
      this.setMuted(eid, false);
    }
  }

  /** True when updates of `eid` are withheld from everyone (entity or one of its scopes muted). */
  isMuted(eid: number): boolean {
    if (eid < this.muted.length && this.muted[eid]) return true;
    if (this.mutedScopes.size === 0) return false;
    const scopes = this.scopesOf.get(eid);
    if (scopes) for (const s of scopes) if (this.mutedScopes.has(s)) return true;
    return false;
  }

  /** True when `client` has paused receiving `eid` (directly or by scope). */
  isPaused(client: ClientInterest, eid: number): boolean {
    if (client.pausedEntities.has(eid)) return true;
    if (client.pausedScopes.size === 0) return false;
    const scopes = this.scopesOf.get(eid);
    if (scopes) for (const s of scopes) if (client.pausedScopes.has(s)) return true;
    return false;
  }

  /** Rebuilds the grid from current positions (once per interest tick, shared by every client). */
  rebuild(reg: EntityRegistry): void {
    const grid = this.config.grid;
    this.cells.clear();
    this.unplaced = [];
    if (!grid) return;
    const has = reg.has[grid.component];
    const inv = 1 / grid.cellSize;
    for (let i = 0; i < reg.count; i++) {
      const eid = reg.list[i];
      if (!has[eid]) {
        this.unplaced.push(eid);
        continue;
      }
      const key = cellKey(Math.floor(grid.x[eid] * inv), Math.floor(grid.y[eid] * inv), Math.floor(grid.z[eid] * inv));
      const cell = this.cells.get(key);
      if (cell) cell.push(eid);
      else this.cells.set(key, [eid]);
    }
  }

  /** The viewpoint of a client, or null. */
  viewpoint(client: ClientInterest, reg: EntityRegistry): [number, number, number] | null {
    const grid = this.config.grid;
    if (grid && client.viewEntity !== 0 && reg.isReplicated(client.viewEntity)) {
      const e = client.viewEntity;
      return [grid.x[e], grid.y[e], grid.z[e]];
    }
    return client.viewPosition;
  }

  /**
   * Is `eid` relevant to `client`? Owned and always-relevant entities are; otherwise the entity's scopes must
   * include one the client subscribes to (if it has scopes), it must lie within the radius of the viewpoint (if
   * the grid is on, the entity has a position and the client a viewpoint), and the predicate must agree.
   */
  isRelevant(
    clientId: number,
    client: ClientInterest,
    reg: EntityRegistry,
    eid: number,
    view: [number, number, number] | null,
  ): boolean {
    if (reg.owner[eid] === clientId) return true;
    if (eid < this.alwaysRelevant.length && this.alwaysRelevant[eid]) return true;
    const scopes = this.scopesOf.get(eid);
    if (scopes) {
      let ok = false;
      for (const s of scopes) if (client.scopes.has(s)) ok = true;
      if (!ok) return false;
    }
    const grid = this.config.grid;
    if (grid && view && reg.has[grid.component][eid]) {
      const dx = grid.x[eid] - view[0];
      const dy = grid.y[eid] - view[1];
      const dz = grid.z[eid] - view[2];
      if (dx * dx + dy * dy + dz * dz > grid.radius * grid.radius) return false;
    }
    const p = this.config.predicate;
    return p === null || p(clientId, eid);
  }

  /**
   * Calls `visit` for every entity that may be relevant to a client at `view`: the grid cells overlapping the
   * radius plus entities without a position; every entity when the grid is off or there is no viewpoint.
   */
  candidates(reg: EntityRegistry, view: [number, number, number] | null, visit: (eid: number) => void): void {
    const grid = this.config.grid;
    if (!grid || !view) {
      for (let i = 0; i < reg.count; i++) visit(reg.list[i]);
      return;
    }
    const inv = 1 / grid.cellSize;
    const r = grid.radius;
    const x0 = Math.floor((view[0] - r) * inv);
    const x1 = Math.floor((view[0] + r) * inv);
    const y0 = Math.floor((view[1] - r) * inv);
    const y1 = Math.floor((view[1] + r) * inv);
    const z0 = Math.floor((view[2] - r) * inv);
    const z1 = Math.floor((view[2] + r) * inv);
    for (let x = x0; x <= x1; x++)
      for (let y = y0; y <= y1; y++)
        for (let z = z0; z <= z1; z++) {
          const cell = this.cells.get(cellKey(x, y, z));
          if (cell) for (let i = 0; i < cell.length; i++) visit(cell[i]);
        }
    for (let i = 0; i < this.unplaced.length; i++) visit(this.unplaced[i]);
  }
}

/** Cells per axis on each side of the origin that keys can tell apart: 2^16 (65 km at 1 m cells). */
const CELL_RANGE = 65536;

/** Packs three cell coordinates into one safe integer key (3 x 17 bits). */
function cellKey(x: number, y: number, z: number): number {
  return ((x + CELL_RANGE) * 2 * CELL_RANGE + (y + CELL_RANGE)) * 2 * CELL_RANGE + (z + CELL_RANGE);
}
