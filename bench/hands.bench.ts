/**
 * Hand tracking: (1) the codec's fingertip error on a synthetic adult hand (fit, quantize, rebuild), (2) bytes per
 * tracked hand each way and the viewer's fingertip error at its render time, for 0, 100 and 200 ms RTT (jitter a
 * fifth of the RTT, 2 % loss), at 30 Hz sends. Headline metrics: `bytes_per_tracked_hand` (owner-to-server HandInput
 * bytes per moving hand at 100 ms RTT, tag and shared header included) and `hand_joint_error_mm` (p95 fingertip
 * error of the calibrated codec: the worse of the synthetic hand and IWER's recorded Quest hand).
 */
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { byScale, type BenchContext } from './harness.ts';
import { type HandRoomRun, measureHandCodecError, runHandRoom } from '../harness/hand-quality.ts';
import { measureRecordedHandError } from '../harness/recorded-hand-quality.ts';

interface RoomRow extends HandRoomRun {
  rttMs: number;
}

export const handsFamily: BenchFamily = {
  name: 'hands',
  title: 'Hand tracking (25-joint XRHand, delta-coded against acked frames)',
  async run(ctx: BenchContext): Promise<FamilyResult> {
    const seconds = byScale(ctx.scale, { full: 30, quick: 15, tiny: 3 });
    let task = ctx.progress.start('hands codec error');
    const codec = measureHandCodecError(seconds * 2, ctx.seed, true);
    const uncalibrated = measureHandCodecError(seconds * 2, ctx.seed, false);
    const recorded = measureRecordedHandError(true);
    const recordedUncalibrated = measureRecordedHandError(false);
    task.end(
      `fingertips p95: synthetic ${codec.p95.toFixed(2)} mm, IWER recorded ${recorded.p95.toFixed(2)} mm ` +
        `(uncalibrated ${uncalibrated.p95.toFixed(2)} / ${recordedUncalibrated.p95.toFixed(2)})`,
    );
    const rows: RoomRow[] = [];
    for (const rttMs of [0, 100, 200]) {
      task = ctx.progress.start(`hands room ${rttMs} ms RTT`);
      const run = runHandRoom({ rttMs, jitterMs: rttMs / 5, loss: rttMs > 0 ? 0.02 : 0, seconds, seed: ctx.seed });
      rows.push({ rttMs, ...run });
      task.end(`${run.uplinkBytesPerHand.toFixed(1)} B up, ${run.downlinkBytesPerHand.toFixed(1)} B down per hand`);
    }
    const at100 = rows.find((r) => r.rttMs === 100)!;
    const lines = [
      'Codec only (fit, quantize, rebuild; fingertips), on the skeleton the owner calibrates and sends, and without',
      'calibration (the reference hand scaled):',
      '',
      '| hand | calibrated mean | p95 | max | uncalibrated mean | p95 | max |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...(
        [
          [`synthetic, both hands, ${seconds * 2} s at 72 Hz`, codec, uncalibrated],
          ["IWER's recorded Quest hand, 3 poses + 9 blends, both hands", recorded, recordedUncalibrated],
        ] as const
      ).map(
        ([name, a, b]) =>
          `| ${name} | ${a.mean.toFixed(2)} mm | ${a.p95.toFixed(2)} mm | ${a.max.toFixed(2)} mm | ` +
          `${b.mean.toFixed(2)} mm | ${b.p95.toFixed(2)} mm | ${b.max.toFixed(2)} mm |`,
      ),
      '',
      `One owner streaming two moving hands to one viewer over the memory network, ${seconds} s, 30 Hz sends:`,
      '',
      '| RTT | uplink B/hand | downlink B/hand | whole bodies | viewer tip error mean | p95 | max |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.rttMs} ms | ${r.uplinkBytesPerHand.toFixed(1)} | ${r.downlinkBytesPerHand.toFixed(1)} | ` +
          `${(r.wholeShare * 100).toFixed(1)} % | ${r.remote.mean.toFixed(2)} mm | ${r.remote.p95.toFixed(2)} mm | ` +
          `${r.remote.max.toFixed(2)} mm |`,
      ),
      '',
      'Viewer error is against the truth at the render time (wrist interpolation included); the max is a loss burst.',
    ];
    return {
      metrics: {
        bytes_per_tracked_hand: at100.uplinkBytesPerHand,
        // the worse of the synthetic and the recorded hand
        hand_joint_error_mm: Math.max(codec.p95, recorded.p95),
      },
      series: { codec, uncalibrated, recorded, recordedUncalibrated, rooms: rows },
      markdown: lines.join('\n'),
    };
  },
};
