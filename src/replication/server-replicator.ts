/**
 * Server side of replication, the composer of its stages: structural events (structural-events.ts) and the
 * interest controls (interest-toggles.ts) as the API and the messages set them; each send tick, change detection
 * into the shared change set that every client's view pulls from (change-set.ts, client-view.ts), then per client
 * its structural ops (op-sender.ts), resync answers and state hashes (server-hash-check.ts), the deltas that fit
 * its budget (delta-sender.ts) and the extensions' messages; owner writes and scope requests coming in
 * (owner-writes.ts, scope-requests.ts); snapshots for joins (snapshot-sender.ts) and catch-up for resumes.
 */
import type { Clock } from '../clock.ts';
import type { Connection } from '../connection/connection.ts';
import { type ErrorHandler, NetError } from '../errors.ts';
import { Emitter, type ReplicationEvents } from '../events.ts';
import type { Protocol } from '../register.ts';
import type { ServerPeer, ServerSession } from '../session/server-session.ts';
import { CatchUpServer, type CatchUpOptions } from './catch-up-server.ts';
import { ChangeDetector } from './change-detector.ts';
import { ChangeSet } from './change-set.ts';
import { ClientViews } from './client-view.ts';
import { createPackScratch, type PackScratch } from './delta-packer.ts';
import { DeltaSender } from './delta-sender.ts';
import { EntityRegistry, SERVER_OWNER } from './entity-registry.ts';
import type { ServerExtension } from './extension.ts';
import { InterestIndex } from './interest.ts';
import { InterestToggles, type ToggleTarget } from './interest-toggles.ts';
import { OpSender } from './op-sender.ts';
import { OwnerWriteFilter } from './owner-write-filter.ts';
import { OwnerWrites } from './owner-writes.ts';
import type { PeerReplication } from './peer-replication.ts';
import { ReliableLane } from './reliable-deltas.ts';
import { ResyncBudget } from './resync-budget.ts';
import { resolveScopeLimits } from './scope-names.ts';
import { ScopeRequests } from './scope-requests.ts';
import { createServerCounters, type ServerReplicationCounters } from './server-counters.ts';
import { ServerHashCheck } from './server-hash-check.ts';
import { ServerPeerHandler } from './server-peer-handler.ts';
import { DEFAULT_HASH_INTERVAL_MS, type ServerReplicatorOptions } from './server-replicator-options.ts';
import { DEFAULT_BANDWIDTH_KBPS, type PriorityFn } from './send-priority.ts';
import { INITIAL_ENTITY_CAPACITY, ShadowStore } from './shadow-store.ts';
import { SnapshotSender } from './snapshot-sender.ts';
import type { SnapshotFigures } from './snapshot-writer.ts';
import { StructuralEvents } from './structural-events.ts';
import { BitWriter } from './wire-bodies.ts';
import { WriteGate } from './write-gate.ts';
import { Fidelity } from './fidelity.ts';

