/**
 * Fidelity by distance on the server: each send tick, every entity waiting for a client gets a level from its
 * distance to the client's viewpoint (or the `level` function). A level's `every` holds the entity back until its
 * turn (a slot spread by entity id, or `every` ticks after its last send, whichever comes first, so a deferred entity
 * waits no longer than its interval); its `coarsen` drops low bits of its quantized and quaternion fields
 * (coarse-wire.ts), said per entity in a CoarseDelta. An entity that has not changed for `settleTicks` goes out at
 * full precision, and each client holding a coarse value of it (or of an entity that came to a finer level) is sent
 * its fields again, so every client ends with the exact value. A client holding a coarse value leaves that entity
 * out of its state hash until then. While held back an entity keeps growing its priority accumulator, so when its
 * turn comes it goes before entities that were sent recently.
 */
import { capacityFor, grown } from '../codec/grow-array.ts';
import { type ErrorHandler, NetError, usageError } from '../errors.ts';
import type { RegisteredComponent } from '../register.ts';
import type { ChangeSet } from './change-set.ts';
import type { FidelityPlan } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { EntitySet } from './entity-set.ts';
import type { FidelityConfig, ResolvedPosition } from './fidelity-options.ts';
import type { InterestIndex } from './interest.ts';
import type { PeerReplication } from './peer-replication.ts';

/** Most components with coarse fields that fidelity tracks per entity (one bit each). */
const MAX_COARSE_COMPONENTS = 32;

/** Counters of the fidelity levels (server), for stats. */
export interface FidelityCounters {
  /** Entity updates sent, per level (index = level). */
  sentByLevel: number[];
  /** Entity updates sent with coarse fields. */
  coarseSent: number;
  /** Full-precision resends: an entity stopped, or came to a finer level, while a client held a coarse value. */
  refinements: number;
  /** Entity-ticks held back by a level's interval. */
  held: number;
  /** Results of the `level` function that were not a level index (counted as level 0). */
  invalidLevels: number;
}

/** One client's fidelity state: this tick's plan, and what it holds coarse. */
class FidelityView implements FidelityPlan {
  hold = new Uint8Array(0);
  shift = new Uint8Array(0);
  level = new Uint8Array(0);
  /** Send tick of each entity's last update to this client. */
  lastSent = new Float64Array(0);
  /** Largest shift of a coarse value the client may hold of each entity (0 = all exact). */
  heldShift = new Uint8Array(0);
  /** Per entity, one bit per coarse component (index in `Fidelity.coarse`) the client may hold coarse. */
  coarseComps = new Uint32Array(0);
  /** Entities with heldShift > 0. */
  readonly coarseList = new EntitySet();
  tick = 0;

  constructor(private readonly owner: Fidelity) {}

  ensure(eid: number): void {
    if (eid < this.hold.length) return;
    const cap = capacityFor(Math.max(64, this.hold.length), eid);
    const before = this.lastSent.length;
    this.hold = grown(this.hold, cap);
    this.shift = grown(this.shift, cap);
    this.level = grown(this.level, cap);
    this.lastSent = grown(this.lastSent, cap);
    this.lastSent.fill(-Infinity, before);
    this.heldShift = grown(this.heldShift, cap);
    this.coarseComps = grown(this.coarseComps, cap);
  }

  written(eid: number, shift: number, masks: Uint32Array): void {
    this.owner.written(this, eid, shift, masks);
  }
}

/** The server's fidelity levels. */
export class Fidelity {
  readonly config: FidelityConfig;
  readonly counters: FidelityCounters;
  /** Components with coarse fields (at most MAX_COARSE_COMPONENTS), and the mask of those fields. */
  private readonly coarse: number[] = [];
  private readonly coarseMask: number[] = [];
  /** Send tick each entity last changed in. */
  private lastChanged = new Float64Array(0);
  private readonly views = new WeakMap<PeerReplication, FidelityView>();
  private readonly origin = new Float64Array(3);
  private reported = false;

