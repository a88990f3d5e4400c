/**
 * Server side of replication: announces spawns, despawns and component changes on the reliable lane, detects
 * field changes against the shadow each send tick, keeps a delivery state per client, decides each client's
 * interest, packs the most important pending changes into the packet and bandwidth budget, checks clients'
 * state by hash and resyncs what diverged, and applies owner writes (rejecting writes to others' entities).
 */
import { hasBucket, maskOf } from './bucket-mask.ts';
import { type ErrorHandler, NetError } from '../errors.ts';
import type { Clock } from '../clock.ts';
import { Emitter, type ReplicationEvents } from '../events.ts';
import { decodeBody } from '../codec/msgpack-body.ts';
import { asString, asUint, isRecord } from '../protocol/handshake.ts';
import { Tag } from '../protocol/tags.ts';
import type { Protocol } from '../register.ts';
import type { ServerPeer, ServerSession } from '../session/server-session.ts';
import { serverBaselinesFor } from './baseline-block.ts';
import {
  applyEntityUpdates,
  type ApplyResult,
  createPackScratch,
  type DeltaInfo,
  type PackScratch,
  readDeltaHeader,
  writeDelta,
} from './delta-packer.ts';
import { EntityRegistry, SERVER_OWNER } from './entity-registry.ts';
import type { Connection } from '../connection/connection.ts';
import type { ServerExtension } from './extension.ts';
import { SNAPSHOT_CHUNK_BYTES, writeFullEntity } from './full-state.ts';
import { ChangeSet } from './change-set.ts';
import { ClientViews } from './client-view.ts';
import { type InterestConfig, InterestIndex } from './interest.ts';
import { Op, PeerReplication } from './peer-replication.ts';
import { ChangeDetector } from './change-detector.ts';
import { ReliableLane } from './reliable-deltas.ts';
import { CatchUpServer, type CatchUpOptions } from './catch-up-server.ts';
import { ChangeKind } from './change-history.ts';
import { ResyncBudget, type ResyncBudgetOptions } from './resync-budget.ts';
import { resolveScopeLimits, type ScopeLimits } from './scope-names.ts';
import { INITIAL_ENTITY_CAPACITY, ShadowStore } from './shadow-store.ts';
import { type SnapshotFigures, writeSnapshot } from './snapshot-writer.ts';
import { BucketHashes, bucketOf, entityHash, HASH_BUCKETS } from './state-hash.ts';
import { matchesApplied, readOwnerHash } from './owner-hash.ts';
import { beginMessage, BitReader, BitWriter, DESPAWN_DESTROYED, openBody } from './wire-bodies.ts';
import type { WorldAdapter } from './world-adapter.ts';
import { OwnerWriteFilter } from './owner-write-filter.ts';
import { DEFAULT_BANDWIDTH_KBPS, type PriorityFn } from './send-priority.ts';
import { WriteGate } from './write-gate.ts';

export { PeerReplication } from './peer-replication.ts';
export { DEFAULT_BANDWIDTH_KBPS, defaultPriority, type PriorityFn } from './send-priority.ts';

/** Default state-hash period: once a second catches divergence fast at ~2 kbps per client. */
export const DEFAULT_HASH_INTERVAL_MS = 1000;

/** Smallest delta worth sending; below this the budget waits for more tokens. */
const MIN_DELTA_BYTES = 24;

/** Smallest bandwidth share worth a reliable Delta of strings: a name change with its framing takes ~40 bytes. */
const MIN_RELIABLE_SHARE_BYTES = 48;

/** Options of the server replicator. */
export interface ServerReplicatorOptions {
  protocol: Protocol;
  session: ServerSession;
  world: WorldAdapter;
  clock: Clock;
  onError?: ErrorHandler;
  interest?: InterestConfig;
  priority?: PriorityFn;
  /** Per-client downstream cap in kbps; 0 disables it. */
  bandwidthKbps?: number;
  /** Deflate snapshot chunks for clients that offered it. */
  compression?: boolean;
  /** State hash period; 0 disables it. */
  hashIntervalMs?: number;
  /** May this client subscribe to this scope on its own? Default: yes. */
  allowScope?: (clientId: number, scope: string) => boolean;
  /** Budget of resync work per client (see ResyncBudgetOptions for the defaults). */
  resync?: ResyncBudgetOptions;
  /** Bounds of scope names, in all and per client (see ScopeLimits for the defaults). */
  scopeLimits?: ScopeLimits;
  /** Bounds of the change history and of the resume catch-up (see CatchUpOptions for the defaults). */
  catchUp?: CatchUpOptions;
}

/** Counters of the server replicator, for stats. */
export interface ServerReplicationCounters {
  snapshots: number;
  snapshotRawBytes: number;
  snapshotSentBytes: number;
  resyncs: number;
  hashesSent: number;
  epochGaps: number;
  ownerHashMismatches: number;
  /** Owner Deltas refused for a tick beyond the tick window (see tick-window.ts). */
  futureTicks: number;
  /** Reliable Deltas queued (changes of components with a short-string field, see reliable-deltas.ts). */
  reliableDeltas: number;
}

