/**
 * VR pose quality (SPEC 10): a remote viewer's rendered hand against the owner's true hand, on the standard motion
 * trace, over the in-memory network with a link conditioner and a manual clock (deterministic for a seed).
 *
 * Definitions:
 * - The owner's hand is driven by the trace at the owner's frame times; the viewer renders its right hand at a render
 *   time r on the server clock. The true capture time of what it shows is g = r - offset, where offset is the
 *   server's mapping of the owner's clock (the clocks are one manual clock here, so this is exact).
 * - rmsMm: RMS over frames of |rendered - truth(g)| (the truth delayed by the display delay).
 * - displayDelayMs: mean of (now - g). Its budget is one-way latency + one send interval + 2 x jitter, where the
 *   one-way latency is the owner-to-viewer transit through the server (owner uplink + viewer downlink latency = RTT
 *   when both links have that RTT) and jitter the conditioner's per-link jitter.
 * - maxJumpExcessMm: largest (|rendered(f) - rendered(f-1)| - |truth(g_f) - truth(g_f-1)|) over frames.
 * - bytesPerPose: one pose sent whole on the pose stream (position + rotation); bytesPerMovingPoseDelta: the average
 *   delta-coded moving pose on the stream; bytesPerAvatar: head + two controllers sent whole;
 *   bytesPerAvatarDelta: the same delta-coded (3 x the average delta); uplinkBytesPerMessage: the mean InputPoses
 *   message (tag included, every redundant tick included); downlinkBytesPerSecond: all bytes the viewer received.
 */
import { clientIdOf, type LinkConditions } from '../src/index.ts';
import { TRACE_SAMPLE_LENGTH, TraceDevice } from '../src/vr/motion-trace.ts';
import { getVrContext } from '../src/vr/vr-context.ts';
import { poseClockOffsetMs, remoteRenderTimeMs, type VrPosesOptions } from '../src/vr/vr-plugin.ts';
import { type Avatar, TraceDriver, VrStepper } from '../test/vr/vr-stepper.ts';
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { byScale, type BenchContext } from './harness.ts';

/** Scenario of one measurement. */
export interface RemoteHandQualityOptions {
  /** Round trip of each client's link to the server (ms); each direction gets half. */
  rttMs: number;
  /** Per-link jitter (ms), uniform extra delay per packet. */
  jitterMs: number;
  /** Per-link loss probability (0..1). */
  loss: number;
  /** Measured seconds (after warm-up). */
  seconds: number;
  seed: number;
  /** Send rate of every peer (Hz); default 30. */
  sendRateHz?: number;
  /** Frame rate of every peer (Hz); default 90. */
  frameHz?: number;
  /** Seconds of trace before measuring (the delay estimate settles); default 4. */
  warmupSeconds?: number;
  /** VR options of the clients. */
  client?: Omit<VrPosesOptions, 'components'>;
  /** Server StateHash interval (ms, 0 = off); default the plugin's. */
  hashIntervalMs?: number;
}

/** Figures of one measurement. */
export interface RemoteHandQuality {
  rmsMm: number;
  maxErrorMm: number;
  displayDelayMs: number;
  displayDelayBudgetMs: number;
  displayDelayExcessMs: number;
  maxJumpExcessMm: number;
  /** Share of measured frames rendered by extrapolation or holding (the buffer ran dry). */
  dryFraction: number;
  bytesPerPose: number;
  bytesPerMovingPoseDelta: number;
  bytesPerAvatar: number;
  bytesPerAvatarDelta: number;
  uplinkBytesPerMessage: number;
  downlinkBytesPerSecond: number;
  frames: number;
}

