/**
 * The server's catch-up of a resumed client. A resumed client sends Resync {lastSeq, have}; lastSeq is the newest
 * server tick of a reliable state message it applied in order (Snapshot, Spawn, ComponentAdd, StateHash, Deltas),
 * so every reliable message of an earlier tick reached it; `have` lists the network ids it holds. The answer is a
 * Deltas batch (reliable, chunked, deflated when it pays): the current full state of every entity in the client's
 * interest that it lacks or that changed since lastSeq (the room's ChangeHistory from lastSeq's own tick on, plus
 * whatever this client's delivery state still had pending or in flight), and a despawn of every entity it holds that
 * is gone or out of its interest. A snapshot goes instead when the history no longer covers lastSeq, when the batch
 * would carry every entity anyway, when the Resync is malformed or names a tick never sent, and when none arrives
 * within `waitMs`. A Resync from a client that is not resuming is refused and counted (it would buy a large answer).
 */
import { type ErrorHandler, NetError } from '../errors.ts';
import type { RegisteredComponent } from '../register.ts';
import type { ServerPeer } from '../session/server-session.ts';
import { ChangeHistory, type ChangeHistoryOptions } from './change-history.ts';
import { decodeCatchUpResync, DEFAULT_MAX_HAVE, writeCatchUpBatch } from './catch-up-wire.ts';
import type { DeliveryState } from './delivery-state.ts';
import type { PackScratch } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { PeerReplication } from './peer-replication.ts';
import type { ShadowStore } from './shadow-store.ts';
import type { SnapshotFigures } from './snapshot-writer.ts';
import { DESPAWN_DESTROYED, DESPAWN_OUT_OF_INTEREST } from './wire-bodies.ts';

/** How long the server waits for a resumed client's Resync before sending it a snapshot. */
export const DEFAULT_RESYNC_WAIT_MS = 1500;

/** Bounds of catch-up: the history's (ticks and bytes), the wait for a Resync, the ids a Resync may list. */
export interface CatchUpOptions extends ChangeHistoryOptions {
  /** Milliseconds a resumed client has to send its Resync (default 1,500); then it gets a snapshot. */
  waitMs?: number;
  /** Most network ids a Resync may list (default 262,144); more is refused and answered with a snapshot. */
  maxHave?: number;
}

/** Counters of catch-up on the server. */
export interface CatchUpServerCounters {
  /** Resumes answered with a Deltas batch. */
  catchUps: number;
  /** Entities sent in full by those batches, and despawns. */
  catchUpEntities: number;
  /** Despawns those batches listed. */
  catchUpDespawns: number;
  /** Bytes of the batches before and after compression (with framing). */
  catchUpRawBytes: number;
  /** Bytes of the batches after compression (with framing). */
  catchUpSentBytes: number;
  /** Deltas messages those batches took (chunks of at most 16 KiB raw; at most 2,048 despawns each). */
  catchUpChunks: number;
  /** Resumes answered with a snapshot: lastSeq older than the history, the batch as large as a snapshot, no Resync. */
  tooOld: number;
  /** Resumes answered with a snapshot because the batch would carry every entity. */
  tooLarge: number;
  /** Resumes answered with a snapshot because no Resync came within `waitMs`. */
  waitTimeouts: number;
  /** Resyncs refused: malformed or over maxHave, lastSeq ahead of the server, sent when not resuming. */
  malformed: number;
  /** Resyncs refused because their lastSeq is ahead of the server's tick. */
  futureLastSeq: number;
  /** Resyncs refused because the client was not resuming. */
  unsolicited: number;
}

/** What catch-up needs from the replicator. */
export interface CatchUpHost {
  currentTick(): number;
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly scratch: PackScratch;
  /** Resets what `p` is known to have and returns every entity in its interest now (learned). */
  resetInterest(p: PeerReplication): number[];
  sendSnapshot(p: PeerReplication): SnapshotFigures;
  deflates(p: PeerReplication): boolean;
  /** The client is up to date: sends resume (pose streams, extensions' joined hooks). */
  finishResume(p: PeerReplication): void;
}

