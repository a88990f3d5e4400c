/**
 * Catch-up on the wire (layouts in wire.md, "Resume and catch-up").
 *
 * Resync (client → server, reliable, once per resume): a MessagePack map
 *   { lastSeq: uint, n: uint, have: bin }   have = n varuint netIds, strictly ascending, each coded as the gap
 *   from the previous one (the first as itself).
 * Deltas (server → client, reliable, chunked like Snapshot): varuint batchId, varuint chunkIndex, varuint chunkCount,
 * varuint flags (bit 0 deflated), [deflated: varuint raw length], then byte-aligned the chunk:
 *   varuint tick, varuint despawnCount, despawnCount x { varuint netId, varuint reason (0 destroyed, 1 out of
 *   interest) }, varuint count, count x full entity (each starting on a byte).
 * Every decoder here validates before it trusts a count or an id; nothing throws.
 */
import { deflateSync } from 'fflate';
import { BitReader } from '../codec/bit-reader.ts';
import { BitWriter } from '../codec/bit-writer.ts';
import { encodeMessage } from '../codec/message-frame.ts';
import { decodeBody, encodeBody } from '../codec/msgpack-body.ts';
import { asUint, isRecord } from '../protocol/handshake.ts';
import { Tag } from '../protocol/tags.ts';
import type { RegisteredComponent } from '../register.ts';
import type { PackScratch } from './delta-packer.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { SNAPSHOT_CHUNK_BYTES, writeFullEntity } from './full-state.ts';
import type { ShadowStore } from './shadow-store.ts';
import { COMPRESS_MIN_BYTES, type SnapshotFigures, SnapshotFlag } from './snapshot-writer.ts';
import { beginMessage } from './wire-bodies.ts';

/** Most network ids a Resync may list (a larger world's client is answered with a snapshot). */
export const DEFAULT_MAX_HAVE = 262_144;

/** Despawn entries per Deltas chunk at most (a varuint id and a reason each: well inside a chunk). */
export const DESPAWNS_PER_CHUNK = 2048;

/** A decoded Resync: the last state tick the client applied and the ids it holds, ascending. */
export interface ResyncRequestBody {
  lastSeq: number;
  have: Uint32Array;
}

/** Encodes a framed Resync: `lastSeq` and the `n` ids of `have` (any order; they are sorted here). */
export function encodeCatchUpResync(lastSeq: number, have: ArrayLike<number>, n: number): Uint8Array {
  const ids = Uint32Array.from({ length: n }, (_, i) => have[i]).sort();
  const w = new BitWriter(16 + n * 3);
  let prev = 0;
  for (let i = 0; i < n; i++) {
    w.writeVarUint(ids[i] - prev);
    prev = ids[i];
  }
  return encodeMessage(Tag.Resync, encodeBody({ lastSeq, n, have: w.toBytes() }));
}

/** Decodes a framed Resync; a string says why it was refused (malformed, too many ids, ids not ascending). */
export function decodeCatchUpResync(msg: Uint8Array, maxHave = DEFAULT_MAX_HAVE): ResyncRequestBody | string {
  if (msg.length < 2) return 'truncated Resync';
  const decoded = decodeBody(msg.subarray(2));
  if (!decoded.ok || !isRecord(decoded.value)) return 'malformed Resync';
  const v = decoded.value;
  const lastSeq = asUint(v.lastSeq);
  const n = v.n === undefined ? 0 : asUint(v.n);
  const bytes = v.have === undefined ? new Uint8Array(0) : v.have;
  if (lastSeq === undefined || n === undefined || !(bytes instanceof Uint8Array)) return 'malformed Resync';
  // Each id takes at least one byte: a count the bytes cannot hold is refused before allocating for it.
  if (n > maxHave) return `Resync lists ${n} ids (at most ${maxHave})`;
  if (n > bytes.length) return 'Resync id count exceeds its bytes';
  const have = new Uint32Array(n);
  const r = new BitReader();
  r.reset(bytes);
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const gap = r.readVarUint();
    const id = prev + gap;
    if (!r.ok || (i > 0 && gap === 0) || id === 0 || id > 0xffffffff) return 'Resync ids malformed or not ascending';
    have[i] = id;
    prev = id;
  }
  if (r.remainingBits >= 8) return 'Resync has trailing bytes';
  return { lastSeq, have };
}

