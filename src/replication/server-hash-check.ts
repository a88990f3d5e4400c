/**
 * The server's side of the periodic state check (client-hash-check.ts is the client's): a StateHash of the
 * settled buckets of each client, the ResyncRequests that answer a mismatch, and the partial snapshots that serve
 * them within each client's resync budget (resync-budget.ts).
 */
import type { Clock } from '../clock.ts';
import { type ErrorHandler, NetError } from '../errors.ts';
import { Tag } from '../protocol/tags.ts';
import type { RegisteredComponent } from '../register.ts';
import type { ServerPeer } from '../session/server-session.ts';
import { maskOf } from './bucket-mask.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { InterestIndex } from './interest.ts';
import type { PeerReplication } from './peer-replication.ts';
import type { ResyncBudget } from './resync-budget.ts';
import type { ServerReplicationCounters } from './server-counters.ts';
import type { ShadowStore } from './shadow-store.ts';
import type { SnapshotFigures } from './snapshot-writer.ts';
import { BucketHashes, entityHash, HASH_BUCKETS } from './state-hash.ts';
import { beginMessage, BitReader, type BitWriter, openBody } from './wire-bodies.ts';
import type { Fidelity } from './fidelity.ts';

/** What the hash check reads, sends through and counts. */
export interface ServerHashCheckHost {
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly interest: InterestIndex;
  readonly peers: ReadonlyMap<number, PeerReplication>;
  readonly resync: ResyncBudget;
  readonly counters: ServerReplicationCounters;
  readonly clock: Clock;
  readonly writer: BitWriter;
  readonly onError: ErrorHandler | undefined;
  /** Fidelity levels by distance, or null: an entity a client holds coarse is left out of its hash. */
  readonly fidelity: Fidelity | null;
  /** Sends `p` a partial snapshot of the given buckets. */
  sendSnapshot(p: PeerReplication, buckets: [number, number]): SnapshotFigures;
}

/** StateHash out, ResyncRequest in, partial snapshots back out. */
export class ServerHashCheck {
  private readonly h: ServerHashCheckHost;
  private readonly hashes = new BucketHashes();
  private readonly reader = new BitReader();

  constructor(host: ServerHashCheckHost) {
    this.h = host;
  }

  /**
   * StateHash: for each bucket whose entities are all settled for this client (nothing pending or in flight),
   * the sum of their hashes. Entities the client owns are left out (it is ahead of the server on those).
   * Body: varuint tick, u32 mask low, u32 mask high, one u32 per set bit.
   */
  sendStateHash(p: PeerReplication, tick: number): void {
    const { registry: reg, comps, shadow, interest } = this.h;
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
        this.h.fidelity?.holdsCoarse(p, eid) === true ||
        (pausing && interest.isPaused(p.interest, eid)) ||
        interest.isMuted(eid)
      ) {
        h.invalidate(netId);
        continue;
      }
      h.add(netId, entityHash(comps, reg, shadow, eid));
    }
    const [lo, hi] = maskOf((b) => h.valid[b] === 1);
    if (lo === 0 && hi === 0) return;
    const w = this.h.writer;
    beginMessage(w, Tag.StateHash);
    w.writeVarUint(tick);
    w.writeU32(lo >>> 0);
    w.writeU32(hi >>> 0);
    for (let b = 0; b < HASH_BUCKETS; b++) if (h.valid[b]) w.writeU32(h.sums[b]);
    p.peer.connection.sendReliable(w.toBytes());
    this.h.counters.hashesSent++;
    this.h.resync.hashSent(p, this.h.clock.now());
  }

  /**
   * ResyncRequest: u32 bucket mask low, u32 high. The buckets join the client's pending mask (coalesced); the
   * send tick answers with a partial snapshot of as many as its resync budget allows.
   */
  onResyncRequest(peer: ServerPeer, msg: Uint8Array): void {
    const p = this.h.peers.get(peer.clientId);
    const r = this.reader;
    openBody(r, msg);
    const lo = r.readU32();
    const hi = r.readU32();
    if (!p || !r.ok) {
      peer.counters.decodeErrors++;
      this.h.onError?.(new NetError('DecodeError', `client ${peer.clientId}: malformed ResyncRequest`));
      return;
    }
    const resync = this.h.resync;
    const verdict = resync.request(p, lo, hi, this.h.clock.now());
    if (verdict === 'ok' || verdict === 'unsolicited') return;
    const message = `client ${peer.clientId}: ResyncRequest without a StateHash to answer`;
    this.h.onError?.(new NetError('RateLimited', message));
    if (verdict === 'offender')
      peer.fatal ??= {
        code: 'RateLimited',
        message: `more than ${resync.limits.maxOverBudget} unsolicited ResyncRequests over the resync budget`,
      };
  }

  /** Sends `p` the pending resync buckets its budget allows this tick, as one partial snapshot. */
  serveResync(p: PeerReplication, now: number): void {
    const resync = this.h.resync;
    const due = resync.take(p, now);
    if (due === null) return;
    const buckets: [number, number] = [due[0], due[1]];
    this.h.counters.resyncs++;
    this.h.onError?.(new NetError('HashMismatch', `client ${p.peer.clientId} diverged; resyncing buckets`));
    resync.served(p, buckets, this.h.sendSnapshot(p, buckets), now);
  }
}
