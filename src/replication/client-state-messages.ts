/**
 * The server's structural messages on the client: Spawn, Snapshot chunks (applied atomically once complete),
 * Despawn, ComponentAdd and ComponentRemove, OwnershipGrant and OwnerCorrection. Each body is validated before
 * anything of it is applied (bodies in wire-bodies.ts); the entities themselves change in entity-mirror.ts.
 */
import type { RegisteredComponent } from '../register.ts';
import { hasBucket } from './bucket-mask.ts';
import type { CatchUpClient } from './catch-up-client.ts';
import type { DeliveryState } from './delivery-state.ts';
import type { PackScratch } from './delta-packer.ts';
import type { EntityMirror } from './entity-mirror.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { readFullEntity } from './full-state.ts';
import type { ReferenceLinks } from './reference-links.ts';
import type { ShadowStore } from './shadow-store.ts';
import type { AssembledSnapshot, SnapshotAssembler } from './snapshot-assembler.ts';
import { bucketOf } from './state-hash.ts';
import { type BitReader, DESPAWN_OUT_OF_INTEREST } from './wire-bodies.ts';
import type { WorldAdapter } from './world-adapter.ts';

/** What the structural messages are applied to and reported through. */
export interface ClientStateMessagesHost {
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly delivery: DeliveryState;
  readonly scratch: PackScratch;
  readonly mirror: EntityMirror;
  readonly refs: ReferenceLinks;
  readonly world: WorldAdapter;
  readonly authoritySeq: Map<number, number>;
  readonly snapshots: SnapshotAssembler;
  readonly catchUp: CatchUpClient;
  readonly counters: { snapshots: number };
  /** Reused to read snapshot chunks. */
  readonly reader: BitReader;
  /** This client's id (0 before Welcome). */
  clientId(): number;
  /** False (counted, reported) when the server claims a tick too far ahead of what it sent so far. */
  plausibleTick(tick: number): boolean;
  report(code: 'DecodeError' | 'UnknownEntity', message: string): void;
}

/** Applies the server's structural messages to the local mirror. */
export class ClientStateMessages {
  private readonly h: ClientStateMessagesHost;

  constructor(host: ClientStateMessagesHost) {
    this.h = host;
  }

  /** Spawn: full-state records of new entities. */
  onSpawn(r: BitReader): void {
    const h = this.h;
    const tick = r.readVarUint();
    const count = r.readVarUint();
    if (r.ok && !h.plausibleTick(tick)) return;
    if (!r.ok || !h.mirror.applyFullEntities(r, count, tick, null)) h.report('DecodeError', 'malformed Spawn');
    else h.catchUp.applied(tick);
  }

  /** One Snapshot chunk; the snapshot is applied when its last chunk arrives. */
  onSnapshotChunk(r: BitReader, msg: Uint8Array): void {
    const done = this.h.snapshots.accept(r, msg);
    if (typeof done === 'string') return this.h.report('DecodeError', done);
    if (done !== null) this.applySnapshot(done);
  }

  /**
   * Applies a complete snapshot at once; entities it does not list are removed (it is the whole truth), or,
   * for a partial snapshot, those of its hash buckets (other than this client's own).
   */
  private applySnapshot(snapshot: AssembledSnapshot): void {
    const h = this.h;
    const seen = new Set<number>();
    const r = h.reader;
    let tick = 0;
    for (const chunk of snapshot.chunks) {
      r.reset(chunk, 0);
      tick = r.readVarUint();
      const count = r.readVarUint();
      if (!r.ok || !h.plausibleTick(tick) || !h.mirror.applyFullEntities(r, count, tick, seen, true)) {
        // Not the whole truth after all: removing what it does not list would drop live entities.
        return h.report('DecodeError', 'malformed Snapshot body');
      }
    }
    const reg = h.registry;
    const buckets = snapshot.buckets;
    if (buckets === null) h.catchUp.snapshotApplied();
    for (let i = reg.count - 1; i >= 0; i--) {
      const eid = reg.list[i];
      const netId = reg.netIdOf[eid];
      if (seen.has(netId)) continue;
      if (buckets !== null) {
        const b = bucketOf(netId);
        if (!hasBucket(buckets[0], buckets[1], b) || reg.owner[eid] === h.clientId()) continue;
      }
      h.mirror.destroy(eid, false);
    }
    h.refs.unlink();
    h.counters.snapshots++;
    h.catchUp.applied(tick);
  }