  constructor(
    config: FidelityConfig,
    comps: readonly RegisteredComponent[],
    private readonly registry: EntityRegistry,
    private readonly interest: InterestIndex,
    private readonly onError: ErrorHandler | undefined,
  ) {
    this.config = config;
    this.counters = {
      sentByLevel: config.levels.map(() => 0),
      coarseSent: 0,
      refinements: 0,
      held: 0,
      invalidLevels: 0,
    };
    for (let c = 0; c < comps.length; c++) {
      let mask = 0;
      comps[c].fields.forEach((f, i) => {
        if (f.maxShift > 0) mask |= 1 << i;
      });
      if (mask === 0 || comps[c].reliable) continue;
      this.coarse.push(c);
      this.coarseMask.push(mask);
    }
    if (this.coarse.length > MAX_COARSE_COMPONENTS)
      usageError(
        `fidelity handles at most ${MAX_COARSE_COMPONENTS} components with quantized or quaternion fields (${this.coarse.length} registered)`,
        'mark the fields of some components exact, or merge components',
      );
  }

  /** Notes the entities that changed in send tick `tick` (after change detection). */
  noteChanges(changes: ChangeSet, tick: number): void {
    const list = changes.list;
    for (let i = 0; i < changes.count; i++) {
      const eid = list[i];
      if (eid >= this.lastChanged.length) {
        const before = this.lastChanged.length;
        this.lastChanged = grown(this.lastChanged, capacityFor(Math.max(64, before), eid));
        this.lastChanged.fill(-Infinity, before);
      }
      this.lastChanged[eid] = tick;
    }
  }

  private viewOf(p: PeerReplication): FidelityView {
    let v = this.views.get(p);
    if (!v) this.views.set(p, (v = new FidelityView(this)));
    return v;
  }

  /** True while `p`'s client may hold a coarse value of `eid` (its state hash leaves the entity out). */
  holdsCoarse(p: PeerReplication, eid: number): boolean {
    const v = this.views.get(p);
    return v !== undefined && eid < v.heldShift.length && v.heldShift[eid] > 0;
  }

  /**
   * Send tick `tick` for `p`: entities it may hold coarse that stopped, or came to a finer level, have their coarse
   * fields marked pending again (they go out at the finer precision). Call before the Delta is considered.
   */
  refine(p: PeerReplication, tick: number): void {
    const v = this.views.get(p);
    if (!v || v.coarseList.count === 0) return;
    const origin = this.originOf(p);
    const reg = this.registry;
    const me = p.peer.clientId;
    const list = v.coarseList;
    for (let i = list.count - 1; i >= 0; i--) {
      const eid = list.list[i];
      // Gone, left the client's interest, or its own now: whatever comes next (a spawn, nothing) is exact.
      if (v.heldShift[eid] === 0 || !reg.isReplicated(eid) || !p.knows(eid) || reg.owner[eid] === me) {
        this.release(v, eid);
        continue;
      }
      if (this.interest.isMuted(eid) || this.interest.isPaused(p.interest, eid)) continue;
      const level = this.levelOf(me, eid, origin);
      if (this.desiredShift(eid, level, tick) >= v.heldShift[eid]) continue;
      let marked = false;
      const comps = v.coarseComps[eid];
      for (let k = 0; k < this.coarse.length; k++) {
        if ((comps & (1 << k)) === 0) continue;
        const c = this.coarse[k];
        if (reg.has[c][eid] === 0) continue;
        const mask = this.coarseMask[k];
        if ((p.delivery.pending[c][eid] & mask) !== mask) marked = true;
        p.delivery.mark(eid, c, mask);
      }
      if (marked) this.counters.refinements++;
    }
  }

  /** Prepares `p`'s plan for this tick's Delta: level, hold and shift of every entity waiting for it. */
  prepare(p: PeerReplication, tick: number): FidelityPlan {
    const v = this.viewOf(p);
    v.tick = tick;
    const d = p.delivery;
    const origin = this.originOf(p);
    const me = p.peer.clientId;
    const levels = this.config.levels;
    for (let i = 0; i < d.dirtyCount; i++) {
      const eid = d.dirty[i];
      if (eid >= v.hold.length) v.ensure(eid);
      const level = this.levelOf(me, eid, origin);
      const every = levels[level].every;
      const due = every === 1 || (tick + eid) % every === 0 || tick - v.lastSent[eid] >= every;
      v.level[eid] = level;
      v.hold[eid] = due ? 0 : 1;
      v.shift[eid] = this.desiredShift(eid, level, tick);
      if (!due) this.counters.held++;
    }
    return v;
  }

