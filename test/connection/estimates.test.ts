import { describe, expect, it } from 'vitest';
import { createPair } from './connection-harness.ts';
import {
  RttEstimator,
  LossEstimator,
  MAX_RTO_MS,
  MIN_RTO_MS,
  INITIAL_RTO_MS,
} from '../../src/connection/link-estimator.ts';

describe('RTT and loss estimates', () => {
  it('converge to the configured round trip', () => {
    // 40 ms each way, both ends flush every 2 ms: a sample adds at most ~2 x 2 ms of waiting.
    const pair = createPair({ up: { latencyMs: 40 }, down: { latencyMs: 40 } });
    for (let i = 0; i < 1000; i++) pair.step(2);
    for (const p of [pair.client, pair.server]) {
      expect(p.conn.stats.rttMs).toBeGreaterThanOrEqual(80);
      expect(p.conn.stats.rttMs).toBeLessThan(85);
      expect(p.conn.stats.jitterMs).toBeLessThan(3);
      expect(p.conn.rtoMs).toBeLessThan(100);
    }
  });

  it('follow an asymmetric path with jitter, and report the jitter', () => {
    const pair = createPair({ up: { latencyMs: 20, jitterMs: 30 }, down: { latencyMs: 60 } }, 4);
    for (let i = 0; i < 3000; i++) pair.step(5);
    const { rttMs, jitterMs } = pair.client.conn.stats;
    // 80 ms base, + jitter on the way up (0..30 ms), + up to 2 x 5 ms waiting for flushes.
    expect(rttMs).toBeGreaterThan(85);
    expect(rttMs).toBeLessThan(115);
    expect(jitterMs).toBeGreaterThan(2);
    expect(jitterMs).toBeLessThan(20);
  });

  it('estimate the loss of the direction that loses, and not the other', () => {
    const pair = createPair({ up: { latencyMs: 20, loss: 0.2 }, down: { latencyMs: 20 } }, 9);
    const ratios: number[] = [];
    for (let i = 0; i < 4000; i++) {
      pair.step(16);
      if (i > 500 && i % 100 === 0) ratios.push(pair.client.conn.stats.lossRatio);
    }
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    expect(mean).toBeGreaterThan(0.17);
    expect(mean).toBeLessThan(0.23);
    // Server packets travel a lossless path; their acks ride many client packets (ack bits), so few are missed.
    expect(pair.server.conn.stats.lossRatio).toBeLessThan(0.02);
  });

  it('follow a sudden rise of the round trip past the loss timeout (late acks still measure it)', () => {
    // 15 ms each way, then +100 ms each way: every packet in flight outlives 2 x RTO and is declared lost before its
    // ack comes back. Packet numbers are never reused, so a late ack is an exact RTT sample (no Karn ambiguity):
    // without it the estimate would stay at 30 ms for ever and every packet would count as lost.
    const pair = createPair({ up: { latencyMs: 15 }, down: { latencyMs: 15 } });
    for (let i = 0; i < 300; i++) pair.step(8);
    expect(pair.client.conn.stats.rttMs).toBeLessThan(50);
    pair.net.setConditions(pair.client.link, { up: { latencyMs: 115 }, down: { latencyMs: 115 } });
    for (let i = 0; i < 250; i++) pair.step(8); // 2 s
    for (const p of [pair.client, pair.server]) {
      expect(p.conn.stats.rttMs).toBeGreaterThan(200);
      expect(p.conn.stats.rttMs).toBeLessThan(260);
      expect(p.conn.rtoMs).toBeGreaterThan(230);
    }
    // Once the RTO follows, packets stop timing out: the loss estimate falls back towards none.
    for (let i = 0; i < 750; i++) pair.step(8);
    expect(pair.client.conn.stats.lossRatio).toBeLessThan(0.05);
  });

  it('RttEstimator clamps the RTO and starts from the initial value', () => {
    const rtt = new RttEstimator();
    expect(rtt.rtoMs).toBe(INITIAL_RTO_MS);
    rtt.sample(1);
    for (let i = 0; i < 50; i++) rtt.sample(1);
    expect(rtt.rtoMs).toBe(MIN_RTO_MS);
    for (let i = 0; i < 50; i++) rtt.sample(5000);
    expect(rtt.rtoMs).toBe(MAX_RTO_MS);
    rtt.sample(NaN);
    expect(Number.isFinite(rtt.srttMs)).toBe(true);
  });

  it('LossEstimator forgets outcomes older than its window', () => {
    const loss = new LossEstimator();
    expect(loss.ratio).toBe(0);
    for (let i = 0; i < 1000; i++) loss.add(true);
    expect(loss.ratio).toBe(1);
    for (let i = 0; i < 256; i++) loss.add(false);
    expect(loss.ratio).toBe(0);
    for (let i = 0; i < 64; i++) loss.add(true);
    expect(loss.ratio).toBe(0.25);
  });
});