export { PeerReplication } from './peer-replication.ts';
export { DEFAULT_BANDWIDTH_KBPS, defaultPriority, type PriorityFn } from './send-priority.ts';
export type { ServerReplicationCounters } from './server-counters.ts';
export { DEFAULT_HASH_INTERVAL_MS, type ServerReplicatorOptions } from './server-replicator-options.ts';

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
  readonly counters: ServerReplicationCounters = createServerCounters();
  tick = 0;
  /** Unreliable bytes per packet left to extensions (e.g. pose streams) after the delta. */
  reservedBytes = 0;
  /** The per-client bandwidth cap in bytes per second; 0 when uncapped (layers take their share of it). */
  readonly bandwidthBytesPerSec: number;
  /** True when compression is on (a peer deflates only if it offered it too). */
  readonly compression: boolean;
  /** Some component has a short-string field: its changes go out as reliable Deltas. */
  readonly reliableLane: ReliableLane | null;
  /** Resume catch-up: the room's change history and the resumed clients waiting for their Resync. */
  readonly catchUp: CatchUpServer;
  /** Fidelity levels by distance (fidelity.ts), or null. */
  readonly fidelity: Fidelity | null;
  private readonly session: ServerSession;
  private readonly clock: Clock;
  private readonly priority: PriorityFn | null;
  private readonly hashIntervalMs: number;
  private readonly writer = new BitWriter(2048);
  private readonly scratch: PackScratch;
  /** Change detection: raw scan or change marks, then wire values where something moved (change-detector.ts). */
  readonly detector: ChangeDetector;
  private readonly ownerFilter: OwnerWriteFilter;
  private readonly structure: StructuralEvents;
  private readonly toggles: InterestToggles;
  private readonly ops: OpSender;
  private readonly snapshots: SnapshotSender;
  private readonly hashCheck: ServerHashCheck;
  private readonly deltas: DeltaSender;
  /** The session's events and messages, routed into the parts above (server-peer-handler.ts). */
  private readonly peerHandler: ServerPeerHandler;

  constructor(options: ServerReplicatorOptions) {
    const onError = options.onError;
    const comps = options.protocol.components;
    this.protocol = options.protocol;
    this.session = options.session;
    this.clock = options.clock;
    this.priority = options.priority ?? null;
    this.bandwidthBytesPerSec = ((options.bandwidthKbps ?? DEFAULT_BANDWIDTH_KBPS) * 1000) / 8;
    this.compression = options.compression ?? true;
    this.hashIntervalMs = options.hashIntervalMs ?? DEFAULT_HASH_INTERVAL_MS;
    this.resync = new ResyncBudget(options.resync);
    const scopeLimits = resolveScopeLimits(options.scopeLimits);
    this.registry = new EntityRegistry(comps.length, INITIAL_ENTITY_CAPACITY);
    this.shadow = new ShadowStore(comps, this.registry);
    this.interest = new InterestIndex(options.interest ?? { rateHz: 10, grid: null, predicate: null });
    this.views = new ClientViews(this.registry, this.interest, this.events);
    this.changes = new ChangeSet(comps.length);
    this.scratch = createPackScratch(comps);
    this.detector = new ChangeDetector(this.shadow, this.registry);
    this.reliableLane = ReliableLane.create(this.writer, this.scratch, comps, this.shadow, this.registry);
    this.shadow.onInvalidString = (f, eid, why) =>
      onError?.(new NetError('InvalidString', `field '${f.name}' of entity ${eid} ${why}; not replicated`));
    this.writeGate = new WriteGate(comps);
    this.catchUp = this.createCatchUp(options.catchUp, onError);
    this.ownerFilter = new OwnerWriteFilter(this.writeGate, this.registry, this.clock);
    const fid = options.fidelity;
    this.fidelity = fid ? new Fidelity(fid, comps, this.registry, this.interest, onError) : null;
    const { registry, shadow, interest, scratch, writer, peers, clock } = this;
    const { fidelity } = this;
    const state = { comps, registry, shadow, interest, scratch, writer, peers, clock, onError, fidelity };
    this.structure = new StructuralEvents({
      ...state,
      views: this.views,
      world: options.world,
      history: this.catchUp.history,
      authoritySeq: this.authoritySeq,
      events: this.events,
    });
    this.toggles = new InterestToggles({ ...state, views: this.views });
    this.ops = new OpSender(this.writer, this.scratch, comps, this.shadow, this.registry, this.authoritySeq);
    this.snapshots = new SnapshotSender({
      ...state,
      views: this.views,
      counters: this.counters,
      compression: this.compression,
      resolveDeferred: () => this.structure.resolveDeferred(),
    });
    this.hashCheck = new ServerHashCheck({
      ...state,
      resync: this.resync,
      counters: this.counters,
      sendSnapshot: (p, buckets) => this.sendSnapshot(p, buckets),
    });
    this.deltas = new DeltaSender({
      ...state,
      ownerFilter: this.ownerFilter,
      reliableLane: this.reliableLane,
      catchUp: this.catchUp,
      counters: this.counters,
      bandwidthBytesPerSec: this.bandwidthBytesPerSec,
      priority: this.priority,
    });
    const { session, ownerFilter, writeGate, counters, toggles } = this;
    const allowScope = options.allowScope ?? null;
    this.peerHandler = new ServerPeerHandler({
      ...state,
      componentCount: comps.length,
      extensions: this.extensions,
      hashIntervalMs: this.hashIntervalMs,
      catchUp: this.catchUp,
      ownerFilter: this.ownerFilter,
      ownerWrites: new OwnerWrites({ ...state, ownerFilter, writeGate, counters, session, marks: this.detector.marks }),
      hashCheck: this.hashCheck,
      scopeRequests: new ScopeRequests({ ...state, toggles, allowScope, scopeLimits, session }),
      sendSnapshot: (p) => this.sendSnapshot(p),
      setOwner: (eid, clientId) => this.setOwner(eid, clientId),
      received: (peer, tag, msg, seq) => this.onMessage(peer, tag, msg, seq),
    });
    this.session.setHandler(this.peerHandler);
  }

  // ── structural events (called by the plugin's observers, synchronously; structural-events.ts) ──────────
  /** An entity started replicating: it gets a network id now; its spawn goes out at the next send. */
  entityAdded(eid: number): void {
    this.structure.entityAdded(eid);
  }
  /** An entity stopped replicating (destroyed, or its Networked marker removed). */
  entityRemoved(eid: number): void {
    this.structure.entityRemoved(eid);
  }
  /** A registered component was added to an entity. */
  componentAdded(eid: number, c: number): void {
    this.structure.componentAdded(eid, c);
  }
  /** A registered component was removed from an entity; announced at the next send if it is still gone. */
  componentRemoved(eid: number, c: number): void {
    this.structure.componentRemoved(eid, c);
  }
  /** Gives `eid` to client `clientId` (0 = back to the server). The new owner's writes replicate from now on. */
  setOwner(eid: number, clientId: number): void {
    this.structure.setOwner(eid, clientId);
  }
  /** The owner of `eid` (0 = server). */
  ownerOf(eid: number): number {
    return this.registry.isReplicated(eid) ? this.registry.owner[eid] : SERVER_OWNER;
  }

  // ── interest, scopes and toggles (interest-toggles.ts) ───────────────────────────────────────────────
  /** Sets the entity whose position is `clientId`'s viewpoint (its head), or 0. */
  setViewEntity(clientId: number, eid: number): void {
    this.toggles.setViewEntity(clientId, eid);
  }
  /** Sets an explicit viewpoint for `clientId` (used when it has no view entity); a jump recomputes its interest. */
  setViewPosition(clientId: number, x: number, y: number, z: number): void {
    this.toggles.setViewPosition(clientId, x, y, z);
  }
  /** Puts `eid` in the given scopes (replacing its previous ones); [] removes it from every scope. */
  setEntityScopes(eid: number, scopes: readonly string[]): void {
    this.toggles.setEntityScopes(eid, scopes);
  }
  /** Subscribes or unsubscribes `clientId` to a scope; its interest is recomputed at once. */
  setClientScope(clientId: number, scope: string, subscribed: boolean): void {
    this.toggles.setClientScope(clientId, scope, subscribed);
  }
  /** Makes `eid` relevant to every client, or not. */
  setAlwaysRelevant(eid: number, on: boolean): void {
    this.toggles.setAlwaysRelevant(eid, on);
  }
  /** Publish toggle of an entity or a scope: while off, its updates go to nobody; back on, everyone resyncs it. */
  setPublish(target: ToggleTarget, on: boolean): void {
    this.toggles.setPublish(target, on);
  }
  /** Receive toggle of one client for an entity or a scope: while off it gets no updates; back on it resyncs. */
  setReceive(clientId: number, target: ToggleTarget, on: boolean): void {
    this.toggles.setReceive(clientId, target, on);
  }

  // ── per send tick ───────────────────────────────────────────────────────────────────────────────────
  /**
   * Change detection: compares every registered field of every replicated entity with its shadow (in wire
   * form) into the tick's shared change set (muted entities left out); each client then pulls from it the
   * changes of the entities it knows, does not own and has not paused (client-view.ts).
   */
  detectChanges(): void {
    for (const x of this.extensions) x.beforeDetect?.(this.tick + 1);
    this.catchUp.beginTick(this.tick + 1);
    this.structure.resolveDeferred();
    this.toggles.update(false);
    const reg = this.registry;
    const changes = this.changes;
    changes.begin();
    const muting = this.interest.mutedScopes.size > 0 || this.interest.mutedCount > 0;
    const detector = this.detector;
    const history = this.catchUp.history;
    for (let c = 0; c < this.protocol.components.length; c++) {
      // 1-2. the replicated entities that moved, and their changed fields (change-detector.ts)
      const n = detector.detect(c);
      if (n === 0) continue;
      const eids = detector.eids;
      const masks = detector.masks;
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
    this.fidelity?.noteChanges(changes, this.tick + 1);
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
      this.ops.send(p, this.tick);
      this.hashCheck.serveResync(p, now);
      this.deltas.sendChanges(p, now, this.tick, this.reservedBytes);
      for (const x of this.extensions) if (x.send) this.extensionSend(x, p.peer, p.peer.connection);
      if (this.hashIntervalMs > 0 && now >= p.nextHashAtMs) {
        p.nextHashAtMs = now + this.hashIntervalMs;
        this.hashCheck.sendStateHash(p, this.tick);
      }
      this.deltas.flush(p);
    }
  }

  /**
   * Sends `p` every entity in its interest (or only those in the `buckets` of a resync) as Snapshot chunks;
   * the client applies it atomically and drops what the snapshot does not list.
   */
  sendSnapshot(p: PeerReplication, buckets: [number, number] | null = null): SnapshotFigures {
    return this.snapshots.send(p, this.tick, buckets);
  }

  // ── peers and incoming messages ─────────────────────────────────────────────────────────────────────
  private createCatchUp(options: CatchUpOptions | undefined, onError: ErrorHandler | undefined): CatchUpServer {
    const host = {
      currentTick: () => this.tick,
      comps: this.protocol.components,
      registry: this.registry,
      shadow: this.shadow,
      scratch: this.scratch,
      resetInterest: (p: PeerReplication) => this.snapshots.resetInterest(p),
      sendSnapshot: (p: PeerReplication) => this.sendSnapshot(p),
      deflates: (p: PeerReplication) => this.snapshots.deflates(p),
      finishResume: (p: PeerReplication) => {
        for (const x of this.extensions) x.joined?.(p.peer);
      },
    };
    return new CatchUpServer(host, options, onError);
  }

  // One extension's sends to one peer, contained: a throw costs that peer this extension's messages this tick only.
  private extensionSend(x: ServerExtension, peer: ServerPeer, conn: Connection): void {
    try {
      x.send!(peer, conn, this.tick);
    } catch (e) {
      this.session.contain(peer, e, 'an extension send');
    }
  }

  /** Every message from a client above the session: routed by tag (server-peer-handler.ts). */
  private onMessage(peer: ServerPeer, tag: number, msg: Uint8Array, packetSeq: number): void {
    this.peerHandler.route(peer, tag, msg, packetSeq);
  }
}
