/** The room's change history for catch-up (issue 14 §1): what it returns after a lastSeq, and its two bounds. */
import { describe, expect, it } from 'vitest';
import {
  ChangeHistory,
  ChangeKind,
  type ChangeKindValue,
  HISTORY_RECORD_BYTES,
} from '../../src/replication/change-history.ts';

type Row = [ChangeKindValue, number, number, number];

function since(h: ChangeHistory, lastSeq: number): Row[] | null {
  const rows: Row[] = [];
  return h.since(lastSeq, (kind, netId, c, arg) => rows.push([kind, netId, c, arg])) ? rows : null;
}

describe('change history', () => {
  it('returns exactly the records of the ticks after lastSeq, oldest first', () => {
    const h = new ChangeHistory({ maxTicks: 100 });
    h.begin(10);
    h.fields(1, 0, 0b11);
    h.structural(ChangeKind.Spawn, 2, 0, 0);
    h.begin(11);
    h.fields(1, 2, 0x80000001);
    h.fields(3, 0, 0); // an empty mask is not a change
    h.begin(12);
    h.structural(ChangeKind.Despawn, 2, 0, 1);
    h.structural(ChangeKind.ComponentAdd, 1, 3, 0);
    h.structural(ChangeKind.Owner, 1, 0, 7);
    expect(since(h, 9)).toEqual([
      [ChangeKind.Fields, 1, 0, 0b11],
      [ChangeKind.Spawn, 2, 0, 0],
      [ChangeKind.Fields, 1, 2, 0x80000001],
      [ChangeKind.Despawn, 2, 0, 1],
      [ChangeKind.ComponentAdd, 1, 3, 0],
      [ChangeKind.Owner, 1, 0, 7],
    ]);
    expect(since(h, 11)).toEqual([
      [ChangeKind.Despawn, 2, 0, 1],
      [ChangeKind.ComponentAdd, 1, 3, 0],
      [ChangeKind.Owner, 1, 0, 7],
    ]);
    expect(since(h, 12)).toEqual([]);
    expect(h.counters.records).toBe(6);
    expect(h.counters.bytes).toBe(6 * HISTORY_RECORD_BYTES);
  });

  it('refuses a lastSeq ahead of it, before it, or not an integer (hostile Resync values)', () => {
    const h = new ChangeHistory({ maxTicks: 100 });
    expect(since(h, 0)).toBeNull(); // nothing recorded yet
    h.begin(50);
    h.fields(1, 0, 1);
    expect(since(h, 49)).toEqual([[ChangeKind.Fields, 1, 0, 1]]);
    expect(since(h, 48)).toBeNull(); // before the history began: unknown
    expect(since(h, 51)).toBeNull(); // in the future
    expect(since(h, 2 ** 40)).toBeNull();
    expect(since(h, -5)).toBeNull();
    expect(since(h, 49.5)).toBeNull();
    expect(since(h, Number.NaN)).toBeNull();
  });

  it('the tick bound drops old ticks and stops covering them', () => {
    const h = new ChangeHistory({ maxTicks: 10 });
    for (let t = 1; t <= 30; t++) {
      h.begin(t);
      h.fields(t, 0, 1);
    }
    expect(h.coveredFrom).toBe(20);
    expect(h.counters.records).toBe(10);
    expect(h.counters.droppedForTicks).toBe(20);
    expect(since(h, 19)).toBeNull();
    expect(since(h, 20)?.map((r) => r[1])).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  });

  it('the byte bound drops the oldest records and refuses a lastSeq whose records were partly dropped', () => {
    const h = new ChangeHistory({ maxTicks: 1000, maxBytes: 8 * HISTORY_RECORD_BYTES });
    expect(h.capacity).toBe(8);
    h.begin(1);
    for (let i = 0; i < 5; i++) h.fields(100 + i, 0, 1);
    h.begin(2);
    for (let i = 0; i < 5; i++) h.fields(200 + i, 0, 1);
    // 10 records into 8: two of tick 1 went, so tick 1 is only partly known.
    expect(h.counters.records).toBe(8);
    expect(h.counters.bytes).toBe(8 * HISTORY_RECORD_BYTES);
    expect(h.counters.droppedForBytes).toBe(2);
    expect(since(h, 0)).toBeNull();
    expect(since(h, 1)?.map((r) => r[1])).toEqual([200, 201, 202, 203, 204]);
    // A flood within one tick keeps the newest records and covers only later ticks.
    h.begin(3);
    for (let i = 0; i < 1000; i++) h.fields(i, 0, 1);
    expect(h.counters.records).toBe(8);
    expect(h.counters.droppedForBytes).toBe(2 + 1000);
    expect(since(h, 2)).toBeNull();
    expect(since(h, 3)).toEqual([]);
  });

  it('ticks must grow, recording needs a tick, and bad bounds throw at once', () => {
    const h = new ChangeHistory();
    expect(() => h.fields(1, 0, 1)).toThrow(RangeError);
    h.begin(5);
    expect(() => h.begin(5)).toThrow(RangeError);
    expect(() => new ChangeHistory({ maxTicks: 0 })).toThrow(RangeError);
    expect(() => new ChangeHistory({ maxBytes: 4 })).toThrow(RangeError);
  });

  it('clear forgets everything and covers only from the current tick', () => {
    const h = new ChangeHistory();
    h.begin(1);
    h.fields(1, 0, 1);
    h.begin(2);
    h.clear();
    expect(h.counters.records).toBe(0);
    expect(since(h, 1)).toBeNull();
    expect(since(h, 2)).toEqual([]);
  });
});
