/**
 * Client side of replication: mirrors the server's entities into the local world (spawn, despawn, component
 * add/remove, atomic snapshots), applies deltas in order of their dependencies, and sends the writes to the
 * entities this client owns back to the server with the same delivery guarantees.
 */
import { hasBucket } from './bucket-mask.ts';
import { encodeMessage } from '../codec/message-frame.ts';
import { encodeBody } from '../codec/msgpack-body.ts';
import type { Clock } from '../clock.ts';
import { type ErrorHandler, NetError } from '../errors.ts';
import { Emitter, type ReplicationEvents } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import type { Protocol } from '../register.ts';
import type { ClientSession } from '../session/client-session.ts';
import { applyWireValue as applyWire, type EntityMapper } from './compiled-field.ts';
import { DeliveryState } from './delivery-state.ts';
import {
  applyEntityUpdates,
  type ApplyResult,
  createPackScratch,
  type DeltaInfo,
  type PackScratch,
  readDeltaHeader,
  writeDelta,
} from './delta-packer.ts';
import { EntityRegistry } from './entity-registry.ts';
import { readFullEntity } from './full-state.ts';
import { ReliableLane } from './reliable-deltas.ts';
import { HeldDeltas } from './held-deltas.ts';
import { ReferenceLinks } from './reference-links.ts';
import { PendingReferences } from './pending-references.ts';
import { INITIAL_ENTITY_CAPACITY, ShadowStore } from './shadow-store.ts';
import { type AssembledSnapshot, SnapshotAssembler } from './snapshot-assembler.ts';
import { TickWindow } from './tick-window.ts';
import { bucketOf } from './state-hash.ts';
import { writeOwnerHash } from './owner-hash.ts';
import { ClientHashCheck, readStateHash } from './client-hash-check.ts';
import { beginMessage, BitReader, BitWriter, DESPAWN_OUT_OF_INTEREST, openBody } from './wire-bodies.ts';
import type { ClientExtension } from './extension.ts';
import { CatchUpClient } from './catch-up-client.ts';
import type { WorldAdapter } from './world-adapter.ts';
import { type ClientBaselineDecoder, clientBaselinesFor } from './baseline-block.ts';

/** Send ticks between two OwnerHash checks of this client's owned state (~1 s at 30 Hz). */
export const OWNER_HASH_EVERY_TICKS = 30;

/** Options of the client replicator. */
export interface ClientReplicatorOptions {
  protocol: Protocol;
  session: ClientSession;
  world: WorldAdapter;
  onError?: ErrorHandler;
  /** Local clock, for the tick window's elapsed-time allowance (without it only the fixed lead applies). */
  clock?: Clock;
  /** Cap on references waiting for an entity not here (default DEFAULT_MAX_UNRESOLVED_REFS). */
  maxUnresolvedRefs?: number;
}

