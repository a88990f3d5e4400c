/**
 * Snapshots of the server: a joining (or resumed, or diverged) client gets every entity in its interest, or the
 * entities of the hash buckets it must resync, as Snapshot chunks (snapshot-writer.ts) that it applies atomically.
 */
import type { RegisteredComponent } from '../register.ts';
import { hasBucket } from './bucket-mask.ts';
import type { ClientViews } from './client-view.ts';
import type { PackScratch } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { InterestIndex } from './interest.ts';
import type { PeerReplication } from './peer-replication.ts';
import type { ServerReplicationCounters } from './server-counters.ts';
import type { ShadowStore } from './shadow-store.ts';
import { type SnapshotFigures, writeSnapshot } from './snapshot-writer.ts';
import { bucketOf } from './state-hash.ts';

/** What the snapshot sender reads and counts. */
export interface SnapshotSenderHost {
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly scratch: PackScratch;
  readonly interest: InterestIndex;
  readonly views: ClientViews;
  readonly counters: ServerReplicationCounters;
  /** True when compression is on (a peer deflates only if it offered it too). */
  readonly compression: boolean;
  /** Resolves the structural events still deferred, so a snapshot holds this tick's world. */
  resolveDeferred(): void;
}

/** Full and partial snapshots, and the fresh interest a full one starts from. */
export class SnapshotSender {
  private readonly h: SnapshotSenderHost;
  private snapshotId = 0;

  constructor(host: SnapshotSenderHost) {
    this.h = host;
  }

  /** True when the client offered deflate in its Hello and compression is on. */
  deflates(p: PeerReplication): boolean {
    return this.h.compression && (p.peer.hello?.capabilities.includes('deflate') ?? false);
  }

  /**
   * Sends `p` every entity in its interest (or only those in the `buckets` of a resync) as Snapshot chunks of
   * tick `tick`; the client applies it atomically and drops what the snapshot does not list.
   */
  send(p: PeerReplication, tick: number, buckets: [number, number] | null): SnapshotFigures {
    const h = this.h;
    h.resolveDeferred();
    const reg = h.registry;
    const entities: number[] = [];
    if (buckets === null) {
      entities.push(...this.resetInterest(p));
    } else {
      for (let i = 0; i < p.knownSet.count; i++) {
        const eid = p.knownSet.list[i];
        const b = bucketOf(reg.netIdOf[eid]);
        if (hasBucket(buckets[0], buckets[1], b)) {
          entities.push(eid);
          // The snapshot carries current values: nothing older needs to follow.
          p.delivery.forget(eid);
        }
      }
      p.delivery.compactDirty();
    }
    const figures: SnapshotFigures = { rawBytes: 0, sentBytes: 0, chunks: 0 };
    const messages = writeSnapshot(
      { id: ++this.snapshotId, tick, entities, count: entities.length, deflate: this.deflates(p), buckets },
      h.comps,
      h.shadow,
      reg,
      h.scratch,
      figures,
    );
    for (const m of messages) p.lastStructuralId = p.peer.connection.sendReliable(m);
    h.counters.snapshots++;
    h.counters.snapshotRawBytes += figures.rawBytes;
    h.counters.snapshotSentBytes += figures.sentBytes;
    return figures;
  }

  /** Fresh interest for `p`: nothing pending or announced piecemeal; returns (and learns) everything relevant now. */
  resetInterest(p: PeerReplication): number[] {
    const h = this.h;
    h.resolveDeferred();
    const reg = h.registry;
    const entities: number[] = [];
    p.ops.length = 0;
    p.knownSet.clear();
    p.known.fill(0);
    p.delivery.reset();
    if (h.interest.active) h.interest.rebuild(reg);
    const view = h.interest.viewpoint(p.interest, reg);
    for (let i = 0; i < reg.count; i++) {
      const eid = reg.list[i];
      if (h.views.isRelevant(p, eid, view)) {
        p.learn(eid);
        entities.push(eid);
      }
    }
    return entities;
  }
}
