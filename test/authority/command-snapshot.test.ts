/** Command snapshot chunks: round trip at any size, and the client's checks before it reads or inflates a chunk. */
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { decodeBody, encodeBody } from '../../src/codec/msgpack-body.ts';
import type { CommandRow } from '../../src/authority/command-log.ts';
import {
  COMMAND_CHUNK_BYTES,
  CommandSnapshotAssembler,
  MAX_COMMAND_CHUNK_RAW_BYTES,
  MAX_COMMAND_SNAPSHOT_CHUNKS,
  writeCommandSnapshot,
} from '../../src/authority/command-snapshot.ts';

function bodies(messages: Uint8Array[]): unknown[] {
  return messages.map((m) => {
    const d = decodeBody(m.subarray(2));
    if (!d.ok) throw new Error('undecodable');
    return d.value;
  });
}

function rowsOf(n: number, valueBytes = 20): CommandRow[] {
  const rows: CommandRow[] = [];
  for (let i = 0; i < n; i++) rows.push([`t:${String(i).padStart(6, '0')}`, 'v'.repeat(valueBytes), i + 1, 3, i + 1]);
  return rows;
}

describe('command snapshot chunks', () => {
  it('round-trips an empty state, one large row, and 70,000 rows, raw and deflated', () => {
    for (const rows of [[], [['big', 'x'.repeat(40_000), 1, 1, 1] as CommandRow], rowsOf(70_000)]) {
      for (const deflate of [false, true]) {
        const f = { rows: 0, chunks: 0, rawBytes: 0, sentBytes: 0 };
        const msgs = writeCommandSnapshot({ id: 9, index: 70_000, lastSeq: 4, rows, deflate }, f);
        const a = new CommandSnapshotAssembler();
        const results = bodies(msgs).map((b) => a.accept(b));
        const done = results.pop();
        expect(results.every((r) => r === 'partial')).toBe(true);
        expect(done).toEqual({ index: 70_000, lastSeq: 4, rows });
        expect(f.chunks).toBe(msgs.length);
        for (const m of msgs) expect(m.length).toBeLessThan(COMMAND_CHUNK_BYTES + 41_000);
        if (deflate && rows.length > 1000) expect(f.sentBytes).toBeLessThan(f.rawBytes / 2);
      }
    }
  });

  it('refuses too many chunks, oversized or lying raw lengths, and chunks out of sequence', () => {
    const a = new CommandSnapshotAssembler();
    const rows = encodeBody([['a', 1, 1, 1, 1]]);
    const base = { s: 1, n: 0, of: 1, i: 1, last: 0, r: rows };
    expect(a.accept({ ...base, of: MAX_COMMAND_SNAPSHOT_CHUNKS + 1 })).toMatch(/malformed/);
    expect(a.accept({ ...base, n: 1 })).toMatch(/malformed/);
    expect(a.accept({ ...base, r: deflateSync(rows), z: MAX_COMMAND_CHUNK_RAW_BYTES + 1 })).toMatch(/too large/);
    expect(a.accept({ ...base, r: new Uint8Array(MAX_COMMAND_CHUNK_RAW_BYTES + 1) })).toMatch(/too large/);
    // A chunk that inflates past what it claims is refused (the output buffer has the claimed size).
    const bomb = deflateSync(new Uint8Array(100_000));
    expect(a.accept({ ...base, r: bomb, z: 1000 })).toMatch(/inflate|rows/);
    expect(a.accept({ ...base, r: deflateSync(rows), z: rows.length + 5 })).toMatch(/inflate|rows/);
    expect(a.heldRows).toBe(0);
    // A row with a version after the snapshot's index is refused.
    expect(a.accept({ ...base, r: encodeBody([['a', 1, 1, 1, 5]]) })).toMatch(/rows/);
    // Out of sequence: the second chunk of another snapshot; then a skipped chunk. Both reset the collector.
    expect(a.accept({ ...base, of: 3 })).toBe('partial');
    expect(a.heldRows).toBe(1);
    expect(a.accept({ ...base, s: 2, n: 1, of: 3 })).toMatch(/sequence/);
    expect(a.heldRows).toBe(0);
    expect(a.accept({ ...base, of: 3 })).toBe('partial');
    expect(a.accept({ ...base, n: 2, of: 3 })).toMatch(/sequence/);
    expect(a.accept(base)).toEqual({ index: 1, lastSeq: 0, rows: [['a', 1, 1, 1, 1]] });
  });
});