/** Client half of the replication layer. */
export class ClientReplicator {
  readonly protocol: Protocol;
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly delivery: DeliveryState;
  readonly events = new Emitter<ReplicationEvents>();
  /** Authority sequence per network id, as the last OwnershipGrant said (absent: unchanged since it arrived). */
  readonly authoritySeq = new Map<number, number>();
  /** Extensions, in the order they were added. */
  readonly extensions: ClientExtension[] = [];
  /** Unreliable bytes per packet left to extensions (e.g. pose streams) after the delta. */
  reservedBytes = 0;
  tick = 0;
  /** Counters for stats. */
  readonly counters = {
    heldDeltas: 0,
    droppedHeldDeltas: 0,
    decodeErrors: 0,
    snapshots: 0,
    hashChecks: 0,
    hashMismatches: 0,
    /** Messages refused for a tick beyond the tick window (see tick-window.ts). */
    futureTicks: 0,
    /** References waiting for an entity not here (updated each receive). */
    unresolvedRefs: 0,
    /** References refused because that table was full (the field stays null until its bucket is resynced). */
    droppedRefs: 0,
    /** Reliable Deltas queued for owned entities (components with a short-string field). */
    reliableDeltas: 0,
    /** Delta components dropped for naming a baseline tick not held (ackedbase; the state-hash resync repairs). */
    baselineMissing: 0,
  };
  /** Deltas against acked baselines, once the server granted `ackedbase` (history kept across resumes). */
  private baselines: ClientBaselineDecoder | undefined;
  /** Some component has a short-string field: its owner writes go out as reliable Deltas. */
  readonly reliableLane: ReliableLane | null;
  private readonly session: ClientSession;
  private readonly world: WorldAdapter;
  private readonly onError: ErrorHandler | undefined;
  private readonly clock: Clock | null;
  /** Bounds the server ticks this client accepts (a far-future tick would block fields for good). */
  private readonly serverTicks = new TickWindow();
  private readonly reader = new BitReader();
  private readonly writer = new BitWriter(2048);
  private readonly scratch: PackScratch;
  private readonly info: DeltaInfo = { tick: 0, dependsOn: 0, count: 0 };
  private readonly result: ApplyResult = { ok: true, applied: 0, forbidden: 0, unknown: 0 };
  private readonly held = new HeldDeltas();
  private readonly snapshots = new SnapshotAssembler();
  private ownerEpoch = 0;
  private readonly hashCheck: ClientHashCheck;
  private ownedTracked: Uint8Array = new Uint8Array(0);
  private readonly mapper: EntityMapper;
  /** References to entities not here (not spawned yet, out of interest), resolved when they arrive. */
  private readonly pendingRefs: PendingReferences;
  private readonly refs: ReferenceLinks;
  /** Resume catch-up: lastSeq, the Resync, the Deltas batch (logic in catch-up-client.ts). */
  readonly catchUp: CatchUpClient;

  constructor(options: ClientReplicatorOptions) {
    this.protocol = options.protocol;
    this.session = options.session;
    this.world = options.world;
    this.onError = options.onError;
    this.clock = options.clock ?? null;
    const n = this.protocol.components.length;
    this.registry = new EntityRegistry(n, INITIAL_ENTITY_CAPACITY);
    this.mapper = {
      toNet: (eid) => this.registry.toNet(eid),
      toLocal: (netId) => this.registry.toLocal(netId),
      unresolved: (eid, f, netId) => this.refs.pend(eid, f, netId),
    };
    this.pendingRefs = new PendingReferences(this.protocol.components, options.maxUnresolvedRefs);
    this.shadow = new ShadowStore(this.protocol.components, this.mapper);
    this.refs = new ReferenceLinks(this.pendingRefs, this.registry, this.shadow, this.onError);
    this.hashCheck = new ClientHashCheck(this.protocol.components, this.registry, this.shadow, this.mapper);
    this.delivery = new DeliveryState(n, INITIAL_ENTITY_CAPACITY);
    this.ownerWriteExcluded = new Uint8Array(n);
    this.scratch = createPackScratch(this.protocol.components);
    this.reliableLane = ReliableLane.create(
      this.writer,
      this.scratch,
      this.protocol.components,
      this.shadow,
      this.registry,
    );
    this.shadow.onInvalidString = (f, eid, why) =>
      this.onError?.(new NetError('InvalidString', `field '${f.name}' of entity ${eid} ${why}; not replicated`));
    this.catchUp = this.createCatchUp();
    this.session.setHandler({
      welcomed: (welcome) => this.onWelcomed(welcome.resumed),
      message: (tag, msg, seq) => this.onMessage(tag, msg, seq),
      acked: (seq) => {
        this.delivery.acked(seq);
        for (const x of this.extensions) x.acked?.(seq);
      },
      lost: (seq) => {
        this.delivery.lost(seq, this.ownedMask());
        for (const x of this.extensions) x.lost?.(seq);
      },
    });
  }

  /** Components (by index) whose owner writes an extension streams itself (e.g. VR poses); the generic Delta skips them. */
  readonly ownerWriteExcluded: Uint8Array;

  /** A new connection (first or resumed): whatever was in flight on the old one is void. */
  private onWelcomed(resumed: boolean): void {
    this.baselines = clientBaselinesFor(
      this.session.welcome?.capabilities ?? [],
      this.protocol.components,
      this.baselines,
    );
    const resync = this.catchUp.welcomed(resumed, this.held.take());
    if (resync !== null) this.session.connection?.sendReliable(resync);
    this.snapshots.reset();
    this.ownerEpoch = 0;
    this.serverTicks.reset();
    this.delivery.reset();
    // Re-send everything this client owns: the server may have missed writes while the link was down.
    this.remarkOwned();
  }