/** Server half of the replication layer. */
export class ServerReplicator {
  readonly protocol: Protocol;
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly interest: InterestIndex;
  /** Each client's interest and the changes it pulls (client-view.ts). */
  readonly views: ClientViews;
  /** This tick's changes, shared by every client. */
  readonly changes: ChangeSet;
  readonly peers = new Map<number, PeerReplication>();
  readonly events = new Emitter<ReplicationEvents>();
  /** Authority sequence per network id: bumped on every ownership change, sent with each OwnershipGrant. */
  readonly authoritySeq = new Map<number, number>();
  /** Extensions, in the order they were added. */
  readonly extensions: ServerExtension[] = [];
  /** Resync work per client: coalesced requests, token buckets, unsolicited-request counts. */
  readonly resync: ResyncBudget;
  /** The gate every client write to a component goes through (rules: `addWriteRule`). */
  readonly writeGate: WriteGate;
  private readonly ownerFilter: OwnerWriteFilter;
  readonly counters: ServerReplicationCounters = {
    snapshots: 0,
    snapshotRawBytes: 0,
    snapshotSentBytes: 0,
    resyncs: 0,
    hashesSent: 0,
    epochGaps: 0,
    ownerHashMismatches: 0,
    futureTicks: 0,
    reliableDeltas: 0,
  };
  tick = 0;
  /** Unreliable bytes per packet left to extensions (e.g. pose streams) after the delta. */
  reservedBytes = 0;
  private readonly session: ServerSession;
  private readonly world: WorldAdapter;
  private readonly clock: Clock;
  private readonly onError: ErrorHandler | undefined;
  private readonly priority: PriorityFn | null;
  /** The per-client bandwidth cap in bytes per second; 0 when uncapped (layers take their share of it). */
  readonly bandwidthBytesPerSec: number;
  /** True when compression is on (a peer deflates only if it offered it too). */
  readonly compression: boolean;
  private readonly hashIntervalMs: number;
  private readonly allowScope: ((clientId: number, scope: string) => boolean) | null;
  private readonly scopeLimits: Required<ScopeLimits>;
  /** Deferred structural events: triples (op, netId, arg) resolved at the next send. */
  private deferred: number[] = [];
  private readonly writer = new BitWriter(2048);
  private readonly reader = new BitReader();
  private readonly scratch: PackScratch;
  private readonly deltaInfo: DeltaInfo = { tick: 0, dependsOn: 0, count: 0 };
  private readonly applyResult: ApplyResult = { ok: true, applied: 0, forbidden: 0, unknown: 0 };
  private readonly hashes = new BucketHashes();
  private snapshotId = 0;
  private nextInterestAtMs = 0;
  /** Change detection: raw scan, then wire values where something moved (change-detector.ts). */
  private readonly detector: ChangeDetector;
  /** Some component has a short-string field: its changes go out as reliable Deltas. */
  readonly reliableLane: ReliableLane | null;
  /** Resume catch-up: the room's change history and the resumed clients waiting for their Resync. */
  readonly catchUp: CatchUpServer;

  constructor(options: ServerReplicatorOptions) {
    this.protocol = options.protocol;
    this.session = options.session;
    this.world = options.world;
    this.clock = options.clock;
    this.onError = options.onError;
    this.priority = options.priority ?? null;
    this.bandwidthBytesPerSec = ((options.bandwidthKbps ?? DEFAULT_BANDWIDTH_KBPS) * 1000) / 8;
    this.compression = options.compression ?? true;
    this.hashIntervalMs = options.hashIntervalMs ?? DEFAULT_HASH_INTERVAL_MS;
    this.allowScope = options.allowScope ?? null;
    this.resync = new ResyncBudget(options.resync);
    this.scopeLimits = resolveScopeLimits(options.scopeLimits);
    const n = this.protocol.components.length;
    this.registry = new EntityRegistry(n, INITIAL_ENTITY_CAPACITY);
    this.shadow = new ShadowStore(this.protocol.components, this.registry);
    this.interest = new InterestIndex(options.interest ?? { rateHz: 10, grid: null, predicate: null });
    this.views = new ClientViews(this.registry, this.interest, this.events);
    this.changes = new ChangeSet(n);
    this.scratch = createPackScratch(this.protocol.components);
    this.detector = new ChangeDetector(this.shadow, this.registry);
    this.reliableLane = ReliableLane.create(
      this.writer,
      this.scratch,
      this.protocol.components,
      this.shadow,
      this.registry,
    );
    this.shadow.onInvalidString = (f, eid, why) =>
      this.onError?.(new NetError('InvalidString', `field '${f.name}' of entity ${eid} ${why}; not replicated`));
    this.writeGate = new WriteGate(this.protocol.components);
    this.catchUp = this.createCatchUp(options.catchUp);
    this.ownerFilter = new OwnerWriteFilter(this.writeGate, this.registry, this.clock);
    this.session.setHandler({
      joined: (peer) => this.onJoined(peer),
      left: (peer, reason) => this.onLeft(peer, reason),
      suspended: (peer) => {
        const p = this.peers.get(peer.clientId);
        if (p) p.suspended = true;
      },
      resumed: (peer) => this.onResumed(peer),
      message: (peer, tag, msg, seq) => this.onMessage(peer, tag, msg, seq),
      acked: (peer, seq) => {
        this.peers.get(peer.clientId)?.delivery.acked(seq);
        for (const x of this.extensions) x.acked?.(peer, seq);
      },
      lost: (peer, seq) => {
        const p = this.peers.get(peer.clientId);
        p?.delivery.lost(seq, p.known);
        for (const x of this.extensions) x.lost?.(peer, seq);
      },
    });
  }

  // ── structural events (called by the plugin's observers, synchronously) ─────────────────────────────

  /** An entity started replicating: it gets a network id now; its spawn goes out at the next send. */
  entityAdded(eid: number): void {
    if (this.registry.isReplicated(eid)) return;
    const netId = this.registry.add(eid);
    this.shadow.ensure(eid);
    this.interest.ensure(eid);
    this.deferred.push(Op.Spawn, netId, 0);
    this.events.emit('spawn', eid, netId);
  }

