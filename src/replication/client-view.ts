/**
 * Each client's view of the world on the server: which entities it has (its interest, recomputed from the shared
 * grid and lists), and what it still needs of them (pulled from the tick's shared change set). Entering entities
 * spawn with their full state, leaving ones despawn "out of interest". Costs per client are in the size of its
 * interest, never in the size of the world (except when no rule narrows the interest down: no grid or no
 * viewpoint, where every entity is a candidate by definition).
 */
import type { Emitter, ReplicationEvents } from '../events.ts';
import type { ChangeSet } from './change-set.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { InterestIndex } from './interest.ts';
import { Op, type PeerReplication } from './peer-replication.ts';
import { DESPAWN_OUT_OF_INTEREST } from './wire-bodies.ts';

/** Interest and change pulling of the server's clients. */
export class ClientViews {
  private readonly reg: EntityRegistry;
  private readonly interest: InterestIndex;
  private readonly events: Emitter<ReplicationEvents>;

  constructor(reg: EntityRegistry, interest: InterestIndex, events: Emitter<ReplicationEvents>) {
    this.reg = reg;
    this.interest = interest;
    this.events = events;
  }

  /** Is `eid` relevant to `p` now (every entity is when no interest rule is configured)? */
  isRelevant(p: PeerReplication, eid: number, view: Float64Array | null): boolean {
    return !this.interest.active || this.interest.isRelevant(p.peer.clientId, p.interest, this.reg, eid, view);
  }

  /** Queues the spawn of `eid` for `p` (its full state travels with it). */
  announce(p: PeerReplication, eid: number): void {
    if (p.knows(eid)) return;
    p.learn(eid);
    p.ops.push(Op.Spawn, this.reg.netIdOf[eid], 0);
    this.events.emit('interest', p.peer.clientId, eid, true);
  }

  /**
   * Recomputes `p`'s interest (the grid must be current): candidates are the grid's entities within the radius,
   * the entities without a position, the always-relevant ones and the client's own; entering ones are announced,
   * known ones that are no longer relevant despawn.
   */
  recompute(p: PeerReplication): void {
    const reg = this.reg;
    const interest = this.interest;
    const me = p.peer.clientId;
    p.interest.dirty = false;
    const gen = p.nextGeneration();
    const view = interest.viewpoint(p.interest, reg);
    p.interest.computedWithView = view !== null;
    if (view !== null) p.interest.computedView.set(view);
    const grid = interest.grid;
    if (grid !== null && view !== null) {
      // 1. within the radius (the grid's test is exact), then the other rules
      const n = grid.query(view[0], view[1], view[2]);
      const found = grid.result;
      for (let i = 0; i < n; i++) {
        const eid = found[i];
        if (interest.isAlwaysIn(me, reg, eid) || interest.passesRules(me, p.interest, eid)) this.keep(p, eid, gen);
      }
      // 2. without a position: no radius applies
      const unplaced = grid.unplaced;
      for (let i = 0; i < grid.unplacedCount; i++) {
        const eid = unplaced[i];
        if (interest.isAlwaysIn(me, reg, eid) || interest.passesRules(me, p.interest, eid)) this.keep(p, eid, gen);
      }
    } else {
      for (let i = 0; i < reg.count; i++) {
        const eid = reg.list[i];
        if (interest.isRelevant(me, p.interest, reg, eid, view)) this.keep(p, eid, gen);
      }
    }
    // 3. relevant whatever the rules say: always-relevant and owned entities
    const always = interest.always;
    for (let i = 0; i < always.count; i++) this.keep(p, always.list[i], gen);
    const owned = interest.owned.get(me);
    if (owned) for (const eid of owned) this.keep(p, eid, gen);
    // 4. leaving: known but not kept this generation
    const known = p.knownSet;
    for (let i = known.count - 1; i >= 0; i--) {
      const eid = known.list[i];
      if (p.known[eid] === gen) continue;
      const netId = reg.netIdOf[eid];
      p.unlearn(eid);
      p.ops.push(Op.Despawn, netId, DESPAWN_OUT_OF_INTEREST);
      this.events.emit('despawn', eid, netId, true);
    }
  }

  private keep(p: PeerReplication, eid: number, gen: number): void {
    if (eid >= p.known.length) p.ensure(eid);
    const k = p.known[eid];
    if (k === gen) return;
    if (k === 0) {
      // Not replicated (an always-relevant mark on a plain entity): nothing to keep.
      if (!this.reg.isReplicated(eid)) return;
      this.announce(p, eid);
    }
    p.known[eid] = gen;
  }

  /**
   * Marks pending, for every client, the fields of this tick's changes to the entities it has, does not own and
   * has not paused. Each client walks the shorter of its known list and the change list: O(min(interest, changed)).
   */
  pull(peers: Iterable<PeerReplication>, changes: ChangeSet): void {
    if (changes.count === 0) return;
    for (const p of peers) {
      if (p.knownSet.count <= changes.count) this.pullByKnown(p, changes);
      else this.pullByChanged(p, changes);
    }
  }

  /** The client's known list, each entity looked up in the change set's bitmap. */
  private pullByKnown(p: PeerReplication, changes: ChangeSet): void {
    const bits = changes.bits;
    const words = bits.length;
    const list = p.knownSet.list;
    const count = p.knownSet.count;
    for (let i = 0; i < count; i++) {
      const eid = list[i];
      const word = eid >>> 5;
      if (word < words && (bits[word] & (1 << (eid & 31))) !== 0) this.take(p, eid, changes);
    }
  }

  /** The change list, each entity looked up in the client's known table. */
  private pullByChanged(p: PeerReplication, changes: ChangeSet): void {
    const known = p.known;
    const list = changes.list;
    const count = changes.count;
    for (let i = 0; i < count; i++) {
      const eid = list[i];
      if (eid < known.length && known[eid] !== 0) this.take(p, eid, changes);
    }
  }

  /** Marks the changed fields of `eid` pending for `p`, unless `p` owns it or paused it. */
  private take(p: PeerReplication, eid: number, changes: ChangeSet): void {
    if (this.reg.owner[eid] === p.peer.clientId) return;
    const ci = p.interest;
    if ((ci.pausedEntities.size > 0 || ci.pausedScopes.size > 0) && this.interest.isPaused(ci, eid)) return;
    const masks = changes.masks;
    for (let c = 0; c < masks.length; c++) {
      const m = masks[c][eid];
      if (m !== 0) p.delivery.mark(eid, c, m);
    }
  }
}