  /** Marks every field of every owned entity pending, so the server gets all of it again. */
  private remarkOwned(): void {
    const reg = this.registry;
    const me = this.clientId;
    const comps = this.protocol.components;
    for (let i = 0; i < reg.count; i++) {
      const eid = reg.list[i];
      if (reg.owner[eid] !== me) continue;
      for (let c = 0; c < comps.length; c++) {
        if (reg.has[c][eid] && comps[c].fields.length > 0 && !this.ownerWriteExcluded[c])
          this.delivery.mark(eid, c, comps[c].allFieldsMask);
      }
    }
  }

  /** This client's id (0 before Welcome). */
  get clientId(): number {
    return this.session.clientId;
  }

  /** True when this client owns `eid` and so writes it. */
  isOwned(eid: number): boolean {
    return this.registry.isReplicated(eid) && this.registry.owner[eid] === this.clientId && this.clientId !== 0;
  }

  private ownedMask(): Uint8Array {
    const reg = this.registry;
    if (this.ownedTracked.length < reg.capacity) this.ownedTracked = new Uint8Array(reg.capacity);
    const t = this.ownedTracked;
    t.fill(0);
    const me = this.clientId;
    for (let i = 0; i < reg.count; i++) if (reg.owner[reg.list[i]] === me) t[reg.list[i]] = 1;
    return t;
  }

  /** False (counted, reported) when the server claims a tick too far ahead of what it sent so far. */
  private plausibleTick(tick: number): boolean {
    if (this.serverTicks.accept(tick, this.clock?.now() ?? 0)) return true;
    this.counters.futureTicks++;
    this.report('DecodeError', `tick ${tick} too far ahead of the server's ticks so far; message dropped`);
    return false;
  }

  private report(code: 'DecodeError' | 'UnknownEntity', message: string): void {
    this.counters.decodeErrors += code === 'DecodeError' ? 1 : 0;
    this.onError?.(new NetError(code, message));
  }

  /** Processes everything received since the last call, then the deltas whose dependencies arrived. */
  receive(): void {
    this.session.receive();
    this.releaseHeld();
    this.counters.unresolvedRefs = this.pendingRefs.size;
    this.counters.droppedRefs = this.pendingRefs.dropped;
    this.counters.baselineMissing = this.baselines?.missing ?? 0;
  }

  private onMessage(tag: number, msg: Uint8Array, packetSeq: number): void {
    const r = this.reader;
    openBody(r, msg);
    switch (tag) {
      case Tag.Delta:
        return this.onDelta(msg);
      case Tag.Spawn:
        return this.onSpawn(r);
      case Tag.Snapshot:
        return this.onSnapshotChunk(r, msg);
      case Tag.Deltas:
        return this.catchUp.accept(r, msg);
      case Tag.Despawn:
        return this.onDespawn(r);
      case Tag.ComponentAdd:
        return this.onComponentAdd(r);
      case Tag.ComponentRemove:
        return this.onComponentRemove(r);
      case Tag.OwnershipGrant:
        return this.onOwnership(r);
      case Tag.StateHash:
        return this.onStateHash(r);
      case Tag.ResyncRequest:
        // The server found our owned state diverged (or our owner stream gapped): send all of it again.
        return this.remarkOwned();
      case Tag.OwnerCorrection:
        return this.onOwnerCorrection(r);
      default:
        for (const x of this.extensions) if (x.message?.(tag, msg, packetSeq)) return;
      // Unknown tags are skipped: a newer server may send messages this client does not know.
    }
  }

  // ── state from the server ──────────────────────────────────────────────────────────────────────────

