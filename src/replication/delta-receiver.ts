/**
 * Deltas from the server on the client: each applies once the reliable message it depends on has arrived;
 * until then it waits, bounded, in HeldDeltas (held-deltas.ts). Values go in only where this client is not the
 * owner (its own writes are the truth there) and only when newer than what the field holds.
 */
import type { Connection } from '../connection/connection.ts';
import type { RegisteredComponent } from '../register.ts';
import type { EntityMapper } from './compiled-field.ts';
import { applyEntityUpdates, type ApplyResult, type DeltaInfo, type PackScratch, openDelta } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { HeldDeltas } from './held-deltas.ts';
import type { ShadowStore } from './shadow-store.ts';
import type { BitReader } from './wire-bodies.ts';
import type { ClientBaselineDecoder } from './client-baseline-decoder.ts';

/** What deltas are applied to and reported through. */
export interface DeltaReceiverHost {
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly scratch: PackScratch;
  readonly mapper: EntityMapper;
  /** The reader the message router opened on the message's body. */
  readonly reader: BitReader;
  readonly counters: { heldDeltas: number; droppedHeldDeltas: number };
  /** This client's id (0 before Welcome). */
  clientId(): number;
  /** The current connection, or null while there is none. */
  connection(): Connection | null;
  /** The acked-baseline history, when the server granted `ackedbase`. */
  baselines(): ClientBaselineDecoder | undefined;
  /** False (counted, reported) when the server claims a tick too far ahead of what it sent so far. */
  plausibleTick(tick: number): boolean;
  report(code: 'DecodeError', message: string): void;
}

/** Applies the server's Deltas in the order of their dependencies. */
export class DeltaReceiver {
  private readonly h: DeltaReceiverHost;
  private readonly held = new HeldDeltas();
  private readonly info: DeltaInfo = { tick: 0, dependsOn: 0, count: 0, coarse: false };
  private readonly result: ApplyResult = { ok: true, applied: 0, forbidden: 0, unknown: 0 };

  constructor(host: DeltaReceiverHost) {
    this.h = host;
  }

  /** A Delta (the host's reader is on its body): applied now, or held until what it depends on arrives. */
  onDelta(msg: Uint8Array): void {
    const h = this.h;
    const r = h.reader;
    if (!openDelta(r, msg, this.info)) return h.report('DecodeError', 'malformed Delta header');
    if (!h.plausibleTick(this.info.tick)) return;
    const conn = h.connection();
    if (conn && !conn.isReliableDelivered(this.info.dependsOn)) {
      if (!this.held.hold(msg))
        h.report('DecodeError', 'too many deltas waiting for reliable messages; oldest dropped');
      h.counters.heldDeltas = this.held.heldTotal;
      h.counters.droppedHeldDeltas = this.held.dropped;
      return;
    }
    // Held deltas whose reliable messages arrived go first: a residual may name the tick of one of them.
    if (h.baselines() !== undefined && this.held.size > 0) {
      this.releaseHeld();
      openDelta(r, msg, this.info);
    }
    this.apply(r);
  }

  /** Applies the held deltas whose dependencies have arrived. */
  releaseHeld(): void {
    const conn = this.h.connection();
    if (this.held.size === 0 || !conn) return;
    const r = this.h.reader;
    this.held.release((msg) => {
      openDelta(r, msg, this.info);
      if (!conn.isReliableDelivered(this.info.dependsOn)) return false;
      this.apply(r);
      return true;
    });
  }

  /** Applies one Delta kept from the old link at once (catch-up: its dependency can no longer arrive). */
  applyOrphan(msg: Uint8Array): void {
    const r = this.h.reader;
    if (openDelta(r, msg, this.info)) this.apply(r);
  }

  /** Empties the held deltas and returns them (a new connection: catch-up decides what becomes of them). */
  takeHeld(): Uint8Array[] {
    return this.held.take();
  }

  private apply(r: BitReader): void {
    const h = this.h;
    const me = h.clientId();
    const owner = h.registry.owner;
    applyEntityUpdates(
      r,
      this.info,
      h.scratch,
      h.comps,
      h.shadow,
      h.registry,
      h.mapper,
      { canWrite: (eid) => owner[eid] !== me, updateShadow: true, baselines: h.baselines() },
      this.result,
    );
    if (!this.result.ok) h.report('DecodeError', 'malformed Delta dropped');
  }
}
