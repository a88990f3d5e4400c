/**
 * Owner writes on the server: a client's Delta is applied to the entities it owns (through the write gate of
 * owner-write-filter.ts; any other entity is `Forbidden` and left untouched), and its OwnerHash, the check of
 * that write stream, is compared with what the server applied (owner-hash.ts).
 */
import type { Clock } from '../clock.ts';
import { type ErrorHandler, NetError } from '../errors.ts';
import { Tag } from '../protocol/tags.ts';
import type { RegisteredComponent } from '../register.ts';
import type { ServerPeer, ServerSession } from '../session/server-session.ts';
import {
  applyEntityUpdates,
  type ApplyResult,
  type DeltaInfo,
  type PackScratch,
  readDeltaHeader,
} from './delta-packer.ts';
import type { ChangeMarks } from './change-marks.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { matchesApplied, readOwnerHash } from './owner-hash.ts';
import type { OwnerWriteFilter } from './owner-write-filter.ts';
import type { PeerReplication } from './peer-replication.ts';
import type { ServerReplicationCounters } from './server-counters.ts';
import type { ShadowStore } from './shadow-store.ts';
import { beginMessage, BitReader, type BitWriter, openBody } from './wire-bodies.ts';
import type { WriteGate } from './write-gate.ts';

/** What owner writes are applied to, checked by and reported through. */
export interface OwnerWritesHost {
  readonly comps: readonly RegisteredComponent[];
  readonly registry: EntityRegistry;
  readonly shadow: ShadowStore;
  readonly scratch: PackScratch;
  readonly peers: ReadonlyMap<number, PeerReplication>;
  readonly ownerFilter: OwnerWriteFilter;
  readonly writeGate: WriteGate;
  readonly counters: ServerReplicationCounters;
  readonly clock: Clock;
  readonly writer: BitWriter;
  readonly session: Pick<ServerSession, 'sendError'>;
  readonly onError: ErrorHandler | undefined;
  /** Change marks: an accepted write marks its entity, so components detected from marks see it. */
  readonly marks: ChangeMarks;
}

/** A client's Deltas to what it owns, and the OwnerHash that checks them. */
export class OwnerWrites {
  private readonly h: OwnerWritesHost;
  private readonly reader = new BitReader();
  private readonly deltaInfo: DeltaInfo = { tick: 0, dependsOn: 0, count: 0 };
  private readonly applyResult: ApplyResult = { ok: true, applied: 0, forbidden: 0, unknown: 0 };

  constructor(host: OwnerWritesHost) {
    this.h = host;
  }

  /** Applies a client's writes to the entities it owns; any other entity is `Forbidden` and left untouched. */
  onDelta(peer: ServerPeer, msg: Uint8Array): void {
    const h = this.h;
    const r = this.reader;
    const info = this.deltaInfo;
    const result = this.applyResult;
    openBody(r, msg);
    const filter = h.ownerFilter;
    filter.begin(peer.clientId);
    if (readDeltaHeader(r, info)) {
      const p = h.peers.get(peer.clientId);
      if (p && !p.ownerTicks.accept(info.tick, h.clock.now())) {
        h.counters.futureTicks++;
        peer.counters.decodeErrors++;
        h.onError?.(new NetError('DecodeError', `client ${peer.clientId}: Delta tick ${info.tick} too far ahead`));
        return;
      }
      const clientId = peer.clientId;
      const { registry, marks } = h;
      const owner = registry.owner;
      const canWrite = (eid: number): boolean => {
        if (owner[eid] !== clientId) return false;
        marks.markEntity(eid, registry.capacity); // a refused write costs only a wire compare
        return true;
      };
      applyEntityUpdates(
        r,
        info,
        h.scratch,
        h.comps,
        h.shadow,
        h.registry,
        h.registry,
        { canWrite, updateShadow: false, filter },
        result,
      );
    } else result.ok = false;
    if (!result.ok) {
      peer.counters.decodeErrors++;
      h.onError?.(new NetError('DecodeError', `client ${peer.clientId}: malformed Delta dropped`));
      return;
    }
    if (result.forbidden > 0) {
      peer.counters.rejectedWrites += result.forbidden;
      const n = result.forbidden;
      const message = `client ${peer.clientId} wrote ${n} entit${n === 1 ? 'y' : 'ies'} it does not own`;
      h.onError?.(new NetError('Forbidden', message));
      h.session.sendError(peer, 'Forbidden', message, false);
    }
    if (result.unknown > 0)
      h.onError?.(new NetError('UnknownEntity', `client ${peer.clientId} wrote ${result.unknown} unknown entities`));
    if (filter.refused > 0) {
      peer.counters.rejectedWrites += filter.refused;
      const message = `client ${peer.clientId}: ${filter.refused} component write(s) refused (${h.writeGate.reason})`;
      h.onError?.(new NetError('InvalidWrite', message));
      h.session.sendError(peer, 'InvalidWrite', message, false);
    }
  }

  /**
   * OwnerHash from a client: epochs must follow each other (else `EpochGap`); the hash must match what the
   * server applied for that client's entities (else `HashMismatch`). Either way the frame is dropped, counted,
   * and the client is asked to send its owned state again. Skipped when newer writes were already applied.
   */
  onOwnerHash(peer: ServerPeer, msg: Uint8Array): void {
    const h = this.h;
    const p = h.peers.get(peer.clientId);
    const r = this.reader;
    openBody(r, msg);
    const body = readOwnerHash(r);
    if (!p || body === null) {
      peer.counters.decodeErrors++;
      h.onError?.(new NetError('DecodeError', `client ${peer.clientId}: malformed OwnerHash`));
      return;
    }
    const expected = p.nextOwnerEpoch;
    p.nextOwnerEpoch = body.epoch + 1;
    if (body.epoch !== expected) {
      h.counters.epochGaps++;
      const why = `client ${peer.clientId}: owner epoch ${body.epoch}, expected ${expected}`;
      h.onError?.(new NetError('EpochGap', why));
      this.askOwnerResync(peer);
      return;
    }
    if (matchesApplied(body, peer.clientId, h.comps, h.registry, h.shadow) !== false) return;
    h.counters.ownerHashMismatches++;
    h.onError?.(
      new NetError('HashMismatch', `client ${peer.clientId}: owned state differs from what the server applied`),
    );
    this.askOwnerResync(peer);
  }

  private askOwnerResync(peer: ServerPeer): void {
    const w = this.h.writer;
    beginMessage(w, Tag.ResyncRequest);
    peer.connection.sendReliable(w.toBytes());
  }
}
