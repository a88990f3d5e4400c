import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { createRandom } from '../../src/random.ts';
import { createLinkConditioner } from '../../src/transport/link-conditioner.ts';
import type { LinkConditions } from '../../src/transport/link-conditioner.ts';

/** Packet whose first 4 bytes are its index, padded to `size`. */
function packet(index: number, size = 16): Uint8Array {
  const p = new Uint8Array(size);
  new DataView(p.buffer).setUint32(0, index, true);
  return p;
}
const indexOf = (p: Uint8Array): number => new DataView(p.buffer, p.byteOffset).getUint32(0, true);

interface Delivery {
  index: number;
  sentMs: number;
  atMs: number;
}

/** Pushes `count` packets, one every `intervalMs`, stepping the clock by 1 ms; returns every delivery. */
function run(conditions: LinkConditions, seed: number, count: number, intervalMs = 1, size = 16) {
  const clock = createManualClock();
  const conditioner = createLinkConditioner(conditions, createRandom(seed), clock);
  const sentAt: number[] = [];
  const deliveries: Delivery[] = [];
  let next = 0;
  for (let t = 0; next < count || conditioner.pendingCount > 0; t++) {
    clock.set(t);
    if (next < count && t % intervalMs === 0) {
      sentAt[next] = t;
      conditioner.push(packet(next++, size));
    }
    conditioner.pollDue((p) => {
      const index = indexOf(p);
      deliveries.push({ index, sentMs: sentAt[index], atMs: clock.now() });
    });
  }
  return { deliveries, stats: conditioner.stats };
}

const countInversions = (d: Delivery[]): number => {
  let n = 0;
  for (let i = 1; i < d.length; i++) if (d[i].index < d[i - 1].index) n++;
  return n;
};

describe('link conditioner', () => {
  const messy: LinkConditions = { latencyMs: 40, jitterMs: 15, loss: 0.1, duplicate: 0.05, reorder: 0.1 };

  it('gives the same delivery trace for the same seed and a different one for another seed', () => {
    const a = run(messy, 7, 2000).deliveries;
    const b = run(messy, 7, 2000).deliveries;
    const c = run(messy, 8, 2000).deliveries;
    expect(a.length).toBeGreaterThan(1500);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('drops about the configured fraction over 10k packets', () => {
    for (const loss of [0.05, 0.3]) {
      const { deliveries, stats } = run({ loss }, 3, 10_000);
      expect(stats.sent).toBe(10_000);
      expect(stats.dropped / stats.sent).toBeGreaterThan(loss - 0.015);
      expect(stats.dropped / stats.sent).toBeLessThan(loss + 0.015);
      expect(deliveries.length).toBe(stats.sent - stats.dropped);
      expect(stats.delivered).toBe(deliveries.length);
    }
  });

  it('keeps every delay within latency + jitter, uses the range, and keeps order without reorder', () => {
    // One packet per 10 ms, as a game sends; jitter never lets a packet overtake (it waits for the one before).
    const { deliveries } = run({ latencyMs: 50, jitterMs: 20 }, 11, 3000, 10);
    expect(deliveries.length).toBe(3000);
    const delays = deliveries.map((d) => d.atMs - d.sentMs);
    // The clock steps 1 ms, so a packet is seen up to 1 ms after it is due.
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(50);
    expect(Math.max(...delays)).toBeLessThanOrEqual(71);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(15);
    expect(countInversions(deliveries)).toBe(0);
  });

  it('duplicates about the configured fraction and delivers each copy', () => {
    const { deliveries, stats } = run({ duplicate: 0.2, latencyMs: 5 }, 5, 10_000);
    expect(stats.duplicated / stats.sent).toBeGreaterThan(0.18);
    expect(stats.duplicated / stats.sent).toBeLessThan(0.22);
    expect(deliveries.length).toBe(10_000 + stats.duplicated);
    expect(new Set(deliveries.map((d) => d.index)).size).toBe(10_000);
  });

  it('reorders only when configured', () => {
    expect(countInversions(run({ latencyMs: 20, jitterMs: 10 }, 9, 2000).deliveries)).toBe(0);
    const reordered = run({ latencyMs: 20, jitterMs: 10, reorder: 0.1 }, 9, 2000).deliveries;
    expect(reordered.length).toBe(2000);
    expect(countInversions(reordered)).toBeGreaterThan(100);
  });

  it('delivers packets due at the same time in the order they were pushed', () => {
    const clock = createManualClock();
    const conditioner = createLinkConditioner({ latencyMs: 10 }, createRandom(1), clock);
    for (let i = 0; i < 50; i++) conditioner.push(packet(i));
    clock.advance(9);
    const got: number[] = [];
    conditioner.pollDue((p) => got.push(indexOf(p)));
    expect(got).toEqual([]);
    clock.advance(1);
    conditioner.pollDue((p) => got.push(indexOf(p)));
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('copies the pushed packet', () => {
    const clock = createManualClock();
    const conditioner = createLinkConditioner({}, createRandom(1), clock);
    const p = packet(42);
    conditioner.push(p);
    p.fill(0);
    const got: number[] = [];
    conditioner.pollDue((q) => got.push(indexOf(q)));
    expect(got).toEqual([42]);
  });

  it('caps the delivered rate at the bandwidth and drops what overflows the queue', () => {
    // Offered: 200 B every 5 ms = 40 KB/s into a 10 KB/s path.
    const rate = 10_000;
    const { deliveries, stats } = run({ bandwidthBytesPerSec: rate }, 1, 2000, 5, 200);
    expect(stats.dropped).toBeGreaterThan(1000);
    const last = deliveries[deliveries.length - 1].atMs;
    const first = deliveries[0].atMs;
    // Each packet takes 20 ms to serialize: consecutive arrivals are at least that far apart.
    for (let i = 1; i < deliveries.length; i++) {
      expect(deliveries[i].atMs - deliveries[i - 1].atMs).toBeGreaterThanOrEqual(19);
    }
    const achieved = ((deliveries.length - 1) * 200 * 1000) / (last - first);
    expect(achieved).toBeLessThanOrEqual(rate * 1.01);
    expect(achieved).toBeGreaterThan(rate * 0.9);
    // The queue bound (250 ms by default) limits the added delay.
    const maxDelay = Math.max(...deliveries.map((d) => d.atMs - d.sentMs));
    expect(maxDelay).toBeLessThanOrEqual(250 + 21);
  });

  it('drops deterministic bursts', () => {
    const { deliveries, stats } = run({ burstLoss: { everyPackets: 10, length: 3 } }, 1, 100);
    expect(stats.dropped).toBe(30);
    expect(deliveries.map((d) => d.index).filter((i) => i % 10 < 3)).toEqual([]);
  });

  it('applies new conditions to packets pushed afterwards', () => {
    const clock = createManualClock();
    const conditioner = createLinkConditioner({ latencyMs: 100 }, createRandom(1), clock);
    conditioner.setConditions({ loss: 1 });
    for (let i = 0; i < 10; i++) conditioner.push(packet(i));
    expect(conditioner.stats.dropped).toBe(10);
    expect(conditioner.pendingCount).toBe(0);
  });
});