/** Catch-up state of one server replicator: the room's history and the resumed clients waiting for a Resync. */
export class CatchUpServer {
  readonly history: ChangeHistory;
  readonly counters: CatchUpServerCounters = {
    catchUps: 0,
    catchUpEntities: 0,
    catchUpDespawns: 0,
    catchUpRawBytes: 0,
    catchUpSentBytes: 0,
    catchUpChunks: 0,
    tooOld: 0,
    tooLarge: 0,
    waitTimeouts: 0,
    malformed: 0,
    futureLastSeq: 0,
    unsolicited: 0,
  };
  readonly waitMs: number;
  readonly maxHave: number;
  /** Resumed clients waiting for their Resync: the time their wait ends. */
  private readonly waiting = new Map<PeerReplication, number>();
  private batchId = 0;
  private touched = new Uint8Array(0);
  /** Scratch of recordLaneSend: triples (eid, component, pending mask). */
  private readonly lanePending: number[] = [];

  constructor(
    private readonly host: CatchUpHost,
    options: CatchUpOptions = {},
    private readonly onError?: ErrorHandler,
  ) {
    this.history = new ChangeHistory(options);
    this.history.begin(0);
    this.waitMs = options.waitMs ?? DEFAULT_RESYNC_WAIT_MS;
    this.maxHave = options.maxHave ?? DEFAULT_MAX_HAVE;
    if (!(this.waitMs >= 0)) throw new RangeError('catchUp.waitMs must be >= 0');
    if (!Number.isInteger(this.maxHave) || this.maxHave < 0) throw new RangeError('catchUp.maxHave must be >= 0');
  }

  /** Clients resumed and not yet brought up to date. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Starts the history's record of send tick `tick` (called by change detection, once per tick). */
  beginTick(tick: number): void {
    if (tick > this.history.newestTick) this.history.begin(tick);
  }

  /**
   * Runs `send` (the reliable lane's send to one client) and records, at this tick, every reliable-only field it
   * queued: a change that waited for bandwidth was recorded when detected, which may be older than the lastSeq of a
   * client whose link then drops with this message in flight (the lane does not keep what it queued pending).
   */
  recordLaneSend(d: DeliveryState, send: () => number): number {
    const comps = this.host.comps;
    const before = this.lanePending;
    before.length = 0;
    for (let i = 0; i < d.dirtyCount; i++) {
      const eid = d.dirty[i];
      for (let c = 0; c < comps.length; c++)
        if (comps[c].reliable && d.pending[c][eid] !== 0) before.push(eid, c, d.pending[c][eid]);
    }
    const sent = send();
    if (sent === 0 || before.length === 0) return sent;
    const reg = this.host.registry;
    for (let k = 0; k < before.length; k += 3) {
      const eid = before[k];
      const c = before[k + 1];
      const taken = before[k + 2] & ~d.pending[c][eid];
      if (taken !== 0 && reg.isReplicated(eid)) this.history.fields(reg.netIdOf[eid], c, taken);
    }
    return sent;
  }

  /** A suspended client is back: it gets no state (only the session's messages) until its Resync or `waitMs`. */
  resumed(p: PeerReplication, now: number): void {
    this.waiting.set(p, now + this.waitMs);
  }

  /** True while `p` resumed and its Resync has not been answered. */
  isWaiting(p: PeerReplication): boolean {
    return this.waiting.size > 0 && this.waiting.has(p);
  }

  /** The client left for good. */
  forget(p: PeerReplication): void {
    this.waiting.delete(p);
  }

  /** Sends a snapshot to each waiting client whose Resync did not come in time. */
  poll(now: number): void {
    if (this.waiting.size === 0) return;
    for (const [p, deadline] of this.waiting) {
      if (now < deadline) continue;
      this.counters.waitTimeouts++;
      this.snapshot(p);
    }
  }