  private onDelta(msg: Uint8Array): void {
    const r = this.reader;
    if (!readDeltaHeader(r, this.info)) return this.report('DecodeError', 'malformed Delta header');
    if (!this.plausibleTick(this.info.tick)) return;
    const conn = this.session.connection;
    if (conn && !conn.isReliableDelivered(this.info.dependsOn)) {
      if (!this.held.hold(msg))
        this.report('DecodeError', 'too many deltas waiting for reliable messages; oldest dropped');
      this.counters.heldDeltas = this.held.heldTotal;
      this.counters.droppedHeldDeltas = this.held.dropped;
      return;
    }
    // Held deltas whose reliable messages arrived go first: a residual may name the tick of one of them.
    if (this.baselines !== undefined && this.held.size > 0) {
      this.releaseHeld();
      openBody(r, msg);
      readDeltaHeader(r, this.info);
    }
    this.applyDelta(r);
  }

  private applyDelta(r: BitReader): void {
    const me = this.clientId;
    const owner = this.registry.owner;
    applyEntityUpdates(
      r,
      this.info,
      this.scratch,
      this.protocol.components,
      this.shadow,
      this.registry,
      this.mapper,
      { canWrite: (eid) => owner[eid] !== me, updateShadow: true, baselines: this.baselines },
      this.result,
    );
    if (!this.result.ok) this.report('DecodeError', 'malformed Delta dropped');
  }

  private releaseHeld(): void {
    const conn = this.session.connection;
    if (this.held.size === 0 || !conn) return;
    const r = this.reader;
    this.held.release((msg) => {
      openBody(r, msg);
      readDeltaHeader(r, this.info);
      if (!conn.isReliableDelivered(this.info.dependsOn)) return false;
      this.applyDelta(r);
      return true;
    });
  }

  /** Creates or updates entities from full-state records: pass 1 creates, pass 2 applies values. */
  private applyFullEntities(
    r: BitReader,
    count: number,
    tick: number,
    seen: Set<number> | null,
    aligned = false,
  ): boolean {
    const s = this.scratch;
    const comps = this.protocol.components;
    const start = r.bitPosition;
    // 1. validate and create entities and components (so references inside the batch resolve)
    for (let i = 0; i < count; i++) {
      if (readFullEntity(r, s, comps) < 0) return false;
      if (aligned) r.alignToByte();
    }
    if (!r.ok) return false;
    r.seekBits(start);
    // A snapshot does not overwrite what this client already owned (it is ahead of the server, e.g. after a
    // resume: its writes made while cut are on their way); components new to such an entity take the server's.
    let kept: Map<number, Uint8Array> | null = null;
    for (let i = 0; i < count; i++) {
      const netId = readFullEntity(r, s, comps);
      if (aligned) r.alignToByte();
      seen?.add(netId);
      const prior = this.registry.toLocal(netId);
      if (seen !== null && prior !== 0 && this.isOwned(prior))
        (kept ??= new Map()).set(
          netId,
          Uint8Array.from(this.registry.has, (h) => h[prior]),
        );
      this.ensureEntity(netId, s.present, s.owner, true);
    }
    // 2. values
    r.seekBits(start);
    for (let i = 0; i < count; i++) {
      const netId = readFullEntity(r, s, comps);
      if (aligned) r.alignToByte();
      this.applyValues(this.registry.toLocal(netId), tick, kept?.get(netId) ?? null);
    }
    return true;
  }

  private ensureEntity(netId: number, present: Uint8Array, owner: number, exact: boolean): number {
    const reg = this.registry;
    let eid = reg.toLocal(netId);
    let created = false;
    if (eid === 0) {
      eid = this.world.createEntity();
      reg.add(eid, netId);
      this.shadow.ensure(eid);
      this.delivery.ensure(eid);
      created = true;
    }
    for (let c = 0; c < present.length; c++) {
      if (present[c] && !reg.has[c][eid]) {
        this.world.addComponent(eid, c);
        reg.has[c][eid] = 1;
      } else if (exact && !present[c] && reg.has[c][eid]) {
        this.world.removeComponent(eid, c);
        reg.has[c][eid] = 0;
        this.shadow.clear(c, eid);
      }
    }
    if (created) {
      this.refs.resolve(netId, eid);
      this.events.emit('spawn', eid, netId);
    }
    this.setOwner(eid, owner);
    return eid;
  }