/** Runs the owner/viewer scenario and measures the viewer's rendered right hand against the owner's true hand. */
export function measureRemoteHandQuality(o: RemoteHandQualityOptions): RemoteHandQuality {
  const sendRateHz = o.sendRateHz ?? 30;
  const frameMs = 1000 / (o.frameHz ?? 90);
  const link: LinkConditions = { latencyMs: o.rttMs / 2, jitterMs: o.jitterMs, loss: o.loss };
  const s = new VrStepper({ seed: o.seed, frameMs, sendRateHz, client: o.client, hashIntervalMs: o.hashIntervalMs });
  const owner = s.addClient(link);
  const viewer = s.addClient(link);
  s.run(Math.ceil(1000 / frameMs));
  const avatar = s.spawnAvatar(owner);
  s.run(Math.ceil(500 / frameMs));
  const driver = new TraceDriver(o.seed);
  const local: Avatar = { head: 0, left: 0, right: 0 };
  const t0 = s.clock.now();
  const drive = (peer: typeof owner, now: number) => {
    if (peer !== owner) return;
    local.head = s.local(owner, avatar.head);
    local.left = s.local(owner, avatar.left);
    local.right = s.local(owner, avatar.right);
    driver.drive(owner, local, now - t0);
  };
  s.run(Math.ceil(((o.warmupSeconds ?? 4) * 1000) / frameMs), drive);
  const ownerId = clientIdOf(owner.world);
  const rightOnViewer = s.local(viewer, avatar.right);
  const rp = viewer.components.RenderPose;
  const truth = new Float64Array(TRACE_SAMPLE_LENGTH);
  const vrView = getVrContext(viewer.world);
  const stats0 = vrView.role === 'client' ? { ...vrView.stats } : null;
  const bytesIn0 = viewer.net.stats()[0]?.bytesIn ?? 0;
  let sumSq = 0;
  let maxErr = 0;
  let sumDelay = 0;
  let frames = 0;
  let maxJumpExcess = -Infinity;
  let prev: [number, number, number] | null = null;
  let prevTruth: [number, number, number] | null = null;
  const measuredFrames = Math.ceil((o.seconds * 1000) / frameMs);
  for (let f = 0; f < measuredFrames; f++) {
    s.step(drive);
    const now = s.clock.now();
    const r = remoteRenderTimeMs(viewer.world, rightOnViewer);
    const offset = poseClockOffsetMs(s.server.world, ownerId);
    if (!Number.isFinite(r) || !Number.isFinite(offset)) continue;
    const g = r - offset;
    driver.trace.sample(TraceDevice.right, g - t0, truth);
    const x = rp.px[rightOnViewer];
    const y = rp.py[rightOnViewer];
    const z = rp.pz[rightOnViewer];
    const err = Math.hypot(x - truth[0], y - truth[1], z - truth[2]) * 1000;
    sumSq += err * err;
    if (err > maxErr) maxErr = err;
    sumDelay += now - g;
    frames++;
    if (prev && prevTruth) {
      const jump = Math.hypot(x - prev[0], y - prev[1], z - prev[2]);
      const motion = Math.hypot(truth[0] - prevTruth[0], truth[1] - prevTruth[1], truth[2] - prevTruth[2]);
      const excess = (jump - motion) * 1000;
      if (excess > maxJumpExcess) maxJumpExcess = excess;
    }
    prev = [x, y, z];
    prevTruth = [truth[0], truth[1], truth[2]];
  }
  const vrOwner = getVrContext(owner.world);
  if (vrOwner.role !== 'client' || vrView.role !== 'client' || !stats0) throw new Error('client contexts expected');
  const c = vrOwner.codec.counters;
  const bits = vrOwner.codec.bits;
  const bytesPerPose = (3 * bits.position + bits.rotation) / 8;
  const moving = c.movingDeltas > 0 ? c.movingDeltaBits / c.movingDeltas / 8 : 0;
  const st = vrView.stats;
  const dry = st.extrapolatedFrames - stats0.extrapolatedFrames + (st.heldFrames - stats0.heldFrames);
  const all = dry + st.interpolatedFrames - stats0.interpolatedFrames;
  const budget = o.rttMs + 1000 / sendRateHz + 2 * o.jitterMs;
  const displayDelayMs = frames > 0 ? sumDelay / frames : NaN;
  const bytesIn = (viewer.net.stats()[0]?.bytesIn ?? 0) - bytesIn0;
  return {
    rmsMm: frames > 0 ? Math.sqrt(sumSq / frames) : NaN,
    maxErrorMm: maxErr,
    displayDelayMs,
    displayDelayBudgetMs: budget,
    displayDelayExcessMs: displayDelayMs - budget,
    maxJumpExcessMm: maxJumpExcess,
    dryFraction: all > 0 ? dry / all : 0,
    bytesPerPose,
    bytesPerMovingPoseDelta: moving,
    bytesPerAvatar: 3 * bytesPerPose,
    bytesPerAvatarDelta: 3 * moving,
    uplinkBytesPerMessage: vrOwner.stats.posePackets > 0 ? vrOwner.stats.poseBytes / vrOwner.stats.posePackets : 0,
    downlinkBytesPerSecond: bytesIn / o.seconds,
    frames,
  };
}