  /** An entity stopped replicating (destroyed, or its Networked marker removed). */
  entityRemoved(eid: number): void {
    const owner = this.registry.isReplicated(eid) ? this.registry.owner[eid] : SERVER_OWNER;
    const netId = this.registry.remove(eid);
    if (netId === 0) return;
    this.catchUp.history.structural(ChangeKind.Despawn, netId, 0, 0);
    this.authoritySeq.delete(netId);
    for (let c = 0; c < this.protocol.components.length; c++) this.shadow.clear(c, eid);
    this.interest.forget(eid, owner);
    for (const p of this.peers.values()) {
      if (p.knows(eid)) {
        p.unlearn(eid);
        p.ops.push(Op.Despawn, netId, DESPAWN_DESTROYED);
      }
      if (p.interest.viewEntity === eid) p.interest.viewEntity = 0;
    }
    this.events.emit('despawn', eid, netId, false);
  }

  /** A registered component was added to an entity. */
  componentAdded(eid: number, c: number): void {
    if (this.registry.isReplicated(eid)) this.deferred.push(Op.ComponentAdd, this.registry.netIdOf[eid], c);
  }

  /** A registered component was removed from an entity; announced at the next send if it is still gone. */
  componentRemoved(eid: number, c: number): void {
    if (this.registry.isReplicated(eid) && this.registry.has[c][eid])
      this.deferred.push(Op.ComponentRemove, this.registry.netIdOf[eid], c);
  }

  /** Gives `eid` to client `clientId` (0 = back to the server). The new owner's writes replicate from now on. */
  setOwner(eid: number, clientId: number): void {
    if (!this.registry.isReplicated(eid)) return;
    const previous = this.registry.owner[eid];
    if (previous === clientId) return;
    this.registry.owner[eid] = clientId;
    this.interest.ownerChanged(eid, previous, clientId);
    // Owner writes carry the owner's ticks: restart ordering for the new owner.
    for (let c = 0; c < this.protocol.components.length; c++) {
      const ticks = this.shadow.tick[c];
      for (let f = 0; f < ticks.length; f++) ticks[f][eid] = 0;
    }
    const netId = this.registry.netIdOf[eid];
    this.catchUp.history.structural(ChangeKind.Owner, netId, 0, clientId);
    this.authoritySeq.set(netId, (this.authoritySeq.get(netId) ?? 0) + 1);
    for (const p of this.peers.values()) {
      // An owner always has its entities, whatever its interest; it starts from the server's values of this
      // tick (a full state ahead of the grant: deltas to an owned entity are refused, so they cannot carry it).
      if (p.peer.clientId === clientId) {
        if (!p.knows(eid)) this.views.announce(p, eid);
        else p.ops.push(Op.Spawn, netId, 0);
        p.delivery.forget(eid);
      }
      if (!p.knows(eid)) continue;
      p.ops.push(Op.Owner, netId, clientId);
      // The previous owner was not sent its own entity's changes: bring it up to date now.
      if (p.peer.clientId === previous) this.markAll(p, eid);
      p.interest.dirty = true;
    }
    this.events.emit('ownership', eid, clientId);
  }

  private markAll(p: PeerReplication, eid: number): void {
    const comps = this.protocol.components;
    for (let c = 0; c < comps.length; c++) {
      if (this.registry.has[c][eid] && comps[c].fields.length > 0) p.delivery.mark(eid, c, comps[c].allFieldsMask);
    }
  }

  // ── interest, scopes and toggles ────────────────────────────────────────────────────────────────────

  /** Sets the entity whose position is `clientId`'s viewpoint (its head), or 0. */
  setViewEntity(clientId: number, eid: number): void {
    const p = this.peers.get(clientId);
    if (!p) return;
    p.interest.viewEntity = eid;
    p.interest.dirty = true;
  }

  /**
   * Sets an explicit viewpoint for `clientId` (used when it has no view entity). Moves within a grid cell of where
   * its interest was last computed follow the interest rate; a longer move (a jump) recomputes it at the next tick.
   */
  setViewPosition(clientId: number, x: number, y: number, z: number): void {
    const p = this.peers.get(clientId);
    if (!p) return;
    const v = (p.interest.viewPosition ??= [x, y, z]);
    v[0] = x;
    v[1] = y;
    v[2] = z;
    if (this.interest.movedFar(p.interest)) p.interest.dirty = true;
  }

  /** Puts `eid` in the given scopes (replacing its previous ones); [] removes it from every scope. */
  setEntityScopes(eid: number, scopes: readonly string[]): void {
    this.interest.setEntityScopes(eid, scopes);
    this.invalidateAll();
  }

  /** Subscribes or unsubscribes `clientId` to a scope; its interest is recomputed at once. */
  setClientScope(clientId: number, scope: string, subscribed: boolean): void {
    const p = this.peers.get(clientId);
    if (!p) return;
    if (subscribed) this.interest.addScope(p.interest.scopes, scope);
    else this.interest.removeScope(p.interest.scopes, scope);
    p.interest.dirty = true;
  }

  /** Makes `eid` relevant to every client, or not. */
  setAlwaysRelevant(eid: number, on: boolean): void {
    this.interest.setAlwaysRelevant(eid, on);
    this.invalidateAll();
  }

  /** Publish toggle of an entity or a scope: while off, its updates go to nobody; back on, everyone resyncs it. */
  setPublish(target: { eid: number } | { scope: string }, on: boolean): void {
    if ('eid' in target) {
      this.interest.ensure(target.eid);
      this.interest.setMuted(target.eid, !on);
    } else {
      if (on) this.interest.removeScope(this.interest.mutedScopes, target.scope);
      else this.interest.addScope(this.interest.mutedScopes, target.scope);
    }
    if (on) for (const p of this.peers.values()) this.resyncMatching(p, target);
  }