  private applyValues(eid: number, tick: number, keep: Uint8Array | null = null): void {
    const s = this.scratch;
    const comps = this.protocol.components;
    for (let c = 0; c < comps.length; c++) {
      if (!s.present[c] || (keep !== null && keep[c] === 1)) continue;
      const fields = comps[c].fields;
      const base = s.offsets[c];
      for (let f = 0; f < fields.length; f++) {
        if (tick < this.shadow.tick[c][f][eid]) continue;
        this.shadow.tick[c][f][eid] = tick;
        const text = s.text.strings[base + f];
        this.shadow.wire[c][f][eid] = applyWire(fields[f], eid, s.values[base + f], this.mapper, s.quat, text);
        if (fields[f].strings !== null && this.isOwned(eid)) this.shadow.adoptString(c, f, eid);
      }
    }
  }

  private onSpawn(r: BitReader): void {
    const tick = r.readVarUint();
    const count = r.readVarUint();
    if (r.ok && !this.plausibleTick(tick)) return;
    if (!r.ok || !this.applyFullEntities(r, count, tick, null)) this.report('DecodeError', 'malformed Spawn');
    else this.catchUp.applied(tick);
  }

  private onSnapshotChunk(r: BitReader, msg: Uint8Array): void {
    const done = this.snapshots.accept(r, msg);
    if (typeof done === 'string') return this.report('DecodeError', done);
    if (done !== null) this.applySnapshot(done);
  }

  /**
   * Applies a complete snapshot at once; entities it does not list are removed (it is the whole truth), or,
   * for a partial snapshot, those of its hash buckets (other than this client's own).
   */
  private applySnapshot(snapshot: AssembledSnapshot): void {
    const seen = new Set<number>();
    const r = this.reader;
    let tick = 0;
    for (const chunk of snapshot.chunks) {
      r.reset(chunk, 0);
      tick = r.readVarUint();
      const count = r.readVarUint();
      if (!r.ok || !this.plausibleTick(tick) || !this.applyFullEntities(r, count, tick, seen, true)) {
        // Not the whole truth after all: removing what it does not list would drop live entities.
        return this.report('DecodeError', 'malformed Snapshot body');
      }
    }
    const reg = this.registry;
    const buckets = snapshot.buckets;
    if (buckets === null) this.catchUp.snapshotApplied();
    for (let i = reg.count - 1; i >= 0; i--) {
      const eid = reg.list[i];
      const netId = reg.netIdOf[eid];
      if (seen.has(netId)) continue;
      if (buckets !== null) {
        const b = bucketOf(netId);
        if (!hasBucket(buckets[0], buckets[1], b) || reg.owner[eid] === this.clientId) continue;
      }
      this.destroy(eid, false);
    }
    this.refs.unlink();
    this.counters.snapshots++;
    this.catchUp.applied(tick);
  }

  /** StateHash: compared at once, after the held deltas whose dependencies have arrived. */
  private onStateHash(r: BitReader): void {
    const hash = readStateHash(r);
    if (hash === null) return this.report('DecodeError', 'malformed StateHash');
    // Compare exactly here in the reliable stream: later structural messages must not be applied yet, and
    // deltas waiting for earlier reliable messages are applied first.
    this.releaseHeld();
    const [lo, hi] = this.hashCheck.diverged(hash, this.clientId);
    this.counters.hashChecks++;
    this.catchUp.applied(hash.tick);
    if (lo === 0 && hi === 0) return;
    this.counters.hashMismatches++;
    this.onError?.(new NetError('HashMismatch', 'state diverged from the server; asking for a resync'));
    const conn = this.session.connection;
    if (!conn) return;
    const w = this.writer;
    beginMessage(w, Tag.ResyncRequest);
    w.writeU32(lo >>> 0);
    w.writeU32(hi >>> 0);
    conn.sendReliable(w.toBytes());
  }

  private destroy(eid: number, outOfInterest: boolean): void {
    const netId = this.registry.netIdOf[eid];
    for (let c = 0; c < this.protocol.components.length; c++) this.shadow.clear(c, eid);
    this.delivery.forget(eid);
    this.baselines?.forget(eid);
    this.refs.destroying(eid);
    this.registry.remove(eid);
    if (!outOfInterest) this.authoritySeq.delete(netId);
    this.world.destroyEntity(eid);
    this.events.emit('despawn', eid, netId, outOfInterest);
  }

