/**
 * Client side of replication, the composer of its parts: mirrors the server's entities into the local world
 * (entity-mirror.ts; spawn, despawn, component add/remove, atomic snapshots in client-state-messages.ts),
 * applies deltas in order of their dependencies, checks state hashes, and sends the writes to the entities this
 * client owns back to the server with the same delivery guarantees (owner-write-sender.ts).
 */
import { encodeMessage } from '../codec/message-frame.ts';
import { encodeBody } from '../codec/msgpack-body.ts';
import type { Clock } from '../clock.ts';
import { type ErrorHandler, NetError } from '../errors.ts';
import { Emitter, type ReplicationEvents } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import type { Protocol } from '../register.ts';
import type { ClientSession } from '../session/client-session.ts';
import type { EntityMapper } from './compiled-field.ts';
import { DeliveryState } from './delivery-state.ts';
import { createPackScratch, type PackScratch } from './delta-packer.ts';
import { EntityRegistry } from './entity-registry.ts';
import { ReliableLane } from './reliable-deltas.ts';
import { ReferenceLinks } from './reference-links.ts';
import { PendingReferences } from './pending-references.ts';
import { INITIAL_ENTITY_CAPACITY, ShadowStore } from './shadow-store.ts';
import { SnapshotAssembler } from './snapshot-assembler.ts';
import { TickWindow } from './tick-window.ts';
import { EntityMirror } from './entity-mirror.ts';
import { ClientStateMessages } from './client-state-messages.ts';
import { OwnerWriteSender } from './owner-write-sender.ts';
import { DeltaReceiver } from './delta-receiver.ts';
import {
  type ClientReplicationCounters,
  type ClientReplicatorOptions,
  createClientCounters,
} from './client-replicator-options.ts';
import { ClientHashCheck, readStateHash } from './client-hash-check.ts';
import { beginMessage, BitReader, BitWriter, openBody } from './wire-bodies.ts';
import type { ClientExtension } from './extension.ts';
import { CatchUpClient } from './catch-up-client.ts';
import type { WorldAdapter } from './world-adapter.ts';
import { type ClientBaselineDecoder, clientBaselinesFor } from './client-baseline-decoder.ts';

