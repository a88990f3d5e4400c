/**
 * The server's interest controls: each client's viewpoint and scope subscriptions, entity scopes and the
 * always-relevant flag, the publish and receive toggles, and the interest recompute of the clients whose turn it is.
 * The interest itself is decided in interest.ts and client-view.ts; this is what the API and the messages set.
 */
import type { Clock } from '../clock.ts';
import type { RegisteredComponent } from '../register.ts';
import type { ClientViews } from './client-view.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { InterestIndex } from './interest.ts';
import type { PeerReplication } from './peer-replication.ts';
import { markAllFields } from './structural-events.ts';

/** An entity or a scope, the target of a publish or receive toggle. */
export type ToggleTarget = { eid: number } | { scope: string };

/** What the interest controls act on. */
export interface InterestTogglesHost {
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly interest: InterestIndex;
  readonly views: ClientViews;
  readonly peers: ReadonlyMap<number, PeerReplication>;
  readonly clock: Clock;
}

/** Viewpoints, scopes and toggles of the server's clients, and when their interest is recomputed. */
export class InterestToggles {
  private readonly h: InterestTogglesHost;
  private nextInterestAtMs = 0;

  constructor(host: InterestTogglesHost) {
    this.h = host;
  }

  /** Sets the entity whose position is `clientId`'s viewpoint (its head), or 0. */
  setViewEntity(clientId: number, eid: number): void {
    const p = this.h.peers.get(clientId);
    if (!p) return;
    p.interest.viewEntity = eid;
    p.interest.dirty = true;
  }

  /**
   * Sets an explicit viewpoint for `clientId` (used when it has no view entity). Moves within a grid cell of where
   * its interest was last computed follow the interest rate; a longer move (a jump) recomputes it at the next tick.
   */
  setViewPosition(clientId: number, x: number, y: number, z: number): void {
    const p = this.h.peers.get(clientId);
    if (!p) return;
    const v = (p.interest.viewPosition ??= [x, y, z]);
    v[0] = x;
    v[1] = y;
    v[2] = z;
    if (this.h.interest.movedFar(p.interest)) p.interest.dirty = true;
  }

  /** Puts `eid` in the given scopes (replacing its previous ones); [] removes it from every scope. */
  setEntityScopes(eid: number, scopes: readonly string[]): void {
    this.h.interest.setEntityScopes(eid, scopes);
    this.invalidateAll();
  }

  /** Subscribes or unsubscribes `clientId` to a scope; its interest is recomputed at once. */
  setClientScope(clientId: number, scope: string, subscribed: boolean): void {
    const p = this.h.peers.get(clientId);
    if (!p) return;
    if (subscribed) this.h.interest.addScope(p.interest.scopes, scope);
    else this.h.interest.removeScope(p.interest.scopes, scope);
    p.interest.dirty = true;
  }

  /** Makes `eid` relevant to every client, or not. */
  setAlwaysRelevant(eid: number, on: boolean): void {
    this.h.interest.setAlwaysRelevant(eid, on);
    this.invalidateAll();
  }

  /** Publish toggle of an entity or a scope: while off, its updates go to nobody; back on, everyone resyncs it. */
  setPublish(target: ToggleTarget, on: boolean): void {
    const interest = this.h.interest;
    if ('eid' in target) {
      interest.ensure(target.eid);
      interest.setMuted(target.eid, !on);
    } else {
      if (on) interest.removeScope(interest.mutedScopes, target.scope);
      else interest.addScope(interest.mutedScopes, target.scope);
    }
    if (on) for (const p of this.h.peers.values()) this.resyncMatching(p, target);
  }

  /** Receive toggle of one client for an entity or a scope: while off it gets no updates; back on it resyncs. */
  setReceive(clientId: number, target: ToggleTarget, on: boolean): void {
    const p = this.h.peers.get(clientId);
    if (!p) return;
    if ('eid' in target) {
      if (on) p.interest.pausedEntities.delete(target.eid);
      else p.interest.pausedEntities.add(target.eid);
    } else {
      if (on) this.h.interest.removeScope(p.interest.pausedScopes, target.scope);
      else this.h.interest.addScope(p.interest.pausedScopes, target.scope);
    }
    if (on) this.resyncMatching(p, target);
  }

  /** Recomputes interest of every client whose turn it is: entering entities spawn, leaving ones despawn. */
  update(force: boolean): void {
    const h = this.h;
    if (!h.interest.active) return;
    const now = h.clock.now();
    const due = force || now >= this.nextInterestAtMs;
    if (due) this.nextInterestAtMs = now + 1000 / h.interest.config.rateHz;
    let rebuilt = false;
    for (const p of h.peers.values()) {
      if (!due && !p.interest.dirty) continue;
      if (!rebuilt) {
        h.interest.rebuild(h.registry);
        rebuilt = true;
      }
      h.views.recompute(p);
    }
  }

  /** Marks every field of the matching entities the client knows as pending (they go out with current values). */
  private resyncMatching(p: PeerReplication, target: ToggleTarget): void {
    const interest = this.h.interest;
    const scope = 'scope' in target ? (interest.names.idOf(target.scope) ?? 0) : -1;
    if (scope === 0) return; // a scope no entity is in
    for (let i = 0; i < p.knownSet.count; i++) {
      const eid = p.knownSet.list[i];
      const match = scope < 0 ? eid === (target as { eid: number }).eid : interest.scopesOf.get(eid)?.includes(scope);
      if (match) markAllFields(p, eid, this.h.comps, this.h.registry);
    }
  }

  private invalidateAll(): void {
    for (const p of this.h.peers.values()) p.interest.dirty = true;
  }
}