  private onDespawn(r: BitReader): void {
    const count = r.readVarUint();
    if (!r.ok || count > r.remainingBits) return this.report('DecodeError', 'malformed Despawn');
    for (let i = 0; i < count; i++) {
      const netId = r.readVarUint();
      const reason = r.readBits(1);
      if (!r.ok) {
        this.refs.unlink();
        return this.report('DecodeError', 'malformed Despawn');
      }
      const eid = this.registry.toLocal(netId);
      if (eid !== 0) this.destroy(eid, reason === DESPAWN_OUT_OF_INTEREST);
    }
    this.refs.unlink();
  }

  private onComponentAdd(r: BitReader): void {
    const tick = r.readVarUint();
    const s = this.scratch;
    const netId = readFullEntity(r, s, this.protocol.components);
    if (netId < 0 || !r.ok) return this.report('DecodeError', 'malformed ComponentAdd');
    if (!this.plausibleTick(tick)) return;
    const eid = this.registry.toLocal(netId);
    if (eid === 0) return this.report('UnknownEntity', `ComponentAdd for unknown entity ${netId}`);
    this.ensureEntity(netId, s.present, this.registry.owner[eid], false);
    this.applyValues(eid, tick);
    this.catchUp.applied(tick);
  }

  /** The server refused or clamped writes to entities we own: take its values for those components. */
  private onOwnerCorrection(r: BitReader): void {
    const tick = r.readVarUint();
    const count = r.readVarUint();
    const s = this.scratch;
    const comps = this.protocol.components;
    const start = r.bitPosition;
    // 1. validate every record before applying any
    for (let i = 0; i < count; i++)
      if (readFullEntity(r, s, comps) < 0 || !r.ok) return this.report('DecodeError', 'malformed OwnerCorrection');
    if (!r.ok) return this.report('DecodeError', 'malformed OwnerCorrection');
    // 2. apply to the entities this client still owns
    r.seekBits(start);
    const has = this.registry.has;
    for (let i = 0; i < count; i++) {
      const eid = this.registry.toLocal(readFullEntity(r, s, comps));
      if (eid === 0 || !this.isOwned(eid)) continue;
      for (let c = 0; c < comps.length; c++) if (has[c][eid] === 0) s.present[c] = 0;
      this.applyValues(eid, tick);
    }
  }

  private onComponentRemove(r: BitReader): void {
    const netId = r.readVarUint();
    const c = r.readVarUint();
    if (!r.ok || c >= this.protocol.components.length) return this.report('DecodeError', 'malformed ComponentRemove');
    const eid = this.registry.toLocal(netId);
    if (eid === 0 || !this.registry.has[c][eid]) return;
    this.registry.has[c][eid] = 0;
    this.shadow.clear(c, eid);
    this.delivery.forgetComponent(eid, c);
    this.world.removeComponent(eid, c);
  }

  private onOwnership(r: BitReader): void {
    const netId = r.readVarUint();
    const owner = r.readVarUint();
    const seq = r.readVarUint();
    if (!r.ok) return this.report('DecodeError', 'malformed OwnershipGrant');
    const eid = this.registry.toLocal(netId);
    if (eid === 0) return;
    if (seq > (this.authoritySeq.get(netId) ?? 0)) this.authoritySeq.set(netId, seq);
    this.setOwner(eid, owner);
  }

  private setOwner(eid: number, owner: number): void {
    const reg = this.registry;
    const previous = reg.owner[eid];
    if (previous === owner) return;
    reg.owner[eid] = owner;
    if (owner === this.clientId) {
      // From now on local writes are the truth: start diffing from the current values.
      for (let c = 0; c < this.protocol.components.length; c++) if (reg.has[c][eid]) this.shadow.capture(c, eid);
    } else this.delivery.forget(eid);
    this.events.emit('ownership', eid, owner);
  }

