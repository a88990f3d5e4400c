/**
 * The server's structural events: entities starting and stopping to replicate, components added and removed,
 * ownership changes. The plugin's observers report them synchronously; spawns and component changes are deferred
 * and resolved against the world at the next send (an entity made and filled in one frame spawns once, whole),
 * despawns and ownership changes are queued for each client that knows the entity at once.
 */
import type { Emitter, ReplicationEvents } from '../events.ts';
import type { RegisteredComponent } from '../register.ts';
import type { ChangeHistory } from './change-history.ts';
import { ChangeKind } from './change-history.ts';
import type { ClientViews } from './client-view.ts';
import { type EntityRegistry, SERVER_OWNER } from './entity-registry.ts';
import type { InterestIndex } from './interest.ts';
import { Op, type PeerReplication } from './peer-replication.ts';
import type { ShadowStore } from './shadow-store.ts';
import { DESPAWN_DESTROYED } from './wire-bodies.ts';
import type { WorldAdapter } from './world-adapter.ts';

/** What the structural events act on: the replicator's shared state. */
export interface StructuralEventsHost {
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly interest: InterestIndex;
  readonly views: ClientViews;
  readonly peers: ReadonlyMap<number, PeerReplication>;
  readonly world: WorldAdapter;
  readonly history: ChangeHistory;
  readonly authoritySeq: Map<number, number>;
  readonly events: Emitter<ReplicationEvents>;
}

/** Marks every field of every component `eid` has as pending for `p` (they go out with current values). */
export function markAllFields(
  p: PeerReplication,
  eid: number,
  comps: readonly RegisteredComponent[],
  registry: EntityRegistry,
): void {
  for (let c = 0; c < comps.length; c++) {
    if (registry.has[c][eid] && comps[c].fields.length > 0) p.delivery.mark(eid, c, comps[c].allFieldsMask);
  }
}

/** Spawns, despawns, component adds and removes, ownership changes: recorded now, announced per client. */
export class StructuralEvents {
  private readonly h: StructuralEventsHost;
  /** Deferred structural events: triples (op, netId, arg) resolved at the next send. */
  private readonly deferred: number[] = [];

  constructor(host: StructuralEventsHost) {
    this.h = host;
  }

  /** An entity started replicating: it gets a network id now; its spawn goes out at the next send. */
  entityAdded(eid: number): void {
    const h = this.h;
    if (h.registry.isReplicated(eid)) return;
    const netId = h.registry.add(eid);
    h.shadow.ensure(eid);
    h.interest.ensure(eid);
    this.deferred.push(Op.Spawn, netId, 0);
    h.events.emit('spawn', eid, netId);
  }

  /** An entity stopped replicating (destroyed, or its Networked marker removed). */
  entityRemoved(eid: number): void {
    const h = this.h;
    const owner = h.registry.isReplicated(eid) ? h.registry.owner[eid] : SERVER_OWNER;
    const netId = h.registry.remove(eid);
    if (netId === 0) return;
    h.history.structural(ChangeKind.Despawn, netId, 0, 0);
    h.authoritySeq.delete(netId);
    for (let c = 0; c < h.comps.length; c++) h.shadow.clear(c, eid);
    h.interest.forget(eid, owner);
    for (const p of h.peers.values()) {
      if (p.knows(eid)) {
        p.unlearn(eid);
        p.ops.push(Op.Despawn, netId, DESPAWN_DESTROYED);
      }
      if (p.interest.viewEntity === eid) p.interest.viewEntity = 0;
    }
    h.events.emit('despawn', eid, netId, false);
  }

  /** A registered component was added to an entity. */
  componentAdded(eid: number, c: number): void {
    const reg = this.h.registry;
    if (reg.isReplicated(eid)) this.deferred.push(Op.ComponentAdd, reg.netIdOf[eid], c);
  }

  /** A registered component was removed from an entity; announced at the next send if it is still gone. */
  componentRemoved(eid: number, c: number): void {
    const reg = this.h.registry;
    if (reg.isReplicated(eid) && reg.has[c][eid]) this.deferred.push(Op.ComponentRemove, reg.netIdOf[eid], c);
  }

