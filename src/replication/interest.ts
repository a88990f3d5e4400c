/**
 * Interest management: which entities each client receives. Built in: a spatial grid (cell size, radius around
 * the client's viewpoint), scopes (entities belong to scopes, clients subscribe), always-relevant entities, a
 * custom predicate, and publish/receive toggles. The tables here are shared by every client: the grid (see
 * interest-grid.ts), the always-relevant entities and each client's owned entities as lists, so a client's interest
 * is computed from the cells near its viewpoint and those lists, never from a walk of the whole world (see
 * client-view.ts).
 */
import { capacityFor, grown } from '../codec/grow-array.ts';
import type { NumericArray } from './compiled-field.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { EntitySet } from './entity-set.ts';
import { InterestGrid } from './interest-grid.ts';
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
  /** The viewpoint as last resolved (scratch of `InterestIndex.viewpoint`). */
  readonly view = new Float64Array(3);
  /** The viewpoint the interest was last computed at, if it had one (see `InterestIndex.movedFar`). */
  readonly computedView = new Float64Array(3);
  computedWithView = false;
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
  /** The spatial index, when the grid is configured. */
  readonly grid: InterestGrid | null;
  /** The always-relevant entities, as a list. */
  readonly always = new EntitySet();
  /** Entities each client owns (only clients that own any). */
  readonly owned = new Map<number, Set<number>>();

  constructor(config: InterestConfig) {
    this.config = config;
    this.grid = config.grid ? new InterestGrid(config.grid) : null;
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

  /** Makes `eid` relevant to every client, or not. */
  setAlwaysRelevant(eid: number, on: boolean): void {
    this.ensure(eid);
    this.alwaysRelevant[eid] = on ? 1 : 0;
    if (on) this.always.add(eid);
    else this.always.delete(eid);
  }

  /** `eid` moved from owner `from` to owner `to` (client ids; 0 = the server). */
  ownerChanged(eid: number, from: number, to: number): void {
    if (from !== 0) {
      const set = this.owned.get(from);
      set?.delete(eid);
      if (set?.size === 0) this.owned.delete(from);
    }
    if (to === 0) return;
    let set = this.owned.get(to);
    if (!set) this.owned.set(to, (set = new Set()));
    set.add(eid);
  }

  /** Mutes or unmutes one entity's updates. */
  setMuted(eid: number, muted: boolean): void {
    this.ensure(eid);
    if ((this.muted[eid] === 1) === muted) return;
    this.muted[eid] = muted ? 1 : 0;
    this.mutedCount += muted ? 1 : -1;
  }

  /** Forgets per-entity settings of a removed entity (owned by `owner` until now). */
  forget(eid: number, owner: number): void {
    this.ownerChanged(eid, owner, 0);
    this.always.delete(eid);
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
    this.grid?.rebuild(reg);
  }

  /** Writes the viewpoint of a client into `out` and returns it, or null when it has none. */
  viewpoint(client: ClientInterest, reg: EntityRegistry, out: Float64Array = client.view): Float64Array | null {
    const grid = this.config.grid;
    if (grid && client.viewEntity !== 0 && reg.isReplicated(client.viewEntity)) {
      const e = client.viewEntity;
      out[0] = grid.x[e];
      out[1] = grid.y[e];
      out[2] = grid.z[e];
      return out;
    }
    const p = client.viewPosition;
    if (p === null) return null;
    out[0] = p[0];
    out[1] = p[1];
    out[2] = p[2];
    return out;
  }

  /**
   * True when `client`'s explicit viewpoint moved so far from where its interest was last computed (more than a
   * grid cell, or from none to some) that it should be recomputed at once; smaller moves wait for the interest
   * rate, as a moving view entity does. Without the grid a viewpoint changes nothing.
   */
  movedFar(client: ClientInterest): boolean {
    const grid = this.config.grid;
    const v = client.viewPosition;
    if (grid === null || v === null) return false;
    if (!client.computedWithView) return true;
    const c = client.computedView;
    const dx = v[0] - c[0];
    const dy = v[1] - c[1];
    const dz = v[2] - c[2];
    // Written so a non-finite viewpoint counts as far.
    return !(dx * dx + dy * dy + dz * dz <= grid.cellSize * grid.cellSize);
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
    view: Float64Array | null,
  ): boolean {
    if (this.isAlwaysIn(clientId, reg, eid)) return true;
    const grid = this.config.grid;
    if (grid && view && reg.has[grid.component][eid]) {
      const dx = grid.x[eid] - view[0];
      const dy = grid.y[eid] - view[1];
      const dz = grid.z[eid] - view[2];
      // Written so a non-finite position is out of every radius (the grid places it in no cell either).
      if (!(dx * dx + dy * dy + dz * dz <= grid.radius * grid.radius)) return false;
    }
    return this.passesRules(clientId, client, eid);
  }

  /** Owned by the client, or always relevant: in its interest whatever the other rules say. */
  isAlwaysIn(clientId: number, reg: EntityRegistry, eid: number): boolean {
    return reg.owner[eid] === clientId || (eid < this.alwaysRelevant.length && this.alwaysRelevant[eid] === 1);
  }

  /** The rules besides distance: a scope the client subscribes to (when the entity has scopes), the predicate. */
  passesRules(clientId: number, client: ClientInterest, eid: number): boolean {
    if (this.scopesOf.size > 0) {
      const scopes = this.scopesOf.get(eid);
      if (scopes) {
        let ok = false;
        for (const s of scopes) if (client.scopes.has(s)) ok = true;
        if (!ok) return false;
      }
    }
    const p = this.config.predicate;
    return p === null || p(clientId, eid);
  }
}