  /** Receive toggle of one client for an entity or a scope: while off it gets no updates; back on it resyncs. */
  setReceive(clientId: number, target: { eid: number } | { scope: string }, on: boolean): void {
    const p = this.peers.get(clientId);
    if (!p) return;
    if ('eid' in target) {
      if (on) p.interest.pausedEntities.delete(target.eid);
      else p.interest.pausedEntities.add(target.eid);
    } else {
      if (on) this.interest.removeScope(p.interest.pausedScopes, target.scope);
      else this.interest.addScope(p.interest.pausedScopes, target.scope);
    }
    if (on) this.resyncMatching(p, target);
  }

  /** Marks every field of the matching entities the client knows as pending (they go out with current values). */
  private resyncMatching(p: PeerReplication, target: { eid: number } | { scope: string }): void {
    const scope = 'scope' in target ? (this.interest.names.idOf(target.scope) ?? 0) : -1;
    if (scope === 0) return; // a scope no entity is in
    for (let i = 0; i < p.knownSet.count; i++) {
      const eid = p.knownSet.list[i];
      const match =
        scope < 0 ? eid === (target as { eid: number }).eid : this.interest.scopesOf.get(eid)?.includes(scope);
      if (match) this.markAll(p, eid);
    }
  }

  private invalidateAll(): void {
    for (const p of this.peers.values()) p.interest.dirty = true;
  }

  /** Recomputes interest of every client whose turn it is: entering entities spawn, leaving ones despawn. */
  private updateInterest(force: boolean): void {
    if (!this.interest.active) return;
    const now = this.clock.now();
    const due = force || now >= this.nextInterestAtMs;
    if (due) this.nextInterestAtMs = now + 1000 / this.interest.config.rateHz;
    let rebuilt = false;
    for (const p of this.peers.values()) {
      if (!due && !p.interest.dirty) continue;
      if (!rebuilt) {
        this.interest.rebuild(this.registry);
        rebuilt = true;
      }
      this.views.recompute(p);
    }
  }

  // ── per send tick ───────────────────────────────────────────────────────────────────────────────────

  /** Resolves deferred spawns and component changes against the world as it is now. */
  private resolveDeferred(): void {
    const d = this.deferred;
    if (d.length === 0) return;
    const comps = this.protocol.components;
    let spawned = false;
    for (let i = 0; i < d.length; i += 3) {
      const op = d[i];
      const eid = this.registry.toLocal(d[i + 1]);
      if (eid === 0) continue; // gone again before this send
      const c = d[i + 2];
      if (op === Op.Spawn) {
        for (let k = 0; k < comps.length; k++) {
          const present = this.world.hasComponent(eid, k);
          this.registry.has[k][eid] = present ? 1 : 0;
          if (present) this.shadow.capture(k, eid);
        }
        this.catchUp.history.structural(ChangeKind.Spawn, d[i + 1], 0, 0);
        spawned = true;
      } else if (op === Op.ComponentAdd) {
        if (this.registry.has[c][eid] || !this.world.hasComponent(eid, c)) continue;
        this.registry.has[c][eid] = 1;
        this.shadow.capture(c, eid);
        this.catchUp.history.structural(ChangeKind.ComponentAdd, d[i + 1], c, 0);
        for (const p of this.peers.values()) if (p.knows(eid)) p.ops.push(Op.ComponentAdd, d[i + 1], c);
      } else {
        if (!this.registry.has[c][eid] || this.world.hasComponent(eid, c)) continue;
        this.registry.has[c][eid] = 0;
        this.shadow.clear(c, eid);
        this.catchUp.history.structural(ChangeKind.ComponentRemove, d[i + 1], c, 0);
        for (const p of this.peers.values()) {
          if (!p.knows(eid)) continue;
          p.delivery.forgetComponent(eid, c);
          p.ops.push(Op.ComponentRemove, d[i + 1], c);
        }
      }
    }
    // New entities: announced to every client for which they are relevant right now.
    if (spawned) {
      if (this.interest.active) this.interest.rebuild(this.registry);
      for (const p of this.peers.values()) {
        const view = this.interest.viewpoint(p.interest, this.registry);
        for (let i = 0; i < d.length; i += 3) {
          if (d[i] !== Op.Spawn) continue;
          const eid = this.registry.toLocal(d[i + 1]);
          if (eid !== 0 && !p.knows(eid) && this.views.isRelevant(p, eid, view)) this.views.announce(p, eid);
        }
      }
    }
    d.length = 0;
  }

  /**
   * Change detection: compares every registered field of every replicated entity with its shadow (in wire
   * form) into the tick's shared change set (muted entities left out); each client then pulls from it the
   * changes of the entities it knows, does not own and has not paused (client-view.ts).
   */
  detectChanges(): void {
    for (const x of this.extensions) x.beforeDetect?.(this.tick + 1);
    this.catchUp.beginTick(this.tick + 1);
    this.resolveDeferred();
    this.updateInterest(false);
    const reg = this.registry;
    const comps = this.protocol.components;
    const changes = this.changes;
    changes.begin();
    const muting = this.interest.mutedScopes.size > 0 || this.interest.mutedCount > 0;
    const detector = this.detector;
    for (let c = 0; c < comps.length; c++) {
      // 1-2. the replicated entities that moved, and their changed fields (change-detector.ts)
      const n = detector.detect(c);
      if (n === 0) continue;
      const eids = detector.eids;
      const masks = detector.masks;
      const history = this.catchUp.history;
      for (let i = 0; i < n; i++) history.fields(reg.netIdOf[eids[i]], c, masks[i]);
      // 3. into the shared change set (a muted entity's changes go to nobody)
      for (let i = 0; i < n; i++) {
        const mask = masks[i];
        if (mask === 0) continue;
        const eid = eids[i];
        if (muting && this.interest.isMuted(eid)) continue;
        changes.add(eid, c, mask);
      }
    }
    // 4. each client pulls the changes of what it has
    this.views.pull(this.peers.values(), changes);
  }