  /** Gives `eid` to client `clientId` (0 = back to the server). The new owner's writes replicate from now on. */
  setOwner(eid: number, clientId: number): void {
    const h = this.h;
    if (!h.registry.isReplicated(eid)) return;
    const previous = h.registry.owner[eid];
    if (previous === clientId) return;
    h.registry.owner[eid] = clientId;
    h.interest.ownerChanged(eid, previous, clientId);
    // Owner writes carry the owner's ticks: restart ordering for the new owner.
    for (let c = 0; c < h.comps.length; c++) {
      const ticks = h.shadow.tick[c];
      for (let f = 0; f < ticks.length; f++) ticks[f][eid] = 0;
    }
    const netId = h.registry.netIdOf[eid];
    h.history.structural(ChangeKind.Owner, netId, 0, clientId);
    h.authoritySeq.set(netId, (h.authoritySeq.get(netId) ?? 0) + 1);
    for (const p of h.peers.values()) {
      // An owner always has its entities, whatever its interest; it starts from the server's values of this
      // tick (a full state ahead of the grant: deltas to an owned entity are refused, so they cannot carry it).
      if (p.peer.clientId === clientId) {
        if (!p.knows(eid)) h.views.announce(p, eid);
        else p.ops.push(Op.Spawn, netId, 0);
        p.delivery.forget(eid);
      }
      if (!p.knows(eid)) continue;
      p.ops.push(Op.Owner, netId, clientId);
      // The previous owner was not sent its own entity's changes: bring it up to date now.
      if (p.peer.clientId === previous) markAllFields(p, eid, h.comps, h.registry);
      p.interest.dirty = true;
    }
    h.events.emit('ownership', eid, clientId);
  }

  /** Resolves deferred spawns and component changes against the world as it is now. */
  resolveDeferred(): void {
    const d = this.deferred;
    if (d.length === 0) return;
    const h = this.h;
    const comps = h.comps;
    const reg = h.registry;
    let spawned = false;
    for (let i = 0; i < d.length; i += 3) {
      const op = d[i];
      const eid = reg.toLocal(d[i + 1]);
      if (eid === 0) continue; // gone again before this send
      const c = d[i + 2];
      if (op === Op.Spawn) {
        for (let k = 0; k < comps.length; k++) {
          const present = h.world.hasComponent(eid, k);
          reg.has[k][eid] = present ? 1 : 0;
          if (present) h.shadow.capture(k, eid);
        }
        h.history.structural(ChangeKind.Spawn, d[i + 1], 0, 0);
        spawned = true;
      } else if (op === Op.ComponentAdd) {
        if (reg.has[c][eid] || !h.world.hasComponent(eid, c)) continue;
        reg.has[c][eid] = 1;
        h.shadow.capture(c, eid);
        h.history.structural(ChangeKind.ComponentAdd, d[i + 1], c, 0);
        for (const p of h.peers.values()) if (p.knows(eid)) p.ops.push(Op.ComponentAdd, d[i + 1], c);
      } else {
        if (!reg.has[c][eid] || h.world.hasComponent(eid, c)) continue;
        reg.has[c][eid] = 0;
        h.shadow.clear(c, eid);
        h.history.structural(ChangeKind.ComponentRemove, d[i + 1], c, 0);
        for (const p of h.peers.values()) {
          if (!p.knows(eid)) continue;
          p.delivery.forgetComponent(eid, c);
          p.ops.push(Op.ComponentRemove, d[i + 1], c);
        }
      }
    }
    // New entities: announced to every client for which they are relevant right now.
    if (spawned) this.announceSpawns(d);
    d.length = 0;
  }

  private announceSpawns(d: readonly number[]): void {
    const h = this.h;
    if (h.interest.active) h.interest.rebuild(h.registry);
    for (const p of h.peers.values()) {
      const view = h.interest.viewpoint(p.interest, h.registry);
      for (let i = 0; i < d.length; i += 3) {
        if (d[i] !== Op.Spawn) continue;
        const eid = h.registry.toLocal(d[i + 1]);
        if (eid !== 0 && !p.knows(eid) && h.views.isRelevant(p, eid, view)) h.views.announce(p, eid);
      }
    }
  }
}