/** The SPEC's four network conditions: 0 / 50 / 100 / 200 ms RTT, with 20 ms jitter and 2 % loss beyond 0. */
export const VR_QUALITY_CONDITIONS: ReadonlyArray<Pick<RemoteHandQualityOptions, 'rttMs' | 'jitterMs' | 'loss'>> = [
  { rttMs: 0, jitterMs: 0, loss: 0 },
  { rttMs: 50, jitterMs: 20, loss: 0.02 },
  { rttMs: 100, jitterMs: 20, loss: 0.02 },
  { rttMs: 200, jitterMs: 20, loss: 0.02 },
];

/** Measures every condition of VR_QUALITY_CONDITIONS for `seconds` each. */
export function measureVrQualityTable(seconds: number, seed = 1): Array<RemoteHandQuality & { rttMs: number }> {
  return VR_QUALITY_CONDITIONS.map((c) => ({
    rttMs: c.rttMs,
    ...measureRemoteHandQuality({ ...c, seconds, seed }),
  }));
}

/**
 * The `vr-quality` bench family: the owner/viewer scenario at 0 / 50 / 100 / 200 ms RTT; the headline metrics come
 * from the SPEC's condition (100 ms RTT, 20 ms jitter, 2 % loss).
 */
export const vrQualityFamily: BenchFamily = {
  name: 'vr-quality',
  title: 'VR quality: remote hand vs delayed truth, display delay, jumps, pose bytes',
  async run(ctx: BenchContext): Promise<FamilyResult> {
    const seconds = byScale(ctx.scale, { full: 30, quick: 12, tiny: 1 });
    const rows: Array<RemoteHandQuality & { rttMs: number; jitterMs: number; loss: number }> = [];
    for (const c of VR_QUALITY_CONDITIONS) {
      const task = ctx.progress.start(`vr-quality ${c.rttMs} ms RTT`);
      const q = measureRemoteHandQuality({ ...c, seconds, seed: ctx.seed });
      rows.push({ ...c, ...q });
      task.end(
        `${c.rttMs} ms RTT: ${q.rmsMm.toFixed(2)} mm RMS, delay ${q.displayDelayMs.toFixed(0)}/${q.displayDelayBudgetMs.toFixed(0)} ms, jump excess ${q.maxJumpExcessMm.toFixed(2)} mm`,
      );
    }
    const spec = rows.find((r) => r.rttMs === 100)!;
    const table = rows
      .map(
        (r) =>
          `| ${r.rttMs} / ${r.jitterMs} / ${(r.loss * 100).toFixed(0)} % | ${r.rmsMm.toFixed(2)} | ${r.displayDelayMs.toFixed(1)} / ${r.displayDelayBudgetMs.toFixed(1)} | ${r.maxJumpExcessMm.toFixed(2)} | ${(r.dryFraction * 100).toFixed(0)} % | ${r.bytesPerPose.toFixed(1)} | ${r.bytesPerMovingPoseDelta.toFixed(2)} | ${r.bytesPerAvatar.toFixed(1)} / ${r.bytesPerAvatarDelta.toFixed(1)} |`,
      )
      .join('\n');
    const markdown = [
      `Standard motion trace, owner and viewer each on a link with the given RTT, 30 Hz sends, 90 Hz frames, ${seconds} s per row. Display-delay budget = one-way latency (owner → server → viewer) + one send interval + 2 x jitter.`,
      '',
      '| RTT / jitter / loss | RMS mm | display delay / budget ms | max jump excess mm | extrapolated or held | B per pose | B per moving pose (delta) | B per avatar (whole / delta) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      table,
    ].join('\n');
    return {
      metrics: {
        remote_hand_rms_mm: spec.rmsMm,
        display_delay_excess_ms: spec.displayDelayExcessMs,
        max_jump_excess_mm: spec.maxJumpExcessMm,
        bytes_per_moving_pose_delta: spec.bytesPerMovingPoseDelta,
      },
      series: rows,
      markdown,
    };
  },
};
