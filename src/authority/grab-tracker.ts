/**
 * A client's grabs: ownership requests waiting for the server's answer, the objects its hands hold, and the
 * ownership events (gained, lost, changed) as this client sees them.
 */
import { usageError } from '../errors.ts';
import type { Emitter } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import type { ClientReplicator } from '../replication/client-replicator.ts';
import type { ClientAuthorityEvents } from './authority-events.ts';
import type { OwnershipRevokeBody } from './authority-wire.ts';
import type { HeldObjects } from './hold.ts';
import type { LamportClock } from './lamport.ts';

/** Options of `requestOwnership`. */
export interface GrabOptions {
  /** A hand entity: once granted, the object follows it at the offset it has now (needs the `pose` option). */
  hand?: number;
}

interface PendingGrab {
  hand: number;
  resolve: Array<(granted: boolean) => void>;
}

/** Pending requests and held objects of one client. */
export class GrabTracker {
  private readonly pending = new Map<number, PendingGrab>();
  private readonly owners = new Map<number, number>();

  constructor(
    private readonly replicator: ClientReplicator,
    private readonly held: HeldObjects | null,
    private readonly lamport: LamportClock,
    private readonly events: Emitter<ClientAuthorityEvents>,
    private readonly send: (tag: number, body: unknown) => void,
  ) {}

  /** Asks for `eid`; resolves true when granted, false when refused or when the session ends first. */
  request(eid: number, options: GrabOptions): Promise<boolean> {
    const netId = this.replicator.registry.toNet(eid);
    if (netId === 0) usageError(`entity ${eid} is not replicated here`, 'grab an entity the server replicates to you');
    if (options.hand !== undefined && !this.held)
      usageError('holding needs the pose option', 'pass { pose: { component, position, rotation } }');
    if (this.replicator.isOwned(eid)) {
      if (options.hand !== undefined) this.held?.grab(eid, options.hand);
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const g = this.pending.get(netId);
      if (g) {
        g.resolve.push(resolve);
        if (options.hand !== undefined) g.hand = options.hand;
        return;
      }
      this.pending.set(netId, { hand: options.hand ?? 0, resolve: [resolve] });
      this.send(Tag.OwnershipRequest, { netId, counter: this.lamport.tick() });
    });
  }

  /** Lets go of `eid` (or stops waiting for it); the last pose goes along when objects have a pose. */
  release(eid: number): void {
    const netId = this.replicator.registry.toNet(eid);
    if (netId === 0) return;
    const body: { netId: number; pose?: number[] } = { netId };
    if (this.held && this.replicator.isOwned(eid)) body.pose = this.held.poseOf(eid);
    this.held?.release(eid);
    this.settle(netId, false);
    this.send(Tag.OwnershipRelease, body);
  }

  /** The server did not grant a request (a queued one stays pending). */
  denied(body: OwnershipRevokeBody): void {
    if (body.reason !== 'queued') this.settle(body.netId, false);
    this.events.emit('denied', this.replicator.registry.toLocal(body.netId), body.reason);
  }

  /** The owner of `eid` changed (from the replication layer). */
  ownershipChanged(eid: number, owner: number): void {
    const me = this.replicator.clientId;
    const previous = this.owners.get(eid) ?? 0;
    if (owner === 0) this.owners.delete(eid);
    else this.owners.set(eid, owner);
    const netId = this.replicator.registry.toNet(eid);
    if (owner === me) {
      const g = this.pending.get(netId);
      if (g && g.hand !== 0) this.held?.grab(eid, g.hand);
      this.settle(netId, true);
    } else if (previous === me) this.held?.release(eid);
    const seq = this.replicator.authoritySeq.get(netId) ?? 0;
    this.events.emit('ownerChanged', eid, owner, previous, seq);
    if (owner === me && previous !== me) this.events.emit('gained', eid);
    else if (previous === me && owner !== me) this.events.emit('lost', eid);
  }

  /** `eid` is gone from this client. */
  despawned(eid: number): void {
    this.held?.release(eid);
    this.owners.delete(eid);
  }

  /** The session ended: every pending request fails. */
  failAll(): void {
    for (const netId of [...this.pending.keys()]) this.settle(netId, false);
  }

  private settle(netId: number, granted: boolean): void {
    const g = this.pending.get(netId);
    if (!g) return;
    this.pending.delete(netId);
    for (const r of g.resolve) r(granted);
  }
}
