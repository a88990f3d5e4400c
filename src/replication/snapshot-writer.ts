/**
 * Snapshot chunks for join and resync. A snapshot lists entities in full, split into chunks of at most
 * SNAPSHOT_CHUNK_BYTES before compression; each chunk is deflated (fflate) when the client offered it and it
 * saves at least a tenth. A partial snapshot covers only some hash buckets (a resync of what diverged).
 *
 * Snapshot body: varuint snapshotId, varuint chunkIndex, varuint chunkCount, varuint flags (bit 0 deflated,
 * bit 1 partial), [partial: u32 bucket mask low, u32 bucket mask high], [deflated: varuint raw length], then
 * byte-aligned the chunk: varuint tick, varuint count, count x full entity (each starting on a byte).
 */
import { deflateSync } from 'fflate';
import { BitWriter } from '../codec/bit-writer.ts';
import { Tag } from '../protocol/tags.ts';
import type { RegisteredComponent } from '../register.ts';
import type { PackScratch } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { SNAPSHOT_CHUNK_BYTES, writeFullEntity } from './full-state.ts';
import type { ShadowStore } from './shadow-store.ts';
import { beginMessage } from './wire-bodies.ts';

/** Snapshot flag bits. */
export const SnapshotFlag = { Deflated: 1, Partial: 2 } as const;

/** Chunks smaller than this are sent raw: deflate's header and the CPU cost do not pay below it. */
export const COMPRESS_MIN_BYTES = 256;

/** What a snapshot covers and how it travels. */
export interface SnapshotPlan {
  id: number;
  tick: number;
  /** Entities to include, in order. */
  entities: ArrayLike<number>;
  count: number;
  deflate: boolean;
  /** Bucket mask (two u32 halves) of a partial snapshot, or null for a full one. */
  buckets: [number, number] | null;
}

/** Figures of one written snapshot, for stats. */
export interface SnapshotFigures {
  rawBytes: number;
  sentBytes: number;
  chunks: number;
}

/** Writes a snapshot as framed Snapshot messages (one per chunk). */
export function writeSnapshot(
  plan: SnapshotPlan,
  comps: readonly RegisteredComponent[],
  shadow: ShadowStore,
  reg: EntityRegistry,
  scratch: PackScratch,
  figures: SnapshotFigures,
): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  const entity = new BitWriter(4096);
  const body = new BitWriter(SNAPSHOT_CHUNK_BYTES + 4096);
  let i = 0;
  do {
    // 1. fill one chunk: tick, count, entities while they fit
    const parts: Uint8Array[] = [];
    let bytes = 0;
    while (i < plan.count) {
      entity.reset();
      writeFullEntity(entity, scratch, comps, shadow, reg, plan.entities[i]);
      entity.alignToByte();
      if (parts.length > 0 && bytes + entity.byteLength > SNAPSHOT_CHUNK_BYTES - 16) break;
      parts.push(entity.toBytes());
      bytes += entity.byteLength;
      i++;
    }
    body.reset();
    body.writeVarUint(plan.tick);
    body.writeVarUint(parts.length);
    for (const part of parts) body.writeBytes(part);
    bodies.push(body.toBytes());
  } while (i < plan.count);
  // 2. frame each chunk, deflated when it pays
  const w = new BitWriter(SNAPSHOT_CHUNK_BYTES + 64);
  const out: Uint8Array[] = [];
  for (let k = 0; k < bodies.length; k++) {
    const raw = bodies[k];
    let payload = raw;
    let flags = plan.buckets ? SnapshotFlag.Partial : 0;
    if (plan.deflate && raw.length >= COMPRESS_MIN_BYTES) {
      const packed = deflateSync(raw, { level: 6 });
      if (packed.length * 10 < raw.length * 9) {
        payload = packed;
        flags |= SnapshotFlag.Deflated;
      }
    }
    beginMessage(w, Tag.Snapshot);
    w.writeVarUint(plan.id);
    w.writeVarUint(k);
    w.writeVarUint(bodies.length);
    w.writeVarUint(flags);
    if (plan.buckets) {
      w.writeU32(plan.buckets[0]);
      w.writeU32(plan.buckets[1]);
    }
    if (flags & SnapshotFlag.Deflated) w.writeVarUint(raw.length);
    w.writeBytes(payload);
    const msg = w.toBytes();
    figures.rawBytes += raw.length;
    figures.sentBytes += msg.length;
    out.push(msg);
  }
  figures.chunks += out.length;
  return out;
}
