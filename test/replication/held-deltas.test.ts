/** Deltas held for their reliable dependency: released in order once it arrives, bounded with the oldest dropped. */
import { describe, expect, it } from 'vitest';
import { HeldDeltas } from '../../src/replication/held-deltas.ts';

describe('HeldDeltas', () => {
  it('holds copies and releases, oldest first, the ones whose dependency arrived', () => {
    const h = new HeldDeltas(8);
    const a = Uint8Array.of(1);
    h.hold(a);
    h.hold(Uint8Array.of(2));
    h.hold(Uint8Array.of(3));
    a[0] = 99; // the held copy is not the caller's buffer
    const seen: number[] = [];
    h.release((m) => {
      seen.push(m[0]);
      return m[0] !== 2;
    });
    expect(seen).toEqual([1, 2, 3]);
    expect(h.size).toBe(1);
    h.release((m) => m[0] === 2);
    expect(h.size).toBe(0);
    expect(h.heldTotal).toBe(3);
  });

  it('drops the oldest past its bound and counts it; clear forgets everything', () => {
    const h = new HeldDeltas(3);
    for (let i = 0; i < 3; i++) expect(h.hold(Uint8Array.of(i))).toBe(true);
    expect(h.hold(Uint8Array.of(3))).toBe(false);
    expect(h.dropped).toBe(1);
    expect(h.size).toBe(3);
    const left: number[] = [];
    h.release((m) => (left.push(m[0]), false));
    expect(left).toEqual([1, 2, 3]);
    h.clear();
    expect(h.size).toBe(0);
  });
});
