/** The room aggregate of telemetry: percentiles across clients and totals, from each client's latest report. */
import { percentile } from './percentiles.ts';
import type { TelemetryReport } from './telemetry-codec.ts';

/** What the room looks like across its reporting clients. */
export interface RoomTelemetry {
  /** Clients with a report. */
  clients: number;
  /** Median of the clients' round trips, in ms. */
  rttP50Ms: number;
  /** 95th percentile of the clients' round trips, in ms. */
  rttP95Ms: number;
  /** 95th percentile of the clients' jitter, in ms. */
  jitterP95Ms: number;
  /** Mean and worst loss ratio across clients. */
  lossMean: number;
  /** Worst loss ratio across clients, 0..1. */
  lossMax: number;
  /** Sum over clients of what they receive and send, kbit/s. */
  kbpsInTotal: number;
  /** Sum over clients of what they send, in kbit/s. */
  kbpsOutTotal: number;
  /** Median and worst-5 % of the clients' frame time p95, ms. */
  frameP95P50Ms: number;
  /** Worst-5 % (95th percentile) of the clients' frame time p95, in ms. */
  frameP95P95Ms: number;
  /** Slow frames and corrections summed over the clients' last intervals. */
  slowFrames: number;
  /** Pose corrections summed over the clients' last intervals. */
  corrections: number;
  /** Largest reconciliation error across clients, mm. */
  reconErrorMaxMm: number;
}

/** Aggregates `reports` (one per client) into a RoomTelemetry. */
export function aggregateRoom(reports: readonly TelemetryReport[]): RoomTelemetry {
  const n = reports.length;
  const rtt = reports.map((r) => r.rttMs);
  const jitter = reports.map((r) => r.jitterMs);
  const frame = reports.map((r) => r.frameP95Ms);
  let lossSum = 0;
  let lossMax = 0;
  let kIn = 0;
  let kOut = 0;
  let slow = 0;
  let corrections = 0;
  let recon = 0;
  for (const r of reports) {
    lossSum += r.lossRatio;
    lossMax = Math.max(lossMax, r.lossRatio);
    kIn += (r.bytesInPerSec * 8) / 1000;
    kOut += (r.bytesOutPerSec * 8) / 1000;
    slow += r.slowFrames;
    corrections += r.corrections;
    recon = Math.max(recon, r.reconErrorMm);
  }
  return {
    clients: n,
    rttP50Ms: percentile(rtt, n, 50),
    rttP95Ms: percentile(rtt, n, 95),
    jitterP95Ms: percentile(jitter, n, 95),
    lossMean: n === 0 ? 0 : lossSum / n,
    lossMax,
    kbpsInTotal: kIn,
    kbpsOutTotal: kOut,
    frameP95P50Ms: percentile(frame, n, 50),
    frameP95P95Ms: percentile(frame, n, 95),
    slowFrames: slow,
    corrections,
    reconErrorMaxMm: recon,
  };
}
