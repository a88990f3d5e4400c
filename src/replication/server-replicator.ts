/**
 * Server side of replication: announces spawns, despawns and component changes on the reliable lane, detects
 * field changes against the shadow each send tick, keeps a delivery state per client, packs deltas into the
 * unreliable budget, and applies owner writes from clients (rejecting writes to entities they do not own).
 */
import type { Clock } from '../clock.ts';
import { type ErrorHandler, NetError } from '../errors.ts';
import { Emitter, type ReplicationEvents } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import type { Protocol } from '../register.ts';
import type { ServerPeer, ServerSession } from '../session/server-session.ts';
import { DeliveryState } from './delivery-state.ts';
import { EntityRegistry, SERVER_OWNER } from './entity-registry.ts';
import { INITIAL_ENTITY_CAPACITY, ShadowStore } from './shadow-store.ts';
import {
  applyEntityUpdates,
  type ApplyResult,
  createPackScratch,
  type DeltaInfo,
  type PackScratch,
  readDeltaHeader,
  writeDelta,
} from './delta-packer.ts';
import { beginMessage, BitReader, BitWriter, DESPAWN_DESTROYED, openBody } from './wire-bodies.ts';
import { writeFullEntity, SNAPSHOT_CHUNK_BYTES } from './full-state.ts';
import type { ServerExtension } from './extension.ts';
import type { WorldAdapter } from './world-adapter.ts';

/** Structural operations queued for one peer, in the order they happened. */
const Op = { Spawn: 0, Despawn: 1, ComponentAdd: 2, ComponentRemove: 3, Owner: 4 } as const;

/** Replication state of one client. */
export class PeerReplication {
  readonly peer: ServerPeer;
  /** known[eid]: the client has been sent the spawn of eid. */
  known: Uint8Array;
  readonly delivery: DeliveryState;
  /** Pending structural ops: triples (op, netId, arg). */
  ops: number[] = [];
  /** Link lost, session kept: nothing is sent until it resumes. */
  suspended = false;

  constructor(peer: ServerPeer, componentCount: number, capacity: number) {
    this.peer = peer;
    this.known = new Uint8Array(capacity);
    this.delivery = new DeliveryState(componentCount, capacity);
  }

  ensure(eid: number): void {
    if (eid < this.known.length) return;
    let cap = this.known.length;
    while (cap <= eid) cap *= 2;
    const k = new Uint8Array(cap);
    k.set(this.known);
    this.known = k;
    this.delivery.ensure(eid);
  }
}

/** Options of the server replicator. */
export interface ServerReplicatorOptions {
  protocol: Protocol;
  session: ServerSession;
  world: WorldAdapter;
  clock: Clock;
  onError?: ErrorHandler;
}

/** Server half of the replication layer. */
export class ServerReplicator {
  readonly protocol: Protocol;
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly peers = new Map<number, PeerReplication>();
  readonly events = new Emitter<ReplicationEvents>();
  /** Extensions, in the order they were added. */
  readonly extensions: ServerExtension[] = [];
  tick = 0;
  private readonly session: ServerSession;
  private readonly world: WorldAdapter;
  private readonly onError: ErrorHandler | undefined;
  /** Deferred structural events: pairs (op, netId or eid, arg) resolved at the next send. */
  private deferred: number[] = [];
  private readonly writer = new BitWriter(2048);
  private readonly reader = new BitReader();
  private readonly scratch: PackScratch;
  private snapshotId = 0;
  /** Unreliable bytes per packet left to extensions (e.g. pose streams) after the delta. */
  reservedBytes = 0;
  private readonly deltaInfo: DeltaInfo = { tick: 0, dependsOn: 0, count: 0 };
  private readonly applyResult: ApplyResult = { ok: true, applied: 0, forbidden: 0, unknown: 0 };

