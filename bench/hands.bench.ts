/**
 * Hand tracking: (1) the codec's fingertip error on a synthetic adult hand (fit, quantize, rebuild), (2) bytes per
 * tracked hand each way and the viewer's fingertip error at its render time, for 0, 100 and 200 ms RTT (jitter a
 * fifth of the RTT, 2 % loss), at 30 Hz sends. Headline metrics: `bytes_per_tracked_hand` (owner-to-server HandInput
 * bytes per moving hand at 100 ms RTT, tag and shared header included) and `hand_joint_error_mm` (p95 fingertip
 * error of the codec).
 */
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { byScale, type BenchContext } from './harness.ts';
import { type HandRoomRun, measureHandCodecError, runHandRoom } from '../harness/hand-quality.ts';

interface RoomRow extends HandRoomRun {
  rttMs: number;
}

export const handsFamily: BenchFamily = {
  name: 'hands',
  title: 'Hand tracking (25-joint XRHand, delta-coded against acked frames)',
  async run(ctx: BenchContext): Promise<FamilyResult> {
    const seconds = byScale(ctx.scale, { full: 30, quick: 15, tiny: 3 });
    let task = ctx.progress.start('hands codec error');
    const codec = measureHandCodecError(seconds * 2, ctx.seed);
    task.end(`fingertips mean ${codec.mean.toFixed(2)} mm, p95 ${codec.p95.toFixed(2)}, max ${codec.max.toFixed(2)}`);
    const rows: RoomRow[] = [];
    for (const rttMs of [0, 100, 200]) {
      task = ctx.progress.start(`hands room ${rttMs} ms RTT`);
      const run = runHandRoom({ rttMs, jitterMs: rttMs / 5, loss: rttMs > 0 ? 0.02 : 0, seconds, seed: ctx.seed });
      rows.push({ rttMs, ...run });
      task.end(`${run.uplinkBytesPerHand.toFixed(1)} B up, ${run.downlinkBytesPerHand.toFixed(1)} B down per hand`);
    }
    const at100 = rows.find((r) => r.rttMs === 100)!;
    const lines = [
      `Codec only (both synthetic hands, ${seconds * 2} s at 72 Hz): fingertip error mean **${codec.mean.toFixed(2)} mm**,`,
      `p95 ${codec.p95.toFixed(2)} mm, max ${codec.max.toFixed(2)} mm (quantization plus the hand's departures from the`,
      "codec's joint model).",
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
      metrics: { bytes_per_tracked_hand: at100.uplinkBytesPerHand, hand_joint_error_mm: codec.p95 },
      series: { codec, rooms: rows },
      markdown: lines.join('\n'),
    };
  },
};
