import { describe, expect, it } from 'vitest';
import {
  compareStamps,
  isPlausibleCounter,
  LamportClock,
  MAX_LAMPORT_SKEW,
  sortByStamp,
} from '../../src/authority/lamport.ts';
import { createRandom } from '../../src/random.ts';

describe('Lamport stamps', () => {
  it('order by counter, then client id', () => {
    expect(compareStamps(1, 9, 2, 1)).toBeLessThan(0);
    expect(compareStamps(2, 1, 1, 9)).toBeGreaterThan(0);
    expect(compareStamps(5, 2, 5, 3)).toBeLessThan(0);
    expect(compareStamps(5, 3, 5, 2)).toBeGreaterThan(0);
    expect(compareStamps(5, 3, 5, 3)).toBe(0);
  });

  it('sort the same way whatever the arrival order (every peer agrees)', () => {
    const rnd = createRandom(5);
    const stamps = Array.from({ length: 200 }, () => ({ counter: rnd.int(20), clientId: 1 + rnd.int(8) }));
    const reference = sortByStamp([...stamps]).map((s) => `${s.counter}/${s.clientId}`);
    for (let trial = 0; trial < 50; trial++) {
      const shuffled = [...stamps];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = rnd.int(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
      }
      expect(sortByStamp(shuffled).map((s) => `${s.counter}/${s.clientId}`)).toEqual(reference);
    }
    for (let i = 1; i < reference.length; i++) {
      const [a, b] = [reference[i - 1], reference[i]].map((s) => s.split('/').map(Number));
      expect(compareStamps(a[0], a[1], b[0], b[1])).toBeLessThanOrEqual(0);
    }
  });

  it('a clock ticks past everything it has seen', () => {
    const a = new LamportClock();
    const b = new LamportClock();
    expect(a.tick()).toBe(1);
    expect(a.tick()).toBe(2);
    expect(b.observe(2)).toBe(true);
    expect(b.tick()).toBe(3);
    expect(b.observe(1)).toBe(true);
    expect(b.counter).toBe(3);
  });

  it('refuses implausible counters (negative, fractional, unsafe, or too far ahead)', () => {
    const c = new LamportClock();
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53, MAX_LAMPORT_SKEW + 1]) {
      expect(c.observe(bad)).toBe(false);
      expect(c.counter).toBe(0);
    }
    expect(isPlausibleCounter(MAX_LAMPORT_SKEW, 0)).toBe(true);
    expect(isPlausibleCounter(MAX_LAMPORT_SKEW + 10, 10)).toBe(true);
  });
});
