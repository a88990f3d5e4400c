/**
 * Follows the replicator's ownership changes on the server and turns them into the authority layer's
 * `ownerChanged`, `gained` and `lost` events (gained and lost from the server's point of view).
 */
import type { Emitter } from '../events.ts';
import type { ServerAuthorityEvents } from './authority-events.ts';

/** The last known owner of each owned entity, so every change can name the previous owner. */
export class OwnerChanges {
  private readonly owners = new Map<number, number>();

  constructor(
    private readonly events: Emitter<ServerAuthorityEvents>,
    private readonly authoritySeqOf: (eid: number) => number,
  ) {}

  /** `eid` now belongs to `owner` (0 = the server). */
  changed(eid: number, owner: number): void {
    const previous = this.owners.get(eid) ?? 0;
    if (owner === 0) this.owners.delete(eid);
    else this.owners.set(eid, owner);
    this.events.emit('ownerChanged', eid, owner, previous, this.authoritySeqOf(eid));
    if (owner === 0) this.events.emit('gained', eid);
    else if (previous === 0) this.events.emit('lost', eid);
  }

  /** `eid` was despawned: forget its owner. */
  removed(eid: number): void {
    this.owners.delete(eid);
  }
}