  constructor(options: ServerReplicatorOptions) {
    this.protocol = options.protocol;
    this.session = options.session;
    this.world = options.world;
    this.onError = options.onError;
    const n = this.protocol.components.length;
    this.registry = new EntityRegistry(n, INITIAL_ENTITY_CAPACITY);
    this.shadow = new ShadowStore(this.protocol.components, this.registry);
    this.scratch = createPackScratch(this.protocol.components);
    this.session.setHandler({
      joined: (peer) => this.onJoined(peer),
      left: (peer, reason) => this.onLeft(peer, reason),
      suspended: (peer) => {
        const p = this.peers.get(peer.clientId);
        if (p) p.suspended = true;
      },
      resumed: (peer) => this.onResumed(peer),
      message: (peer, tag, msg, seq) => this.onMessage(peer, tag, msg, seq),
      acked: (peer, seq) => this.peers.get(peer.clientId)?.delivery.acked(seq),
      lost: (peer, seq) => {
        const p = this.peers.get(peer.clientId);
        p?.delivery.lost(seq, p.known);
      },
    });
  }

  // ── structural events (called by the plugin's observers, synchronously) ─────────────────────────────

  /** An entity started replicating: it gets a network id now; its spawn goes out at the next send. */
  entityAdded(eid: number): void {
    if (this.registry.isReplicated(eid)) return;
    const netId = this.registry.add(eid);
    this.shadow.ensure(eid);
    this.deferred.push(Op.Spawn, netId, 0);
    this.events.emit('spawn', eid, netId);
  }

  /** An entity stopped replicating (destroyed, or its Networked marker removed). */
  entityRemoved(eid: number): void {
    const netId = this.registry.remove(eid);
    if (netId === 0) return;
    for (let c = 0; c < this.protocol.components.length; c++) this.shadow.clear(c, eid);
    for (const p of this.peers.values()) {
      if (eid < p.known.length && p.known[eid]) {
        p.known[eid] = 0;
        p.delivery.forget(eid);
        p.ops.push(Op.Despawn, netId, DESPAWN_DESTROYED);
      }
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
    // Owner writes carry the owner's ticks: restart ordering for the new owner.
    for (let c = 0; c < this.protocol.components.length; c++) {
      const ticks = this.shadow.tick[c];
      for (let f = 0; f < ticks.length; f++) ticks[f][eid] = 0;
    }
    const netId = this.registry.netIdOf[eid];
    for (const p of this.peers.values()) {
      if (eid >= p.known.length || !p.known[eid]) continue;
      p.ops.push(Op.Owner, netId, clientId);
      // The previous owner was not sent its own entity's changes: bring it up to date now.
      if (p.peer.clientId === previous) this.markAll(p, eid);
    }
    this.events.emit('ownership', eid, clientId);
  }

  private markAll(p: PeerReplication, eid: number): void {
    const comps = this.protocol.components;
    for (let c = 0; c < comps.length; c++) {
      if (this.registry.has[c][eid] && comps[c].fields.length > 0) p.delivery.mark(eid, c, comps[c].allFieldsMask);
    }
  }

  // ── per send tick ───────────────────────────────────────────────────────────────────────────────────

  /** Resolves deferred spawns and component adds against the world as it is now. */
  private resolveDeferred(): void {
    const d = this.deferred;
    const comps = this.protocol.components;
    for (let i = 0; i < d.length; i += 3) {
      const op = d[i];
      const eid = this.registry.toLocal(d[i + 1]);
      if (eid === 0) continue; // gone again before this send
      if (op === Op.Spawn) {
        for (let c = 0; c < comps.length; c++) {
          const present = this.world.hasComponent(eid, c);
          this.registry.has[c][eid] = present ? 1 : 0;
          if (present) this.shadow.capture(c, eid);
        }
        for (const p of this.peers.values()) this.announce(p, eid);
      } else if (op === Op.ComponentAdd) {
        const c = d[i + 2];
        if (this.registry.has[c][eid] || !this.world.hasComponent(eid, c)) continue;
        this.registry.has[c][eid] = 1;
        this.shadow.capture(c, eid);
        for (const p of this.peers.values()) {
          if (eid < p.known.length && p.known[eid]) p.ops.push(Op.ComponentAdd, d[i + 1], c);
        }
      } else {
        const c = d[i + 2];
        if (!this.registry.has[c][eid] || this.world.hasComponent(eid, c)) continue;
        this.registry.has[c][eid] = 0;
        this.shadow.clear(c, eid);
        for (const p of this.peers.values()) {
          if (eid < p.known.length && p.known[eid]) {
            p.delivery.forgetComponent(eid, c);
            p.ops.push(Op.ComponentRemove, d[i + 1], c);
          }
        }
      }
    }
    d.length = 0;
  }

  /** Queues the spawn of `eid` for peer `p`. */
  private announce(p: PeerReplication, eid: number): void {
    p.ensure(eid);
    if (p.known[eid]) return;
    p.known[eid] = 1;
    p.ops.push(Op.Spawn, this.registry.netIdOf[eid], 0);
  }

  /**
   * Change detection: compares every registered field of every replicated entity with its shadow (in wire
   * form) and marks the changed fields pending for every client that knows the entity and does not own it.
   */
  detectChanges(): void {
    for (const x of this.extensions) x.beforeDetect?.(this.tick + 1);
    this.resolveDeferred();
    const reg = this.registry;
    const comps = this.protocol.components;
    const peers = [...this.peers.values()];
    const list = reg.list;
    for (let i = 0; i < reg.count; i++) {
      const eid = list[i];
      const owner = reg.owner[eid];
      for (let c = 0; c < comps.length; c++) {
        if (reg.has[c][eid] === 0 || comps[c].fields.length === 0) continue;
        const mask = this.shadow.detect(c, eid);
        if (mask === 0) continue;
        for (let k = 0; k < peers.length; k++) {
          const p = peers[k];
          if (eid < p.known.length && p.known[eid] !== 0 && p.peer.clientId !== owner) p.delivery.mark(eid, c, mask);
        }
      }
    }
  }

  /** Sends this tick to every client: structural ops on the reliable lane, then one packed delta, then flush. */
  send(): void {
    this.tick++;
    for (const p of this.peers.values()) {
      if (p.suspended) continue;
      this.sendOps(p);
      const conn = p.peer.connection;
      const delta = writeDelta(this.writer, this.scratch, this.protocol.components, this.shadow, this.registry, p.delivery, {
        tick: this.tick,
        dependsOn: conn.lastReliableIdSent,
        budgetBytes: conn.unreliableSpaceBytes() - this.reservedBytes,
      });
      if (delta !== null && !conn.sendUnreliable(delta)) p.delivery.untake();
      for (const x of this.extensions) x.send?.(p.peer, conn, this.tick);
      const seq = conn.flush();
      if (seq >= 0) p.delivery.commit(seq);
      else p.delivery.untake();
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
        conn.sendReliable(w.toBytes());
      }
      i = j;
    }
    ops.length = 0;
  }

