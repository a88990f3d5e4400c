/**
 * The client's reassembly of a chunked snapshot (the layout is in snapshot-writer.ts): each chunk header is
 * checked before its body is kept, a deflated chunk's raw length is checked before inflating (so a chunk can
 * never expand past MAX_INFLATED_CHUNK_BYTES), chunks must arrive in order within one snapshot id, and at most
 * MAX_SNAPSHOT_CHUNKS are buffered. A complete snapshot is handed over as its inflated chunk bodies.
 */
import { inflateExactly } from '../codec/exact-inflate.ts';
import type { BitReader } from '../codec/bit-reader.ts';
import { SnapshotFlag } from './snapshot-writer.ts';

/** Largest inflated snapshot chunk accepted: chunks are cut at 16 KiB, one entity may overshoot a little. */
export const MAX_INFLATED_CHUNK_BYTES = 256 * 1024;

/** Snapshot chunks buffered before refusing a snapshot (16 KiB each: 8 MiB, the reliable message cap). */
export const MAX_SNAPSHOT_CHUNKS = 512;

/** A complete snapshot: its chunk bodies in order, and the hash buckets it covers (null: the whole state). */
export interface AssembledSnapshot {
  chunks: Uint8Array[];
  buckets: [number, number] | null;
}

/** Collects the chunks of one snapshot at a time. */
export class SnapshotAssembler {
  private id = -1;
  private chunks: Uint8Array[] = [];
  private count = 0;
  private buckets: [number, number] | null = null;

  /** Forgets a partly received snapshot (a new connection: its remaining chunks will never come). */
  reset(): void {
    this.chunks = [];
  }

  /**
   * Takes one Snapshot message (`r` opened on its body, `msg` the whole message). Returns the snapshot when this
   * chunk completes it, null while chunks are missing, or a string saying why the chunk was refused.
   */
  accept(r: BitReader, msg: Uint8Array): AssembledSnapshot | string | null {
    const id = r.readVarUint();
    const index = r.readVarUint();
    const count = r.readVarUint();
    const flags = r.readVarUint();
    const lo = flags & SnapshotFlag.Partial ? r.readU32() : 0;
    const hi = flags & SnapshotFlag.Partial ? r.readU32() : 0;
    const rawLength = flags & SnapshotFlag.Deflated ? r.readVarUint() : 0;
    r.alignToByte();
    if (!r.ok || count === 0 || count > MAX_SNAPSHOT_CHUNKS || index >= count || flags > 3)
      return 'malformed Snapshot chunk';
    if (index === 0) {
      this.id = id;
      this.chunks = [];
      this.count = count;
      this.buckets = flags & SnapshotFlag.Partial ? [lo >>> 0, hi >>> 0] : null;
    }
    if (id !== this.id || index !== this.chunks.length || count !== this.count) return 'Snapshot chunk out of sequence';
    let body = msg.subarray(2 + (r.bitPosition >> 3));
    if (flags & SnapshotFlag.Deflated) {
      if (rawLength === 0 || rawLength > MAX_INFLATED_CHUNK_BYTES) return 'Snapshot chunk too large';
      const out = inflateExactly(body, rawLength);
      if (typeof out === 'string') return `Snapshot chunk ${out}`;
      body = out;
    } else body = body.slice();
    this.chunks.push(body);
    if (this.chunks.length < count) return null;
    const done = { chunks: this.chunks, buckets: this.buckets };
    this.chunks = [];
    return done;
  }
}
