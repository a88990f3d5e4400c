import { describe, expect, it } from 'vitest';
import { clientIdOf } from '../../src/index.ts';
import { createTelemetryAggregator } from '../../src/telemetry/telemetry-aggregator.ts';
import { aggregateRoom } from '../../src/telemetry/telemetry-aggregate.ts';
import {
  TELEMETRY_BODY_BYTES,
  decodeTelemetry,
  encodeTelemetry,
  type TelemetryReport,
} from '../../src/telemetry/telemetry-codec.ts';
import { createTelemetryReporter } from '../../src/telemetry/telemetry-reporter.ts';
import { percentile } from '../../src/telemetry/percentiles.ts';
import { Stepper } from '../helpers/fixture.ts';

const report: TelemetryReport = {
  seq: 7,
  intervalMs: 1000,
  frameP50Ms: 11.11,
  frameP95Ms: 14.5,
  frames: 90,
  slowFrames: 2,
  rttMs: 61.3,
  jitterMs: 4.2,
  lossRatio: 0.02,
  bytesInPerSec: 12_345,
  bytesOutPerSec: 2_345,
  vr: true,
  corrections: 3,
  reconErrorMm: 4,
};

describe('TelemetryReport codec', () => {
  it('round-trips a report within its units', () => {
    const body = encodeTelemetry(report);
    expect(body.length).toBe(TELEMETRY_BODY_BYTES);
    const back = decodeTelemetry(body);
    if (typeof back === 'string') throw new Error(back);
    expect(back.seq).toBe(7);
    expect(back.frameP50Ms).toBeCloseTo(11.11, 2);
    expect(back.rttMs).toBeCloseTo(61.3, 1);
    expect(back.lossRatio).toBeCloseTo(0.02, 4);
    expect(back).toMatchObject({ frames: 90, slowFrames: 2, vr: true, corrections: 3, bytesInPerSec: 12_345 });
  });

  it('refuses malformed bodies with a reason, never a throw', () => {
    const body = encodeTelemetry(report);
    expect(decodeTelemetry(new Uint8Array(TELEMETRY_BODY_BYTES + 1))).toBe('oversize');
    expect(decodeTelemetry(body.subarray(0, 31))).toBe('short');
    const version = body.slice();
    version[0] = 99;
    expect(decodeTelemetry(version)).toBe('version');
    const flags = body.slice();
    flags[1] = 0x80;
    expect(decodeTelemetry(flags)).toBe('invalid');
    const slow = encodeTelemetry({ ...report, slowFrames: 91 });
    expect(decodeTelemetry(slow)).toBe('invalid');
  });

  it('takes percentiles by nearest rank and aggregates a room', () => {
    expect(percentile([5, 1, 3, 2, 4], 5, 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 5, 95)).toBe(5);
    const room = aggregateRoom([report, { ...report, rttMs: 200, lossRatio: 0.1 }]);
    expect(room.clients).toBe(2);
    expect(room.rttP95Ms).toBeCloseTo(200, 0);
  });
});

describe('telemetry over the memory network', () => {
  it('arrives at the configured rate with the link figures, and a client over the rate limit is cut back', () => {
    const s = new Stepper({ seed: 3 });
    const honest = s.addClient({ latencyMs: 30, loss: 0.05 });
    const eager = s.addClient({ latencyMs: 30 });
    const agg = createTelemetryAggregator(s.server.world, { maxRateHz: 2, burst: 4, offenderDrops: 5 });
    const a = createTelemetryReporter(honest.world, { rateHz: 1 });
    const b = createTelemetryReporter(eager.world, { rateHz: 10 });
    s.run(60);
    s.run(600, (peer, isServer) => {
      if (isServer) return;
      (peer === honest ? a : b).recordFrame(1000 / 60);
    });
    const h = agg.client(clientIdOf(honest.world));
    expect(h).toBeDefined();
    // ~10 s at 1 Hz; a lost report is counted as missing, not accepted
    expect(h!.reports).toBeGreaterThanOrEqual(7);
    expect(h!.reports + h!.missing).toBeLessThanOrEqual(11);
    expect(h!.report.rttMs).toBeGreaterThan(40);
    expect(h!.report.frameP50Ms).toBeCloseTo(16.67, 1);
    const e = agg.client(clientIdOf(eager.world))!;
    // 10 Hz offered, 2 Hz allowed (burst 4): at most 4 + 2 x 10 s accepted
    expect(e.reports).toBeLessThanOrEqual(4 + 2 * 11);
    expect(agg.stats().rateLimited).toBeGreaterThan(50);
    expect(agg.room().clients).toBe(2);
    expect(s.server.errors.some((err) => /RateLimited/.test(err.message))).toBe(true);
  });
});