  /** Writes ops[from..to) of one kind into `w` (as many as fit a chunk); returns where it stopped. */
  private writeOpRun(w: BitWriter, ops: number[], op: number, from: number, to: number): number {
    const reg = this.registry;
    let i = from;
    switch (op) {
      case Op.Spawn: {
        beginMessage(w, Tag.Spawn);
        w.writeVarUint(this.tick);
        // Count first: entities that are gone again were already despawned and are skipped.
        let n = 0;
        let end = from;
        let bytes = 0;
        while (end < to && bytes < SNAPSHOT_CHUNK_BYTES) {
          const eid = reg.toLocal(ops[end + 1]);
          if (eid !== 0) {
            n++;
            bytes += 16 + this.shadow.components.length * 8;
          }
          end += 3;
        }
        w.writeVarUint(n);
        for (; i < end; i += 3) {
          const eid = reg.toLocal(ops[i + 1]);
          if (eid !== 0) writeFullEntity(w, this.scratch, this.protocol.components, this.shadow, reg, eid);
        }
        return end;
      }
      case Op.Despawn: {
        beginMessage(w, Tag.Despawn);
        const end = Math.min(to, from + 3 * 4096);
        w.writeVarUint((end - from) / 3);
        for (; i < end; i += 3) {
          w.writeVarUint(ops[i + 1]);
          w.writeBits(ops[i + 2], 1);
        }
        return end;
      }
      case Op.ComponentAdd: {
        const eid = reg.toLocal(ops[i + 1]);
        beginMessage(w, Tag.ComponentAdd);
        w.writeVarUint(this.tick);
        writeFullEntity(w, this.scratch, this.protocol.components, this.shadow, reg, eid, ops[i + 2]);
        return i + 3;
      }
      case Op.ComponentRemove:
        beginMessage(w, Tag.ComponentRemove);
        w.writeVarUint(ops[i + 1]);
        w.writeVarUint(ops[i + 2]);
        return i + 3;
      default:
        beginMessage(w, Tag.OwnershipGrant);
        w.writeVarUint(ops[i + 1]);
        w.writeVarUint(ops[i + 2]);
        w.writeVarUint(0);
        return i + 3;
    }
  }

