/** The client's snapshot reassembly: in-order chunks of one id, every header and length checked before inflating. */
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { Tag } from '../../src/protocol/tags.ts';
import {
  MAX_INFLATED_CHUNK_BYTES,
  MAX_SNAPSHOT_CHUNKS,
  SnapshotAssembler,
} from '../../src/replication/snapshot-assembler.ts';
import { SnapshotFlag } from '../../src/replication/snapshot-writer.ts';
import { beginMessage, BitReader, BitWriter, openBody } from '../../src/replication/wire-bodies.ts';

interface Chunk {
  id?: number;
  index: number;
  count: number;
  flags?: number;
  buckets?: [number, number];
  rawLength?: number;
  payload: Uint8Array;
}

function chunk(c: Chunk): Uint8Array {
  const w = new BitWriter(64);
  beginMessage(w, Tag.Snapshot);
  const flags = c.flags ?? 0;
  w.writeVarUint(c.id ?? 1);
  w.writeVarUint(c.index);
  w.writeVarUint(c.count);
  w.writeVarUint(flags);
  if (flags & SnapshotFlag.Partial) {
    w.writeU32(c.buckets![0]);
    w.writeU32(c.buckets![1]);
  }
  if (flags & SnapshotFlag.Deflated) w.writeVarUint(c.rawLength ?? 0);
  w.writeBytes(c.payload);
  return w.toBytes();
}

function feed(a: SnapshotAssembler, msg: Uint8Array) {
  const r = new BitReader();
  openBody(r, msg);
  return a.accept(r, msg);
}

const bytes = (n: number, v = 7) => new Uint8Array(n).fill(v);

describe('SnapshotAssembler', () => {
  it('hands over the chunks of a snapshot once the last arrives, raw and deflated alike, with its buckets', () => {
    const a = new SnapshotAssembler();
    const second = bytes(3000, 9);
    const packed = deflateSync(second);
    const flags = SnapshotFlag.Deflated | SnapshotFlag.Partial;
    expect(
      feed(a, chunk({ index: 0, count: 2, flags: SnapshotFlag.Partial, buckets: [5, 6], payload: bytes(4) })),
    ).toBe(null);
    const done = feed(a, chunk({ index: 1, count: 2, flags, buckets: [5, 6], rawLength: 3000, payload: packed }));
    expect(done).not.toBeTypeOf('string');
    const snap = done as Exclude<typeof done, string | null>;
    expect(snap.buckets).toEqual([5, 6]);
    expect(snap.chunks.map((c) => c.length)).toEqual([4, 3000]);
    expect(snap.chunks[1].every((x) => x === 9)).toBe(true);
  });

  it('refuses malformed headers: no chunks, index past count, too many chunks, unknown flags, truncated', () => {
    const a = new SnapshotAssembler();
    expect(feed(a, chunk({ index: 0, count: 0, payload: bytes(1) }))).toBe('malformed Snapshot chunk');
    expect(feed(a, chunk({ index: 2, count: 2, payload: bytes(1) }))).toBe('malformed Snapshot chunk');
    expect(feed(a, chunk({ index: 0, count: MAX_SNAPSHOT_CHUNKS + 1, payload: bytes(1) }))).toBe(
      'malformed Snapshot chunk',
    );
    expect(feed(a, chunk({ index: 0, count: 1, flags: 4, payload: bytes(1) }))).toBe('malformed Snapshot chunk');
    expect(feed(a, chunk({ index: 0, count: 1, payload: bytes(0) }).subarray(0, 4))).toBe('malformed Snapshot chunk');
    // The largest allowed count is accepted.
    expect(feed(a, chunk({ index: 0, count: MAX_SNAPSHOT_CHUNKS, payload: bytes(1) }))).toBe(null);
  });

  it('refuses chunks out of sequence: a gap, another snapshot id, another count', () => {
    const a = new SnapshotAssembler();
    expect(feed(a, chunk({ index: 0, count: 3, payload: bytes(1) }))).toBe(null);
    expect(feed(a, chunk({ index: 2, count: 3, payload: bytes(1) }))).toBe('Snapshot chunk out of sequence');
    expect(feed(a, chunk({ id: 2, index: 1, count: 3, payload: bytes(1) }))).toBe('Snapshot chunk out of sequence');
    expect(feed(a, chunk({ index: 1, count: 4, payload: bytes(1) }))).toBe('Snapshot chunk out of sequence');
    // After a reset (a new connection) the rest of the old snapshot no longer fits.
    a.reset();
    expect(feed(a, chunk({ index: 1, count: 3, payload: bytes(1) }))).toBe('Snapshot chunk out of sequence');
  });

  it('checks the raw length before inflating, and that the body inflates to exactly it', () => {
    const a = new SnapshotAssembler();
    const f = SnapshotFlag.Deflated;
    const big = deflateSync(bytes(MAX_INFLATED_CHUNK_BYTES + 1));
    expect(
      feed(a, chunk({ index: 0, count: 1, flags: f, rawLength: MAX_INFLATED_CHUNK_BYTES + 1, payload: big })),
    ).toBe('Snapshot chunk too large');
    expect(feed(a, chunk({ index: 0, count: 1, flags: f, rawLength: 0, payload: big }))).toBe(
      'Snapshot chunk too large',
    );
    // A deflate bomb claiming a small size stays within the claimed buffer.
    const claimed = feed(a, chunk({ index: 0, count: 1, flags: f, rawLength: 100, payload: deflateSync(bytes(1e5)) }));
    expect(claimed).toBe('Snapshot chunk inflates to the wrong size');
    const short = feed(a, chunk({ index: 0, count: 1, flags: f, rawLength: 100, payload: deflateSync(bytes(10)) }));
    expect(short).toBe('Snapshot chunk inflates to the wrong size');
    expect(feed(a, chunk({ index: 0, count: 1, flags: f, rawLength: 10, payload: bytes(5, 0xff) }))).toMatch(/inflate/);
  });
});
