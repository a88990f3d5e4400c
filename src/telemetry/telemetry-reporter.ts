/**
 * Client side of telemetry: collects frame timings (fed by the app or measured by `frameSystem`), reads the
 * connection's stats and the VR layer's corrections, and sends one TelemetryReport at a low rate (unreliable:
 * a lost report is replaced by the next one).
 */
import { getNetContext } from '../context.ts';
import { encodeMessage } from '../codec/message-frame.ts';
import { usageError } from '../errors.ts';
import type { Connection } from '../connection/connection.ts';
import { Tag } from '../protocol/tags.ts';
import { findVrContext } from '../vr/vr-context.ts';
import { percentile } from './percentiles.ts';
import { encodeTelemetry, type TelemetryReport } from './telemetry-codec.ts';

/** Default report rate: once a second is enough for a dashboard and costs ~34 bytes/s. */
export const DEFAULT_TELEMETRY_RATE_HZ = 1;
/** Frame samples kept per interval: 4 s at 60 Hz, so a 1 Hz report sees all of its frames (more are sampled out). */
export const FRAME_SAMPLES = 256;
/** Default slow-frame threshold: 1.5 frames at 60 Hz, a visibly missed vsync. */
export const DEFAULT_SLOW_FRAME_MS = 25;

/** Options of `createTelemetryReporter`. */
export interface TelemetryReporterOptions {
  /** Reports per second (default 1, at most 10). */
  rateHz?: number;
  /** A frame longer than this counts as slow, ms (default 25). */
  slowFrameMs?: number;
}

/** Counters of a reporter. */
export interface TelemetryReporterStats {
  /** Reports sent. */
  reportsSent: number;
  /** Reports that did not fit a packet and went out a tick later. */
  reportsDeferred: number;
  /** Frames recorded since the start. */
  framesRecorded: number;
}

/** A client's telemetry reporter. */
export interface TelemetryReporter {
  /** Records one frame's duration in ms (call once per rendered frame, or use `frameSystem`). */
  recordFrame(frameMs: number): void;
  /** A bitecs system that measures the time between its calls with the plugin's clock and records it. */
  readonly frameSystem: <W extends object>(world: W) => W;
  /** The last report sent, or null. */
  lastReport(): TelemetryReport | null;
  /** A copy of the reporter's counters. */
  stats(): TelemetryReporterStats;
  /** Stops reporting (the extension stays registered but sends nothing). */
  stop(): void;
}

/**
 * Starts sending TelemetryReports from a client world at `rateHz`.
 * @example
 * const telemetry = createTelemetryReporter(world, { rateHz: 1 });
 * // each frame: telemetry.recordFrame(dtMs), or pipe telemetry.frameSystem with the plugin's systems
 */
export function createTelemetryReporter(world: object, options: TelemetryReporterOptions = {}): TelemetryReporter {
  const ctx = getNetContext(world);
  if (ctx.role !== 'client')
    usageError('createTelemetryReporter needs a client world', 'use createTelemetryAggregator on the server');
  const rateHz = options.rateHz ?? DEFAULT_TELEMETRY_RATE_HZ;
  if (!(rateHz > 0 && rateHz <= 10))
    usageError(`telemetry rateHz ${rateHz} is out of range`, 'pass a rate in (0, 10] Hz');
  const slowFrameMs = options.slowFrameMs ?? DEFAULT_SLOW_FRAME_MS;
  const periodMs = 1000 / rateHz;
  const clock = ctx.clock;
  const frames = new Float64Array(FRAME_SAMPLES);
  let frameCount = 0;
  let slowFrames = 0;
  let seen = 0;
  let seq = 0;
  let last: TelemetryReport | null = null;
  let lastFrameAt = -1;
  let stopped = false;
  let intervalStart = clock.now();
  let bytesIn = -1;
  let bytesOut = 0;
  let corrections = 0;
  const stats: TelemetryReporterStats = { reportsSent: 0, reportsDeferred: 0, framesRecorded: 0 };

  const recordFrame = (frameMs: number): void => {
    if (!(frameMs >= 0) || !Number.isFinite(frameMs)) return;
    stats.framesRecorded++;
    seen++;
    if (frameMs > slowFrameMs) slowFrames++;
    // Beyond the buffer, keep every k-th frame so the percentiles still cover the whole interval.
    if (frameCount < FRAME_SAMPLES) frames[frameCount++] = frameMs;
    else frames[seen % FRAME_SAMPLES] = frameMs;
  };

  const vrFigures = (): { vr: boolean; corrections: number; reconErrorMm: number } => {
    const vr = findVrContext(world);
    if (!vr || vr.role !== 'client') return { vr: false, corrections: 0, reconErrorMm: 0 };
    let maxM = 0;
    for (const d of vr.owned.values()) {
      const o = d.state.offset;
      maxM = Math.max(maxM, Math.hypot(o[0], o[1], o[2]));
    }
    const total = vr.stats.corrections;
    const delta = total - corrections;
    corrections = total;
    return { vr: true, corrections: delta, reconErrorMm: maxM * 1000 };
  };

  const send = (connection: Connection): void => {
    const now = clock.now();
    const s = connection.stats;
    if (bytesIn < 0) {
      bytesIn = s.bytesIn;
      bytesOut = s.bytesOut;
      intervalStart = now;
      vrFigures();
      return;
    }
    const elapsed = now - intervalStart;
    if (stopped || elapsed < periodMs) return;
    const report: TelemetryReport = {
      seq: seq++ & 0xffff,
      intervalMs: elapsed,
      frameP50Ms: percentile(frames, frameCount, 50),
      frameP95Ms: percentile(frames, frameCount, 95),
      frames: seen,
      slowFrames,
      rttMs: s.rttMs,
      jitterMs: s.jitterMs,
      lossRatio: s.lossRatio,
      bytesInPerSec: ((s.bytesIn - bytesIn) * 1000) / elapsed,
      bytesOutPerSec: ((s.bytesOut - bytesOut) * 1000) / elapsed,
      ...vrFigures(),
    };
    if (!connection.sendUnreliable(encodeMessage(Tag.TelemetryReport, encodeTelemetry(report)))) {
      stats.reportsDeferred++; // no room in this packet: the same interval goes out next tick
      seq--;
      corrections -= report.corrections;
      return;
    }
    stats.reportsSent++;
    last = report;
    bytesIn = s.bytesIn;
    bytesOut = s.bytesOut;
    intervalStart = now;
    frameCount = 0;
    seen = 0;
    slowFrames = 0;
  };

  ctx.replicator.extensions.push({ send });
  return {
    recordFrame,
    frameSystem: (w) => {
      const now = clock.now();
      if (lastFrameAt >= 0) recordFrame(now - lastFrameAt);
      lastFrameAt = now;
      return w;
    },
    lastReport: () => last,
    stats: () => ({ ...stats }),
    stop: () => {
      stopped = true;
    },
  };
}