  /** Despawn: entities destroyed on the server or out of this client's interest. */
  onDespawn(r: BitReader): void {
    const h = this.h;
    const count = r.readVarUint();
    if (!r.ok || count > r.remainingBits) return h.report('DecodeError', 'malformed Despawn');
    for (let i = 0; i < count; i++) {
      const netId = r.readVarUint();
      const reason = r.readBits(1);
      if (!r.ok) {
        h.refs.unlink();
        return h.report('DecodeError', 'malformed Despawn');
      }
      const eid = h.registry.toLocal(netId);
      if (eid !== 0) h.mirror.destroy(eid, reason === DESPAWN_OUT_OF_INTEREST);
    }
    h.refs.unlink();
  }

  /** ComponentAdd: one entity's added component, with its values. */
  onComponentAdd(r: BitReader): void {
    const h = this.h;
    const tick = r.readVarUint();
    const s = h.scratch;
    const netId = readFullEntity(r, s, h.comps);
    if (netId < 0 || !r.ok) return h.report('DecodeError', 'malformed ComponentAdd');
    if (!h.plausibleTick(tick)) return;
    const eid = h.registry.toLocal(netId);
    if (eid === 0) return h.report('UnknownEntity', `ComponentAdd for unknown entity ${netId}`);
    h.mirror.ensureEntity(netId, s.present, h.registry.owner[eid], false);
    h.mirror.applyValues(eid, tick);
    h.catchUp.applied(tick);
  }

  /** The server refused or clamped writes to entities we own: take its values for those components. */
  onOwnerCorrection(r: BitReader): void {
    const h = this.h;
    const tick = r.readVarUint();
    const count = r.readVarUint();
    const s = h.scratch;
    const comps = h.comps;
    const start = r.bitPosition;
    // 1. validate every record before applying any
    for (let i = 0; i < count; i++)
      if (readFullEntity(r, s, comps) < 0 || !r.ok) return h.report('DecodeError', 'malformed OwnerCorrection');
    if (!r.ok) return h.report('DecodeError', 'malformed OwnerCorrection');
    // 2. apply to the entities this client still owns
    r.seekBits(start);
    const has = h.registry.has;
    for (let i = 0; i < count; i++) {
      const eid = h.registry.toLocal(readFullEntity(r, s, comps));
      if (eid === 0 || !h.mirror.isOwned(eid)) continue;
      for (let c = 0; c < comps.length; c++) if (has[c][eid] === 0) s.present[c] = 0;
      h.mirror.applyValues(eid, tick);
    }
  }

  /** ComponentRemove: one entity lost a component. */
  onComponentRemove(r: BitReader): void {
    const h = this.h;
    const netId = r.readVarUint();
    const c = r.readVarUint();
    if (!r.ok || c >= h.comps.length) return h.report('DecodeError', 'malformed ComponentRemove');
    const eid = h.registry.toLocal(netId);
    if (eid === 0 || !h.registry.has[c][eid]) return;
    h.registry.has[c][eid] = 0;
    h.shadow.clear(c, eid);
    h.delivery.forgetComponent(eid, c);
    h.world.removeComponent(eid, c);
  }

  /** OwnershipGrant: an entity's new owner and authority sequence. */
  onOwnership(r: BitReader): void {
    const h = this.h;
    const netId = r.readVarUint();
    const owner = r.readVarUint();
    const seq = r.readVarUint();
    if (!r.ok) return h.report('DecodeError', 'malformed OwnershipGrant');
    const eid = h.registry.toLocal(netId);
    if (eid === 0) return;
    if (seq > (h.authoritySeq.get(netId) ?? 0)) h.authoritySeq.set(netId, seq);
    h.mirror.setOwner(eid, owner);
  }
}