export { OWNER_HASH_EVERY_TICKS } from './owner-write-sender.ts';
export type { ClientReplicationCounters, ClientReplicatorOptions } from './client-replicator-options.ts';

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
  readonly counters: ClientReplicationCounters = createClientCounters();
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
  private readonly snapshots = new SnapshotAssembler();
  private readonly hashCheck: ClientHashCheck;
  private ownedTracked: Uint8Array = new Uint8Array(0);
  private readonly mapper: EntityMapper;
  /** References to entities not here (not spawned yet, out of interest), resolved when they arrive. */
  private readonly pendingRefs: PendingReferences;
  private readonly refs: ReferenceLinks;
  /** Resume catch-up: lastSeq, the Resync, the Deltas batch (logic in catch-up-client.ts). */
  readonly catchUp: CatchUpClient;
  /** The local copies of the server's entities (entity-mirror.ts). */
  private readonly mirror: EntityMirror;
  /** Spawn, Snapshot, Despawn, component and ownership messages (client-state-messages.ts). */
  private readonly messages: ClientStateMessages;
  /** Owner writes and their OwnerHash (owner-write-sender.ts). */
  private readonly ownerWrites: OwnerWriteSender;
  /** Deltas from the server, held until what they depend on arrives (delta-receiver.ts). */
  private readonly deltas: DeltaReceiver;
  /** Deltas against acked baselines, once the server granted `ackedbase` (history kept across resumes). */
  private baselines: ClientBaselineDecoder | undefined;

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
    const { registry, shadow, delivery, scratch, writer, refs, mapper, events, authoritySeq, counters } = this;
    const comps = this.protocol.components;
    const clientId = () => this.session.clientId;
    const world = this.world;
    const state = { comps, registry, shadow, delivery, scratch, clientId };
    const baselines = () => this.baselines;
    this.mirror = new EntityMirror({ ...state, mapper, refs, world, events, authoritySeq, baselines });
    this.catchUp = this.createCatchUp();
    this.messages = new ClientStateMessages({
      ...state,
      mirror: this.mirror,
      refs,
      world,
      authoritySeq,
      snapshots: this.snapshots,
      catchUp: this.catchUp,
      counters,
      reader: this.reader,
      plausibleTick: (tick) => this.plausibleTick(tick),
      report: (code, message) => this.report(code, message),
    });
    this.deltas = new DeltaReceiver({
      ...state,
      mapper,
      reader: this.reader,
      counters,
      connection: () => this.session.connection,
      baselines,
      plausibleTick: (tick) => this.plausibleTick(tick),
      report: (code, message) => this.report(code, message),
    });
    const { reliableLane, ownerWriteExcluded } = this;
    this.ownerWrites = new OwnerWriteSender({ ...state, writer, reliableLane, counters, ownerWriteExcluded });
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
    const capabilities = this.session.welcome?.capabilities ?? [];
    this.baselines = clientBaselinesFor(capabilities, this.protocol.components, this.baselines);
    const resync = this.catchUp.welcomed(resumed, this.deltas.takeHeld());
    if (resync !== null) this.session.connection?.sendReliable(resync);
    this.snapshots.reset();
    this.ownerWrites.resetEpoch();
    this.serverTicks.reset();
    this.delivery.reset();
    // Re-send everything this client owns: the server may have missed writes while the link was down.
    this.ownerWrites.remarkOwned();
  }

  /** This client's id (0 before Welcome). */
  get clientId(): number {
    return this.session.clientId;
  }

  /** True when this client owns `eid` and so writes it. */
  isOwned(eid: number): boolean {
    return this.mirror.isOwned(eid);
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
    this.deltas.releaseHeld();
    this.counters.unresolvedRefs = this.pendingRefs.size;
    this.counters.droppedRefs = this.pendingRefs.dropped;
    this.counters.baselineMissing = this.baselines?.missing ?? 0;
    this.counters.baselineRefused = this.baselines?.refused ?? 0;
  }

  private onMessage(tag: number, msg: Uint8Array, packetSeq: number): void {
    const r = this.reader;
    openBody(r, msg);
    switch (tag) {
      case Tag.Delta:
      case Tag.CoarseDelta:
      case Tag.BaselineDelta:
        return this.deltas.onDelta(msg);
      case Tag.Spawn:
        return this.messages.onSpawn(r);
      case Tag.Snapshot:
        return this.messages.onSnapshotChunk(r, msg);
      case Tag.Deltas:
        return this.catchUp.accept(r, msg);
      case Tag.Despawn:
        return this.messages.onDespawn(r);
      case Tag.ComponentAdd:
        return this.messages.onComponentAdd(r);
      case Tag.ComponentRemove:
        return this.messages.onComponentRemove(r);
      case Tag.OwnershipGrant:
        return this.messages.onOwnership(r);
      case Tag.StateHash:
        return this.onStateHash(r);
      case Tag.ResyncRequest:
        // The server found our owned state diverged (or our owner stream gapped): send all of it again.
        return this.ownerWrites.remarkOwned();
      case Tag.OwnerCorrection:
        return this.messages.onOwnerCorrection(r);
      default:
        for (const x of this.extensions) if (x.message?.(tag, msg, packetSeq)) return;
      // Unknown tags are skipped: a newer server may send messages this client does not know.
    }
  }

  // ── state from the server ──────────────────────────────────────────────────────────────────────────

  /** StateHash: compared at once, after the held deltas whose dependencies have arrived. */
  private onStateHash(r: BitReader): void {
    const hash = readStateHash(r);
    if (hash === null) return this.report('DecodeError', 'malformed StateHash');
    // Compare exactly here in the reliable stream: later structural messages must not be applied yet, and
    // deltas waiting for earlier reliable messages are applied first.
    this.deltas.releaseHeld();
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

  // ── resume catch-up hooks (the logic is in catch-up-client.ts) ─────────────────────────────────────
  private createCatchUp(): CatchUpClient {
    return new CatchUpClient(
      {
        registry: this.registry,
        plausibleTick: (tick) => this.plausibleTick(tick),
        applyFullEntities: (r, count, tick, seen) => this.mirror.applyFullEntities(r, count, tick, seen, true),
        despawn: (netId, outOfInterest) => {
          const eid = this.registry.toLocal(netId);
          if (eid !== 0) this.mirror.destroy(eid, outOfInterest);
        },
        unlinkDestroyed: () => this.refs.unlink(),
        applyOrphan: (msg) => this.deltas.applyOrphan(msg),
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
    this.ownerWrites.detect();
  }

  /** Sends this tick's owner writes (one Delta) and flushes the connection. */
  send(): void {
    const conn = this.session.connection;
    if (!conn) return;
    this.tick++;
    if (this.session.state === 'connected') {
      this.ownerWrites.send(conn, this.tick, this.reservedBytes);
      for (const x of this.extensions) x.send?.(conn, this.tick);
    }
    const seq = conn.flush();
    if (seq >= 0) this.delivery.commit(seq);
    else this.delivery.untake();
  }
}