  /** Sends this tick to every client: structural ops (reliable), the best delta that fits, hashes, then flush. */
  send(): void {
    this.tick++;
    const now = this.clock.now();
    this.catchUp.poll(now);
    for (const p of this.peers.values()) {
      if (p.suspended) continue;
      // Resumed, its Resync not answered yet: only the session's messages (Welcome) go out.
      if (this.catchUp.isWaiting(p)) {
        p.peer.connection.flush();
        continue;
      }
      this.sendOps(p);
      this.serveResync(p, now);
      const conn = p.peer.connection;
      this.ownerFilter.flush(
        p.peer.clientId,
        conn,
        this.tick,
        this.writer,
        this.scratch,
        this.protocol.components,
        this.shadow,
      );
      const pr = p.priority;
      let budget = conn.unreliableSpaceBytes() - this.reservedBytes;
      if (this.bandwidthBytesPerSec > 0) {
        // What the packet costs besides the delta: header, acks, framing; reliable data was already counted.
        budget = Math.min(budget, pr.refill(now, this.bandwidthBytesPerSec) - 16);
      }
      pr.lastSendAtMs = now;
      // String components: at most half the client's bandwidth tokens (a flood of renames never starves poses),
      // and what they take is the delta's no more.
      if (this.reliableLane !== null && p.delivery.dirtyCount > 0) {
        const share = this.bandwidthBytesPerSec > 0 ? Math.floor(pr.tokens / 2) : Infinity;
        const lane = this.reliableLane;
        if (share >= MIN_RELIABLE_SHARE_BYTES) {
          // (catch-up records what the lane queued: see CatchUpServer.recordLaneSend)
          this.counters.reliableDeltas += this.catchUp.recordLaneSend(p.delivery, () =>
            lane.send(p.delivery, conn, this.tick, p.lastStructuralId, share),
          );
          budget -= lane.lastBytes;
        } else if (lane.hasPending(p.delivery)) lane.deferred++;
      }
      if (budget >= MIN_DELTA_BYTES && p.delivery.dirtyCount > 0) {
        const grid = this.interest.config.grid;
        const view = grid ? this.interest.viewpoint(p.interest, this.registry) : null;
        pr.prioritize(p.delivery, p.peer.clientId, this.registry, grid, view, this.priority);
        const delta = writeDelta(
          this.writer,
          this.scratch,
          this.protocol.components,
          this.shadow,
          this.registry,
          p.delivery,
          {
            tick: this.tick,
            dependsOn: p.lastStructuralId,
            budgetBytes: budget,
            baselines: p.baselines,
          },
        );
        if (delta !== null && !conn.sendUnreliable(delta)) p.delivery.untake();
        pr.resetSent(p.delivery);
      }
      for (const x of this.extensions) if (x.send) this.extensionSend(x, p.peer, conn);
      if (this.hashIntervalMs > 0 && now >= p.nextHashAtMs) {
        p.nextHashAtMs = now + this.hashIntervalMs;
        this.sendStateHash(p);
      }
      // Bytes the session sent since the last tick (Pings, Pongs) count too; a resumed peer's new connection restarts.
      const before = Math.min(p.lastBytesOut, conn.stats.bytesOut);
      const seq = conn.flush();
      if (seq >= 0) p.delivery.commit(seq);
      else p.delivery.untake();
      pr.tokens -= conn.stats.bytesOut - before;
      p.lastBytesOut = conn.stats.bytesOut;
    }
  }

  private sendOps(p: PeerReplication): void {
    const ops = p.ops;
    if (ops.length === 0) return;
    const conn = p.peer.connection;
    const w = this.writer;
    let i = 0;
    while (i < ops.length) {
      const op = ops[i];
      let j = i;
      while (j < ops.length && ops[j] === op) j += 3;
      // One message per run of equal ops, split so a message stays within a snapshot chunk.
      let k = i;
      while (k < j) {
        k = this.writeOpRun(w, ops, op, k, j);
        p.lastStructuralId = conn.sendReliable(w.toBytes());
      }
      i = j;
    }
    ops.length = 0;
  }

  /** Writes ops[from..to) of one kind into `w` (as many as fit a chunk); returns where it stopped. */
  private writeOpRun(w: BitWriter, ops: number[], op: number, from: number, to: number): number {
    const reg = this.registry;
    switch (op) {
      case Op.Spawn: {
        beginMessage(w, Tag.Spawn);
        w.writeVarUint(this.tick);
        // Entities that are gone again were already despawned and are skipped.
        let n = 0;
        let end = from;
        let bits = 0;
        while (end < to && bits < SNAPSHOT_CHUNK_BYTES * 8) {
          const eid = reg.toLocal(ops[end + 1]);
          if (eid !== 0) {
            n++;
            bits += 48 + this.protocol.components.length * 64;
          }
          end += 3;
        }
        w.writeVarUint(n);
        for (let i = from; i < end; i += 3) {
          const eid = reg.toLocal(ops[i + 1]);
          if (eid !== 0) writeFullEntity(w, this.scratch, this.protocol.components, this.shadow, reg, eid);
        }
        return end;
      }
      case Op.Despawn: {
        beginMessage(w, Tag.Despawn);
        const end = Math.min(to, from + 3 * 4096);
        w.writeVarUint((end - from) / 3);
        for (let i = from; i < end; i += 3) {
          w.writeVarUint(ops[i + 1]);
          w.writeBits(ops[i + 2], 1);
        }
        return end;
      }
      case Op.ComponentAdd: {
        const eid = reg.toLocal(ops[from + 1]);
        beginMessage(w, Tag.ComponentAdd);
        w.writeVarUint(this.tick);
        writeFullEntity(w, this.scratch, this.protocol.components, this.shadow, reg, eid, ops[from + 2]);
        return from + 3;
      }
      case Op.ComponentRemove:
        beginMessage(w, Tag.ComponentRemove);
        w.writeVarUint(ops[from + 1]);
        w.writeVarUint(ops[from + 2]);
        return from + 3;
      default:
        beginMessage(w, Tag.OwnershipGrant);
        w.writeVarUint(ops[from + 1]);
        w.writeVarUint(ops[from + 2]);
        w.writeVarUint(this.authoritySeq.get(ops[from + 1]) ?? 0);
        return from + 3;
    }
  }