/** What one catch-up batch carries. */
export interface CatchUpPlan {
  id: number;
  tick: number;
  /** Entities sent in full (local ids of the server), and how many. */
  entities: ArrayLike<number>;
  count: number;
  /** Despawns: pairs (netId, reason). */
  despawns: readonly number[];
  deflate: boolean;
}

/** Writes a catch-up batch as framed Deltas messages (one per chunk of at most SNAPSHOT_CHUNK_BYTES raw). */
export function writeCatchUpBatch(
  plan: CatchUpPlan,
  comps: readonly RegisteredComponent[],
  shadow: ShadowStore,
  reg: EntityRegistry,
  scratch: PackScratch,
  figures: SnapshotFigures,
): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  const entity = new BitWriter(4096);
  const body = new BitWriter(SNAPSHOT_CHUNK_BYTES + 4096);
  const despawns = plan.despawns;
  let d = 0;
  let i = 0;
  do {
    // 1. one chunk: tick, despawns (a bounded run), then entities while they fit
    body.reset();
    body.writeVarUint(plan.tick);
    const dn = Math.min(DESPAWNS_PER_CHUNK, (despawns.length - d) / 2);
    body.writeVarUint(dn);
    for (let k = 0; k < dn; k++, d += 2) {
      body.writeVarUint(despawns[d]);
      body.writeVarUint(despawns[d + 1]);
    }
    const parts: Uint8Array[] = [];
    let bytes = body.byteLength + 4;
    while (i < plan.count) {
      entity.reset();
      writeFullEntity(entity, scratch, comps, shadow, reg, plan.entities[i]);
      entity.alignToByte();
      if ((parts.length > 0 || dn > 0) && bytes + entity.byteLength > SNAPSHOT_CHUNK_BYTES - 16) break;
      parts.push(entity.toBytes());
      bytes += entity.byteLength;
      i++;
    }
    body.writeVarUint(parts.length);
    for (const part of parts) body.writeBytes(part);
    bodies.push(body.toBytes());
  } while (i < plan.count || d < despawns.length);
  // 2. frame each chunk, deflated when it pays
  const w = new BitWriter(SNAPSHOT_CHUNK_BYTES + 64);
  const out: Uint8Array[] = [];
  for (let k = 0; k < bodies.length; k++) {
    const raw = bodies[k];
    let payload = raw;
    let flags = 0;
    if (plan.deflate && raw.length >= COMPRESS_MIN_BYTES) {
      const packed = deflateSync(raw, { level: 6 });
      if (packed.length * 10 < raw.length * 9) {
        payload = packed;
        flags |= SnapshotFlag.Deflated;
      }
    }
    beginMessage(w, Tag.Deltas);
    w.writeVarUint(plan.id);
    w.writeVarUint(k);
    w.writeVarUint(bodies.length);
    w.writeVarUint(flags);
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

/**
 * Reads the despawn list at the start of a chunk body (`r` just after the tick) into `out` as (netId, reason)
 * pairs; false when malformed (a count beyond the bytes, a reason other than 0 or 1, an id of 0).
 */
export function readCatchUpDespawns(r: BitReader, out: number[]): boolean {
  out.length = 0;
  const n = r.readVarUint();
  if (!r.ok || n > DESPAWNS_PER_CHUNK || n * 16 > r.remainingBits) return false;
  for (let k = 0; k < n; k++) {
    const netId = r.readVarUint();
    const reason = r.readVarUint();
    if (!r.ok || netId === 0 || reason > 1) return false;
    out.push(netId, reason);
  }
  return true;
}