  // ── resume catch-up hooks (the logic is in catch-up-client.ts) ─────────────────────────────────────
  private createCatchUp(): CatchUpClient {
    return new CatchUpClient(
      {
        registry: this.registry,
        plausibleTick: (tick) => this.plausibleTick(tick),
        applyFullEntities: (r, count, tick, seen) => this.applyFullEntities(r, count, tick, seen, true),
        despawn: (netId, outOfInterest) => {
          const eid = this.registry.toLocal(netId);
          if (eid !== 0) this.destroy(eid, outOfInterest);
        },
        unlinkDestroyed: () => this.refs.unlink(),
        applyOrphan: (msg) => {
          openBody(this.reader, msg);
          if (readDeltaHeader(this.reader, this.info)) this.applyDelta(this.reader);
        },
        askFullResync: () => {
          const w = this.writer;
          beginMessage(w, Tag.ResyncRequest);
          w.writeU32(0xffffffff);
          w.writeU32(0xffffffff);
          this.session.connection?.sendReliable(w.toBytes());
        },
      },
      this.onError,
    );
  }
  // ── end of catch-up hooks ──────────────────────────────────────────────────────────────────────────

  // ── requests to the server ─────────────────────────────────────────────────────────────────────────

  /** Asks the server to subscribe this client to a scope, or to unsubscribe. */
  requestScope(scope: string, subscribed: boolean): void {
    this.session.connection?.sendReliable(
      encodeMessage(subscribed ? Tag.Subscribe : Tag.Unsubscribe, encodeBody({ scope })),
    );
  }

  /** Asks the server to pause (false) or resume (true) updates of an entity or a scope for this client. */
  requestReceive(target: { eid: number } | { scope: string }, on: boolean): void {
    const body =
      'eid' in target ? { netId: this.registry.toNet(target.eid), receive: on } : { scope: target.scope, receive: on };
    this.session.connection?.sendReliable(encodeMessage(Tag.Subscribe, encodeBody(body)));
  }

  // ── owner writes to the server ─────────────────────────────────────────────────────────────────────

  /** Diffs every owned entity against its shadow and marks the changes for the server. */
  detectChanges(): void {
    const me = this.clientId;
    if (me === 0) return;
    const reg = this.registry;
    const comps = this.protocol.components;
    for (let i = 0; i < reg.count; i++) {
      const eid = reg.list[i];
      if (reg.owner[eid] !== me) continue;
      for (let c = 0; c < comps.length; c++) {
        if (reg.has[c][eid] === 0 || comps[c].fields.length === 0 || this.ownerWriteExcluded[c]) continue;
        const mask = this.shadow.detect(c, eid);
        if (mask !== 0) this.delivery.mark(eid, c, mask);
      }
    }
  }

  /** OwnerHash (owner-hash.ts): the hash of what this client sent for its entities, once all of it is settled. */
  private sendOwnerHash(): void {
    const conn = this.session.connection;
    if (!conn || this.clientId === 0) return;
    const { protocol, registry, shadow, delivery } = this;
    const body = { epoch: this.ownerEpoch, tick: this.tick };
    const msg = writeOwnerHash(
      this.writer,
      body,
      this.clientId,
      protocol.components,
      registry,
      shadow,
      delivery,
      this.ownerWriteExcluded,
    );
    if (msg === null) return;
    this.ownerEpoch++;
    conn.sendReliable(msg);
  }

  /** Sends this tick's owner writes (one Delta) and flushes the connection. */
  send(): void {
    const conn = this.session.connection;
    if (!conn) return;
    this.tick++;
    if (this.session.state === 'connected') {
      if (this.reliableLane !== null && this.delivery.dirtyCount > 0)
        this.counters.reliableDeltas += this.reliableLane.send(this.delivery, conn, this.tick, conn.lastReliableIdSent);
      const delta = writeDelta(
        this.writer,
        this.scratch,
        this.protocol.components,
        this.shadow,
        this.registry,
        this.delivery,
        {
          tick: this.tick,
          dependsOn: conn.lastReliableIdSent,
          budgetBytes: conn.unreliableSpaceBytes() - this.reservedBytes,
        },
      );
      if (delta !== null && !conn.sendUnreliable(delta)) this.delivery.untake();
      if (this.tick % OWNER_HASH_EVERY_TICKS === 0) this.sendOwnerHash();
      for (const x of this.extensions) x.send?.(conn, this.tick);
    }
    const seq = conn.flush();
    if (seq >= 0) this.delivery.commit(seq);
    else this.delivery.untake();
  }
}
