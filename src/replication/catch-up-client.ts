/**
 * The client's half of catch-up (see catch-up-server.ts for the protocol). It keeps `lastSeq`, the newest server
 * tick of a reliable state message applied in order (Snapshot, Spawn, ComponentAdd, StateHash, Deltas): every
 * reliable message of an earlier tick reached this client. Unreliable Deltas do not count (a reliable string Delta
 * of their tick may be lost). On a resume it sends Resync {lastSeq, have} and keeps the Deltas that were held for a
 * reliable message of the old link (their packets were acked, so the server will not resend them): they are applied
 * after the batch, field by field in tick order, so a newer value from the batch always wins. The batch is reassembled
 * (bounded, validated chunk by chunk) and applied; a malformed one is dropped, counted, and answered with a request
 * to resync every bucket.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { ErrorHandler } from '../errors.ts';
import { NetError } from '../errors.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { encodeCatchUpResync, readCatchUpDespawns } from './catch-up-wire.ts';
import { SnapshotAssembler } from './snapshot-assembler.ts';
import { DESPAWN_OUT_OF_INTEREST } from './wire-bodies.ts';

/** Counters of catch-up on a client. */
export interface CatchUpClientCounters {
  /** Resyncs sent (one per resume). */
  resyncsSent: number;
  /** Deltas batches applied, the entities they carried in full, the despawns they listed. */
  batches: number;
  /** Entities the batches carried in full. */
  entities: number;
  /** Despawns the batches listed. */
  despawns: number;
  /** Held Deltas of the old link applied after a batch. */
  orphansApplied: number;
  /** Deltas chunks or batches refused as malformed or out of sequence. */
  invalid: number;
}

/** What the client half needs from the client replicator. */
export interface CatchUpClientHost {
  readonly registry: EntityRegistry;
  plausibleTick(tick: number): boolean;
  /** Reads `count` full entities at `r` (each byte-aligned) and applies them; false when malformed (nothing applied). */
  applyFullEntities(r: BitReader, count: number, tick: number, seen: Set<number>): boolean;
  /** Removes the entity of `netId`, if here. */
  despawn(netId: number, outOfInterest: boolean): void;
  /** After despawns: references to removed entities wait for them again. */
  unlinkDestroyed(): void;
  /** Applies one Delta kept from the old link (its dependency can no longer arrive). */
  applyOrphan(msg: Uint8Array): void;
  /** Asks the server to resync every bucket (a batch was malformed). */
  askFullResync(): void;
}

/** Catch-up state of one client replicator. */
export class CatchUpClient {
  /** The newest server tick of a reliable state message applied in order (0: none yet). */
  lastSeq = 0;
  readonly counters: CatchUpClientCounters = {
    resyncsSent: 0,
    batches: 0,
    entities: 0,
    despawns: 0,
    orphansApplied: 0,
    invalid: 0,
  };
  private orphans: Uint8Array[] = [];
  private readonly assembler = new SnapshotAssembler();
  private readonly despawns: number[] = [];

  constructor(
    private readonly host: CatchUpClientHost,
    private readonly onError?: ErrorHandler,
  ) {}

  /** A reliable state message of server tick `tick` was applied. */
  applied(tick: number): void {
    if (tick > this.lastSeq) this.lastSeq = tick;
  }

  /**
   * A new connection: for a resume, the Resync to send (and the held Deltas of the old link are kept for after the
   * batch); for a fresh session, null (the server sends a snapshot).
   */
  welcomed(resumed: boolean, held: Uint8Array[]): Uint8Array | null {
    this.assembler.reset();
    if (!resumed) {
      this.orphans = [];
      this.lastSeq = 0;
      return null;
    }
    this.orphans = held;
    const reg = this.host.registry;
    const ids: number[] = [];
    for (let i = 0; i < reg.count; i++) ids.push(reg.netIdOf[reg.list[i]]);
    this.counters.resyncsSent++;
    return encodeCatchUpResync(this.lastSeq, ids, ids.length);
  }

  /** A full snapshot was applied: it carries everything, the held Deltas of the old link are void. */
  snapshotApplied(): void {
    this.orphans = [];
  }

  /** One Deltas chunk (`r` opened on its body, `msg` the whole message); applies the batch it completes. */
  accept(r: BitReader, msg: Uint8Array): void {
    const done = this.assembler.accept(r, msg);
    if (done === null) return;
    if (typeof done === 'string' || done.buckets !== null)
      return this.invalid(typeof done === 'string' ? done.replace('Snapshot', 'Deltas') : 'Deltas marked partial');
    const h = this.host;
    const seen = new Set<number>();
    let tick = 0;
    for (const chunk of done.chunks) {
      r.reset(chunk, 0);
      tick = r.readVarUint();
      if (!r.ok || !h.plausibleTick(tick) || !readCatchUpDespawns(r, this.despawns)) {
        h.unlinkDestroyed();
        return this.invalid('malformed Deltas chunk');
      }
      const count = r.readVarUint();
      if (!r.ok || count * 8 > r.remainingBits || !h.applyFullEntities(r, count, tick, seen)) {
        h.unlinkDestroyed();
        return this.invalid('malformed Deltas entities');
      }
      const d = this.despawns;
      for (let k = 0; k < d.length; k += 2) h.despawn(d[k], d[k + 1] === DESPAWN_OUT_OF_INTEREST);
      this.counters.despawns += d.length / 2;
      this.counters.entities += count;
    }
    h.unlinkDestroyed();
    // The old link's held Deltas: older than the batch field by field, so only values it did not carry stay.
    for (const m of this.orphans) h.applyOrphan(m);
    this.counters.orphansApplied += this.orphans.length;
    this.orphans = [];
    this.counters.batches++;
    this.applied(tick);
  }

  private invalid(why: string): void {
    this.counters.invalid++;
    this.onError?.(new NetError('CatchUpInvalid', `${why}; asking for a resync of every bucket`));
    this.host.askFullResync();
  }
}