  /** A Resync from `peer` (its replication state `p`, if any). */
  onResync(peer: ServerPeer, p: PeerReplication | undefined, msg: Uint8Array): void {
    if (p === undefined || !this.waiting.has(p)) {
      this.counters.unsolicited++;
      this.refuse(peer, 'Resync while not resuming; ignored');
      return;
    }
    const body = decodeCatchUpResync(msg, this.maxHave);
    if (typeof body === 'string') {
      this.counters.malformed++;
      this.refuse(peer, `${body}; answered with a snapshot`);
      return this.snapshot(p);
    }
    const h = this.host;
    if (body.lastSeq > h.currentTick()) {
      this.counters.futureLastSeq++;
      this.refuse(peer, `Resync lastSeq ${body.lastSeq} is ahead of tick ${h.currentTick()}; answered with a snapshot`);
      return this.snapshot(p);
    }
    // Every record of lastSeq's own tick too: a reliable message of that tick may have been sent after the one
    // the client applied.
    const from = body.lastSeq - 1;
    if (!this.history.covers(from)) {
      this.counters.tooOld++;
      return this.snapshot(p);
    }
    this.catchUp(p, from, body.have);
  }

  private catchUp(p: PeerReplication, from: number, have: Uint32Array): void {
    const h = this.host;
    const reg = h.registry;
    if (this.touched.length < reg.capacity) this.touched = new Uint8Array(reg.capacity);
    const touched = this.touched;
    touched.fill(0);
    // 1. what changed since: the room's history, and what this client's delivery state never saw acked
    this.history.since(from, (_kind, netId) => {
      const eid = reg.toLocal(netId);
      if (eid !== 0) touched[eid] = 1;
    });
    for (let i = 0; i < p.knownSet.count; i++) {
      const eid = p.knownSet.list[i];
      if (!p.delivery.isSettled(eid)) touched[eid] = 1;
    }
    // 2. against what the client holds and what it should hold now
    const relevant = h.resetInterest(p);
    const held = new Set<number>(have);
    const entities: number[] = [];
    for (const eid of relevant) if (touched[eid] === 1 || !held.has(reg.netIdOf[eid])) entities.push(eid);
    if (entities.length === relevant.length && relevant.length > 0) {
      this.counters.tooLarge++;
      return this.snapshot(p);
    }
    const despawns: number[] = [];
    for (const netId of have) {
      const eid = reg.toLocal(netId);
      if (eid === 0) despawns.push(netId, DESPAWN_DESTROYED);
      else if (!p.knows(eid)) despawns.push(netId, DESPAWN_OUT_OF_INTEREST);
    }
    // 3. the batch
    const figures: SnapshotFigures = { rawBytes: 0, sentBytes: 0, chunks: 0 };
    const plan = {
      id: ++this.batchId,
      tick: h.currentTick(),
      entities,
      count: entities.length,
      despawns,
      deflate: h.deflates(p),
    };
    const messages = writeCatchUpBatch(plan, h.comps, h.shadow, reg, h.scratch, figures);
    for (const m of messages) p.lastStructuralId = p.peer.connection.sendReliable(m);
    const c = this.counters;
    c.catchUps++;
    c.catchUpEntities += entities.length;
    c.catchUpDespawns += despawns.length / 2;
    c.catchUpRawBytes += figures.rawBytes;
    c.catchUpSentBytes += figures.sentBytes;
    c.catchUpChunks += figures.chunks;
    this.finish(p);
  }

  private snapshot(p: PeerReplication): void {
    this.host.sendSnapshot(p);
    this.finish(p);
  }

  private finish(p: PeerReplication): void {
    this.waiting.delete(p);
    this.host.finishResume(p);
  }

  private refuse(peer: ServerPeer, why: string): void {
    peer.counters.decodeErrors++;
    this.onError?.(new NetError('ResyncRefused', `client ${peer.clientId}: ${why}`));
  }
}