  // ── snapshots, hashes and resync ────────────────────────────────────────────────────────────────────

  /** True when the client offered deflate in its Hello and compression is on. */
  private deflates(p: PeerReplication): boolean {
    return this.compression && (p.peer.hello?.capabilities.includes('deflate') ?? false);
  }

  /**
   * Sends `p` every entity in its interest (or only those in the `buckets` of a resync) as Snapshot chunks;
   * the client applies it atomically and drops what the snapshot does not list.
   */
  sendSnapshot(p: PeerReplication, buckets: [number, number] | null = null): SnapshotFigures {
    this.resolveDeferred();
    const reg = this.registry;
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
      { id: ++this.snapshotId, tick: this.tick, entities, count: entities.length, deflate: this.deflates(p), buckets },
      this.protocol.components,
      this.shadow,
      reg,
      this.scratch,
      figures,
    );
    for (const m of messages) p.lastStructuralId = p.peer.connection.sendReliable(m);
    this.counters.snapshots++;
    this.counters.snapshotRawBytes += figures.rawBytes;
    this.counters.snapshotSentBytes += figures.sentBytes;
    return figures;
  }

  /** Fresh interest for `p`: nothing pending or announced piecemeal; returns (and learns) everything relevant now. */
  private resetInterest(p: PeerReplication): number[] {
    this.resolveDeferred();
    const reg = this.registry;
    const entities: number[] = [];
    p.ops.length = 0;
    p.knownSet.clear();
    p.known.fill(0);
    p.delivery.reset();
    if (this.interest.active) this.interest.rebuild(reg);
    const view = this.interest.viewpoint(p.interest, reg);
    for (let i = 0; i < reg.count; i++) {
      const eid = reg.list[i];
      if (this.views.isRelevant(p, eid, view)) {
        p.learn(eid);
        entities.push(eid);
      }
    }
    return entities;
  }

  // ── resume catch-up hooks (the logic is in catch-up-server.ts) ─────────────────────────────────────
  private createCatchUp(options: CatchUpOptions | undefined): CatchUpServer {
    const host = {
      currentTick: () => this.tick,
      comps: this.protocol.components,
      registry: this.registry,
      shadow: this.shadow,
      scratch: this.scratch,
      resetInterest: (p: PeerReplication) => this.resetInterest(p),
      sendSnapshot: (p: PeerReplication) => this.sendSnapshot(p),
      deflates: (p: PeerReplication) => this.deflates(p),
      finishResume: (p: PeerReplication) => {
        for (const x of this.extensions) x.joined?.(p.peer);
      },
    };
    return new CatchUpServer(host, options, this.onError);
  }
  // ── end of catch-up hooks ──────────────────────────────────────────────────────────────────────────

  /**
   * StateHash: for each bucket whose entities are all settled for this client (nothing pending or in flight),
   * the sum of their hashes. Entities the client owns are left out (it is ahead of the server on those).
   * Body: varuint tick, u32 mask low, u32 mask high, one u32 per set bit.
   */
  private sendStateHash(p: PeerReplication): void {
    const reg = this.registry;
    const comps = this.protocol.components;
    const h = this.hashes;
    h.reset();
    const me = p.peer.clientId;
    const pausing = p.interest.pausedEntities.size > 0 || p.interest.pausedScopes.size > 0;
    for (let i = 0; i < p.knownSet.count; i++) {
      const eid = p.knownSet.list[i];
      const netId = reg.netIdOf[eid];
      if (reg.owner[eid] === me) continue;
      if (
        !p.delivery.isSettled(eid) ||
        (pausing && this.interest.isPaused(p.interest, eid)) ||
        this.interest.isMuted(eid)
      ) {
        h.invalidate(netId);
        continue;
      }
      h.add(netId, entityHash(comps, reg, this.shadow, eid));
    }
    const [lo, hi] = maskOf((b) => h.valid[b] === 1);
    if (lo === 0 && hi === 0) return;
    const w = this.writer;
    beginMessage(w, Tag.StateHash);
    w.writeVarUint(this.tick);
    w.writeU32(lo >>> 0);
    w.writeU32(hi >>> 0);
    for (let b = 0; b < HASH_BUCKETS; b++) if (h.valid[b]) w.writeU32(h.sums[b]);
    p.peer.connection.sendReliable(w.toBytes());
    this.counters.hashesSent++;
    this.resync.hashSent(p, this.clock.now());
  }

  // ── peers and incoming messages ─────────────────────────────────────────────────────────────────────

  // One extension's sends to one peer, contained: a throw costs that peer this extension's messages this tick only.
  private extensionSend(x: ServerExtension, peer: ServerPeer, conn: Connection): void {
    try {
      x.send!(peer, conn, this.tick);
    } catch (e) {
      this.session.contain(peer, e, 'an extension send');
    }
  }

  private onJoined(peer: ServerPeer): void {
    const cap = Math.max(this.registry.capacity, INITIAL_ENTITY_CAPACITY);
    const p = new PeerReplication(peer, this.protocol.components.length, cap);
    p.useBaselines(serverBaselinesFor(peer.capabilities, this.protocol.components));
    p.nextHashAtMs = this.clock.now() + this.hashIntervalMs;
    this.peers.set(peer.clientId, p);
    this.sendSnapshot(p);
    for (const x of this.extensions) x.joined?.(peer);
  }

  private onLeft(peer: ServerPeer, reason: string): void {
    const left = this.peers.get(peer.clientId);
    if (left) this.interest.releaseClient(left.interest);
    if (left) this.catchUp.forget(left);
    this.peers.delete(peer.clientId);
    this.ownerFilter.forget(peer.clientId);
    // Entities the client owned go back to the server (from the ownership index: no walk of the world).
    const owned = this.interest.owned.get(peer.clientId);
    if (owned) for (const eid of [...owned]) this.setOwner(eid, SERVER_OWNER);
    for (const x of this.extensions) x.left?.(peer, reason);
  }

  /** A suspended client is back on a new connection: forget what was in flight and send a fresh snapshot. */
  private onResumed(peer: ServerPeer): void {
    const p = this.peers.get(peer.clientId);
    if (!p) {
      this.onJoined(peer);
      return;
    }
    p.suspended = false;
    p.nextOwnerEpoch = 0;
    // Catch-up: the client asks with Resync {lastSeq}; until then (or a timeout) nothing is sent to it.
    this.catchUp.resumed(p, this.clock.now());
  }

  private onMessage(peer: ServerPeer, tag: number, msg: Uint8Array, packetSeq: number): void {
    switch (tag) {
      case Tag.Delta:
        this.onOwnerWrite(peer, msg);
        return;
      case Tag.ResyncRequest:
        this.onResyncRequest(peer, msg);
        return;
      case Tag.Resync:
        this.catchUp.onResync(peer, this.peers.get(peer.clientId), msg);
        return;
      case Tag.OwnerHash:
        this.onOwnerHash(peer, msg);
        return;
      case Tag.Subscribe:
      case Tag.Unsubscribe:
        this.onSubscribe(peer, tag, msg);
        return;
    }
    for (const x of this.extensions) if (x.message?.(peer, tag, msg, packetSeq)) return;
    peer.counters.unknownTags++;
  }

  /**
   * Subscribe {scope} / Unsubscribe {scope}: scope membership, if `allowScope` agrees.
   * Subscribe {receive, scope | netId}: the client's receive toggle for a scope or an entity.
   */
  private onSubscribe(peer: ServerPeer, tag: number, msg: Uint8Array): void {
    const decoded = decodeBody(msg.subarray(2));
    const body = decoded.ok && isRecord(decoded.value) ? decoded.value : null;
    const scope = body ? asString(body.scope, 256) : undefined;
    const netId = body ? asUint(body.netId) : undefined;
    if (body === null || (scope === undefined && netId === undefined)) {
      peer.counters.decodeErrors++;
      this.onError?.(new NetError('DecodeError', `client ${peer.clientId}: malformed Subscribe`));
      return;
    }
    const receive = typeof body.receive === 'boolean' ? body.receive : null;
    // Every path naming a scope goes through allowScope and the scope bounds (pausing adds a name, like subscribing).
    if (scope !== undefined && !this.admitScope(peer, scope, receive === null ? tag === Tag.Subscribe : !receive))
      return;
    if (receive !== null) {
      const eid = netId !== undefined ? this.registry.toLocal(netId) : 0;
      if (scope !== undefined) this.setReceive(peer.clientId, { scope }, receive);
      else if (eid !== 0) this.setReceive(peer.clientId, { eid }, receive);
      return;
    }
    if (scope === undefined) return;
    this.setClientScope(peer.clientId, scope, tag === Tag.Subscribe);
  }

  /**
   * May `peer` name `scope` (allowScope), and, when the request `adds` the scope to its subscriptions or pauses,
   * does it fit the bounds (names in all, scopes per client)? A refusal is reported and answered with an Error.
   */
  private admitScope(peer: ServerPeer, scope: string, adds: boolean): boolean {
    if (this.allowScope && !this.allowScope(peer.clientId, scope)) {
      this.session.sendError(peer, 'Forbidden', `scope '${scope}' is not open to this client`, false);
      return false;
    }
    const p = this.peers.get(peer.clientId);
    if (!adds || !p) return true;
    const names = this.interest.names;
    const id = names.idOf(scope);
    if (id !== undefined && (p.interest.scopes.has(id) || p.interest.pausedScopes.has(id))) return true;
    const limits = this.scopeLimits;
    let message = '';
    if (p.interest.scopes.size + p.interest.pausedScopes.size >= limits.maxScopesPerClient)
      message = `client ${peer.clientId} holds ${limits.maxScopesPerClient} scopes already`;
    else if (id === undefined && names.size >= limits.maxScopes)
      message = `${limits.maxScopes} scope names exist already; '${scope.slice(0, 64)}' refused`;
    if (message === '') return true;
    names.counters.refused++;
    this.onError?.(new NetError('LimitExceeded', message));
    this.session.sendError(peer, 'LimitExceeded', message, false);
    return false;
  }

  /**
   * OwnerHash from a client: epochs must follow each other (else `EpochGap`); the hash must match what the
   * server applied for that client's entities (else `HashMismatch`). Either way the frame is dropped, counted,
   * and the client is asked to send its owned state again. Skipped when newer writes were already applied.
   */
  private onOwnerHash(peer: ServerPeer, msg: Uint8Array): void {
    const p = this.peers.get(peer.clientId);
    const r = this.reader;
    openBody(r, msg);
    const body = readOwnerHash(r);
    if (!p || body === null) {
      peer.counters.decodeErrors++;
      this.onError?.(new NetError('DecodeError', `client ${peer.clientId}: malformed OwnerHash`));
      return;
    }
    const expected = p.nextOwnerEpoch;
    p.nextOwnerEpoch = body.epoch + 1;
    if (body.epoch !== expected) {
      this.counters.epochGaps++;
      const why = `client ${peer.clientId}: owner epoch ${body.epoch}, expected ${expected}`;
      this.onError?.(new NetError('EpochGap', why));
      this.askOwnerResync(peer);
      return;
    }
    if (matchesApplied(body, peer.clientId, this.protocol.components, this.registry, this.shadow) !== false) return;
    this.counters.ownerHashMismatches++;
    this.onError?.(
      new NetError('HashMismatch', `client ${peer.clientId}: owned state differs from what the server applied`),
    );
    this.askOwnerResync(peer);
  }

  private askOwnerResync(peer: ServerPeer): void {
    const w = this.writer;
    beginMessage(w, Tag.ResyncRequest);
    peer.connection.sendReliable(w.toBytes());
  }

  /**
   * ResyncRequest: u32 bucket mask low, u32 high. The buckets join the client's pending mask (coalesced); the
   * send tick answers with a partial snapshot of as many as its resync budget allows.
   */
  private onResyncRequest(peer: ServerPeer, msg: Uint8Array): void {
    const p = this.peers.get(peer.clientId);
    const r = this.reader;
    openBody(r, msg);
    const lo = r.readU32();
    const hi = r.readU32();
    if (!p || !r.ok) {
      peer.counters.decodeErrors++;
      this.onError?.(new NetError('DecodeError', `client ${peer.clientId}: malformed ResyncRequest`));
      return;
    }
    const verdict = this.resync.request(p, lo, hi, this.clock.now());
    if (verdict === 'ok' || verdict === 'unsolicited') return;
    const message = `client ${peer.clientId}: ResyncRequest without a StateHash to answer`;
    this.onError?.(new NetError('RateLimited', message));
    if (verdict === 'offender')
      peer.fatal ??= {
        code: 'RateLimited',
        message: `more than ${this.resync.limits.maxOverBudget} unsolicited ResyncRequests over the resync budget`,
      };
  }

  /** Sends `p` the pending resync buckets its budget allows this tick, as one partial snapshot. */
  private serveResync(p: PeerReplication, now: number): void {
    const due = this.resync.take(p, now);
    if (due === null) return;
    const buckets: [number, number] = [due[0], due[1]];
    this.counters.resyncs++;
    this.onError?.(new NetError('HashMismatch', `client ${p.peer.clientId} diverged; resyncing buckets`));
    this.resync.served(p, buckets, this.sendSnapshot(p, buckets), now);
  }

  /** Applies a client's writes to the entities it owns; any other entity is `Forbidden` and left untouched. */
  private onOwnerWrite(peer: ServerPeer, msg: Uint8Array): void {
    const r = this.reader;
    const info = this.deltaInfo;
    const result = this.applyResult;
    openBody(r, msg);
    const filter = this.ownerFilter;
    filter.begin(peer.clientId);
    if (readDeltaHeader(r, info)) {
      const p = this.peers.get(peer.clientId);
      if (p && !p.ownerTicks.accept(info.tick, this.clock.now())) {
        this.counters.futureTicks++;
        peer.counters.decodeErrors++;
        this.onError?.(new NetError('DecodeError', `client ${peer.clientId}: Delta tick ${info.tick} too far ahead`));
        return;
      }
      const clientId = peer.clientId;
      const owner = this.registry.owner;
      applyEntityUpdates(
        r,
        info,
        this.scratch,
        this.protocol.components,
        this.shadow,
        this.registry,
        this.registry,
        { canWrite: (eid) => owner[eid] === clientId, updateShadow: false, filter },
        result,
      );
    } else result.ok = false;
    if (!result.ok) {
      peer.counters.decodeErrors++;
      this.onError?.(new NetError('DecodeError', `client ${peer.clientId}: malformed Delta dropped`));
      return;
    }
    if (result.forbidden > 0) {
      peer.counters.rejectedWrites += result.forbidden;
      const n = result.forbidden;
      const message = `client ${peer.clientId} wrote ${n} entit${n === 1 ? 'y' : 'ies'} it does not own`;
      this.onError?.(new NetError('Forbidden', message));
      this.session.sendError(peer, 'Forbidden', message, false);
    }
    if (result.unknown > 0)
      this.onError?.(new NetError('UnknownEntity', `client ${peer.clientId} wrote ${result.unknown} unknown entities`));
    if (filter.refused > 0) {
      peer.counters.rejectedWrites += filter.refused;
      const message = `client ${peer.clientId}: ${filter.refused} component write(s) refused (${this.writeGate.reason})`;
      this.onError?.(new NetError('InvalidWrite', message));
      this.session.sendError(peer, 'InvalidWrite', message, false);
    }
  }

  /** The owner of `eid` (0 = server). */
  ownerOf(eid: number): number {
    return this.registry.isReplicated(eid) ? this.registry.owner[eid] : SERVER_OWNER;
  }
}