  // ── peers and incoming messages ─────────────────────────────────────────────────────────────────────

  private onJoined(peer: ServerPeer): void {
    const cap = Math.max(this.registry.capacity, INITIAL_ENTITY_CAPACITY);
    const p = new PeerReplication(peer, this.protocol.components.length, cap);
    this.peers.set(peer.clientId, p);
    this.sendSnapshot(p);
    for (const x of this.extensions) x.joined?.(peer);
  }

  private onLeft(peer: ServerPeer, reason: string): void {
    this.peers.delete(peer.clientId);
    // Entities the client owned go back to the server.
    const reg = this.registry;
    for (let i = 0; i < reg.count; i++) {
      const eid = reg.list[i];
      if (reg.owner[eid] === peer.clientId) this.setOwner(eid, SERVER_OWNER);
    }
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
    p.ops.length = 0;
    p.known.fill(0);
    p.delivery.reset();
    this.sendSnapshot(p);
    // Ownership travels in the snapshot; extensions learn the client is back.
    for (const x of this.extensions) x.joined?.(peer);
  }

  /** Sends every replicated entity to `p` as Snapshot chunks of at most SNAPSHOT_CHUNK_BYTES. */
  sendSnapshot(p: PeerReplication): void {
    this.resolveDeferred();
    const reg = this.registry;
    const w = this.writer;
    const chunks: Uint8Array[] = [];
    const id = ++this.snapshotId;
    let i = 0;
    do {
      const body = new BitWriter(SNAPSHOT_CHUNK_BYTES + 1024);
      const start = i;
      let bytes = 0;
      let n = 0;
      // Measure a chunk: entities until the chunk budget.
      const entityWriter = new BitWriter(4096);
      while (i < reg.count) {
        entityWriter.reset();
        writeFullEntity(entityWriter, this.scratch, this.protocol.components, this.shadow, reg, reg.list[i]);
        if (n > 0 && bytes + entityWriter.byteLength > SNAPSHOT_CHUNK_BYTES - 32) break;
        bytes += entityWriter.byteLength;
        n++;
        i++;
      }
      body.writeVarUint(this.tick);
      body.writeVarUint(n);
      for (let k = start; k < i; k++) {
        const eid = reg.list[k];
        p.ensure(eid);
        p.known[eid] = 1;
        writeFullEntity(body, this.scratch, this.protocol.components, this.shadow, reg, eid);
      }
      chunks.push(body.toBytes());
    } while (i < reg.count);
    for (let k = 0; k < chunks.length; k++) {
      beginMessage(w, Tag.Snapshot);
      w.writeVarUint(id);
      w.writeVarUint(k);
      w.writeVarUint(chunks.length);
      w.writeBytes(chunks[k]);
      p.peer.connection.sendReliable(w.toBytes());
    }
  }

  private onMessage(peer: ServerPeer, tag: number, msg: Uint8Array, packetSeq: number): void {
    if (tag === Tag.Delta) {
      this.onOwnerWrite(peer, msg);
      return;
    }
    for (const x of this.extensions) if (x.message?.(peer, tag, msg, packetSeq)) return;
    peer.counters.unknownTags++;
  }

  /** Applies a client's writes to the entities it owns; any other entity is `Forbidden` and left untouched. */
  private onOwnerWrite(peer: ServerPeer, msg: Uint8Array): void {
    const r = this.reader;
    const info = this.deltaInfo;
    const result = this.applyResult;
    openBody(r, msg);
    if (readDeltaHeader(r, info)) {
      const clientId = peer.clientId;
      const owner = this.registry.owner;
      applyEntityUpdates(r, info, this.scratch, this.protocol.components, this.shadow, this.registry, this.registry, {
        canWrite: (eid) => owner[eid] === clientId,
        updateShadow: false,
      }, result);
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
  }

  /** The owner of `eid` (0 = server). */
  ownerOf(eid: number): number {
    return this.registry.isReplicated(eid) ? this.registry.owner[eid] : SERVER_OWNER;
  }
}