  /** The shift an update of `eid` at `level` goes out with now: 0 once it stopped. */
  private desiredShift(eid: number, level: number, tick: number): number {
    const shift = this.config.levels[level].shift;
    if (shift === 0) return 0;
    const changed = eid < this.lastChanged.length ? this.lastChanged[eid] : -Infinity;
    return tick - changed >= this.config.settleTicks ? 0 : shift;
  }

  /** Bookkeeping of one entity written into `v`'s Delta (see FidelityPlan.written). */
  written(v: FidelityView, eid: number, shift: number, masks: Uint32Array): void {
    v.lastSent[eid] = v.tick;
    this.counters.sentByLevel[v.level[eid]]++;
    const reg = this.registry;
    const held = v.coarseComps[eid];
    let touched = 0;
    let covered = 0;
    for (let k = 0; k < this.coarse.length; k++) {
      const c = this.coarse[k];
      const mask = this.coarseMask[k];
      const carried = masks[c] & mask;
      if (carried !== 0) touched |= 1 << k;
      if (carried === mask || reg.has[c][eid] === 0) covered |= 1 << k;
    }
    if (shift === 0) {
      const rest = held & ~covered;
      v.coarseComps[eid] = rest;
      if (rest === 0) v.heldShift[eid] = 0;
      return;
    }
    if (touched === 0) return;
    this.counters.coarseSent++;
    // Every component held coarse is rewritten at this shift: it is the client's coarsest now; else the larger.
    const all = (held & ~covered) === 0;
    v.heldShift[eid] = all ? shift : Math.max(shift, v.heldShift[eid]);
    v.coarseComps[eid] = held | touched;
    v.coarseList.add(eid);
  }

  private release(v: FidelityView, eid: number): void {
    v.heldShift[eid] = 0;
    v.coarseComps[eid] = 0;
    v.coarseList.delete(eid);
  }

  /** The level of `eid` for client `clientId` (`origin` its viewpoint, or null). */
  private levelOf(clientId: number, eid: number, origin: Float64Array | null): number {
    let distance = NaN;
    if (origin !== null) {
      const pos = this.positionOf(eid);
      if (pos !== null) {
        const dx = pos.x[eid] - origin[0];
        const dy = pos.y[eid] - origin[1];
        const dz = pos.z[eid] - origin[2];
        distance = Math.sqrt(dx * dx + dy * dy + dz * dz);
      }
    }
    const levels = this.config.levels;
    const fn = this.config.level;
    if (fn !== null) {
      const l = fn(clientId, eid, distance);
      if (Number.isInteger(l) && l >= 0 && l < levels.length) return l;
      this.counters.invalidLevels++;
      if (!this.reported) {
        this.reported = true;
        this.onError?.(
          new NetError('FidelityLevel', `fidelity level(${clientId}, ${eid}) returned ${String(l)}: not a level index`),
        );
      }
      return 0;
    }
    // Unknown (or not finite) distance: full fidelity.
    if (!(distance >= 0)) return 0;
    for (let i = 0; i < levels.length; i++) if (distance <= levels[i].within) return i;
    return levels.length - 1;
  }

  private positionOf(eid: number): ResolvedPosition | null {
    const has = this.registry.has;
    for (const pos of this.config.positions) if (has[pos.component][eid]) return pos;
    return null;
  }

  /** `p`'s viewpoint: `origin`, else its view entity's position, else its explicit view position; null if none. */
  private originOf(p: PeerReplication): Float64Array | null {
    const out = this.origin;
    const custom = this.config.origin;
    if (custom !== null) return custom(p.peer.clientId, out) ? out : null;
    const view = p.interest.viewEntity;
    if (view !== 0 && this.registry.isReplicated(view)) {
      const pos = this.positionOf(view);
      if (pos !== null) {
        out[0] = pos.x[view];
        out[1] = pos.y[view];
        out[2] = pos.z[view];
        return out;
      }
    }
    const at = p.interest.viewPosition;
    if (at === null) return null;
    out[0] = at[0];
    out[1] = at[1];
    out[2] = at[2];
    return out;
  }
}
