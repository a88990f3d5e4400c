/**
 * VR pose quality (SPEC 10): a remote viewer's rendered hand against the owner's true hand, on the standard motion
 * trace, over the in-memory network with a link conditioner and a manual clock (deterministic for a seed).
 *
 * Definitions:
 * - Owner, server and viewer share one manual clock (the common clock). The owner's hand is driven by the trace at
 *   the owner's frame times. The viewer renders its right hand at frame time `now`; the capture time of what it
 *   shows is g = r - offset, r being the viewer's render time and offset the server's mapping of the owner's clock.
 * - displayDelayMs: mean of (now - g) over the measured frames; displayDelayBudgetMs = one-way latency (owner uplink
 *   + viewer downlink = RTT when both links have that RTT) + the owner's send interval + the server's send interval
 *   + 2 x the per-link jitter; displayDelayExcessMs = delay - budget. The headline is the worst row.
 * - rmsMm (headline): RMS over frames of |rendered(now) - truth(now - displayDelayMs)|: the truth on the common clock
 *   at the viewer's time minus the run's display delay, so an error in *when* a pose is shown (the render time
 *   wobbling around its mean while the delay adapts) counts, not only the error of the pose shown for its own time.
 *   rmsAtBudgetMm takes the budget as the delay instead (it also charges a mean delay below or above the budget);
 *   rmsAtRenderTimeMm is the older, flattering figure against truth(g), the pose of the displayed instant itself.
 * - maxJumpExcessMm: largest (|rendered(f) - rendered(f-1)| - |truth(g_f) - truth(g_f-1)|) over frames.
 * - bytesPerPose: one pose sent whole on the pose stream (position + rotation); uplinkMovingPoseDeltaBytes: the
 *   residual of a delta-coded moving pose on the owner's stream, without the absolute pose each message carries (so
 *   not a per-pose cost of the link: see uplinkBytesPerMessage, the mean InputPoses message, tag and every redundant
 *   tick included); bytesPerAvatar: head + two controllers sent whole; downlinkBytesPerSecond: all bytes the viewer
 *   received. The server-to-viewer bytes per moving pose are measured in the 16-user room (room-bandwidth family).
 */
import { clientIdOf, type LinkConditions } from '../src/index.ts';
import { TRACE_SAMPLE_LENGTH, TraceDevice } from '../src/vr/motion-trace.ts';
import { getVrContext } from '../src/vr/vr-context.ts';
import { poseClockOffsetMs, remoteRenderTimeMs, type VrPosesOptions } from '../src/vr/vr-plugin.ts';
import { type Avatar, TraceDriver, VrStepper, type VrStepperOptions } from './vr-stepper.ts';

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
  /** Server fidelity levels by distance (e.g. every third tick for all); default none. */
  fidelity?: VrStepperOptions['fidelity'];
}

/** Figures of one measurement. */
export interface RemoteHandQuality {
  /** Against the truth at (viewer time - the run's display delay) on the common clock. */
  rmsMm: number;
  /** Against the truth at (viewer time - the display-delay budget). */
  rmsAtBudgetMm: number;
  /** Against the truth at the displayed instant itself (ignores timing error). */
  rmsAtRenderTimeMm: number;
  maxErrorMm: number;
  displayDelayMs: number;
  displayDelayBudgetMs: number;
  displayDelayExcessMs: number;
  /** Standard deviation of the display delay over the measured frames: how much *when* a pose is shown wobbles. */
  displayDelayStdMs: number;
  maxJumpExcessMm: number;
  /** Share of measured frames rendered by extrapolation or holding (the buffer ran dry). */
  dryFraction: number;
  bytesPerPose: number;
  uplinkMovingPoseDeltaBytes: number;
  bytesPerAvatar: number;
  uplinkBytesPerMessage: number;
  downlinkBytesPerSecond: number;
  frames: number;
}

/** Runs the owner/viewer scenario and measures the viewer's rendered right hand against the owner's true hand. */
export function measureRemoteHandQuality(o: RemoteHandQualityOptions): RemoteHandQuality {
  const sendRateHz = o.sendRateHz ?? 30;
  const frameMs = 1000 / (o.frameHz ?? 90);
  const link: LinkConditions = { latencyMs: o.rttMs / 2, jitterMs: o.jitterMs, loss: o.loss };
  const s = new VrStepper({
    seed: o.seed,
    frameMs,
    sendRateHz,
    client: o.client,
    hashIntervalMs: o.hashIntervalMs,
    fidelity: o.fidelity,
  });
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
  const measuredFrames = Math.ceil((o.seconds * 1000) / frameMs);
  // Per measured frame: the common clock's time and the rendered position (truths are sampled after the run, once
  // the run's display delay is known).
  const nows: number[] = [];
  const shown: number[] = [];
  let sumSqAtRender = 0;
  let sumDelay = 0;
  let sumSqDelay = 0;
  let maxJumpExcess = -Infinity;
  let prev: [number, number, number] | null = null;
  let prevTruth: [number, number, number] | null = null;
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
    sumSqAtRender += err * err;
    sumDelay += now - g;
    sumSqDelay += (now - g) * (now - g);
    nows.push(now);
    shown.push(x, y, z);
    if (prev && prevTruth) {
      const jump = Math.hypot(x - prev[0], y - prev[1], z - prev[2]);
      const motion = Math.hypot(truth[0] - prevTruth[0], truth[1] - prevTruth[1], truth[2] - prevTruth[2]);
      const excess = (jump - motion) * 1000;
      if (excess > maxJumpExcess) maxJumpExcess = excess;
    }
    prev = [x, y, z];
    prevTruth = [truth[0], truth[1], truth[2]];
  }
  const frames = nows.length;
  const budget = o.rttMs + 2 * (1000 / sendRateHz) + 2 * o.jitterMs;
  const displayDelayMs = frames > 0 ? sumDelay / frames : NaN;
  /** RMS (mm) of the rendered hand against the truth `delayMs` behind the common clock, and the largest error. */
  const rmsBehind = (delayMs: number): [number, number] => {
    let sumSq = 0;
    let max = 0;
    for (let i = 0; i < frames; i++) {
      driver.trace.sample(TraceDevice.right, nows[i] - delayMs - t0, truth);
      const e = Math.hypot(shown[3 * i] - truth[0], shown[3 * i + 1] - truth[1], shown[3 * i + 2] - truth[2]) * 1000;
      sumSq += e * e;
      if (e > max) max = e;
    }
    return [frames > 0 ? Math.sqrt(sumSq / frames) : NaN, max];
  };
  const [rmsMm, maxErr] = rmsBehind(displayDelayMs);
  const [rmsAtBudgetMm] = rmsBehind(budget);
  const vrOwner = getVrContext(owner.world);
  if (vrOwner.role !== 'client' || vrView.role !== 'client' || !stats0) throw new Error('client contexts expected');
  const c = vrOwner.codec.counters;
  const bits = vrOwner.codec.bits;
  const bytesPerPose = (3 * bits.position + bits.rotation) / 8;
  const moving = c.movingDeltas > 0 ? c.movingDeltaBits / c.movingDeltas / 8 : 0;
  const st = vrView.stats;
  const dry = st.extrapolatedFrames - stats0.extrapolatedFrames + (st.heldFrames - stats0.heldFrames);
  const all = dry + st.interpolatedFrames - stats0.interpolatedFrames;
  const bytesIn = (viewer.net.stats()[0]?.bytesIn ?? 0) - bytesIn0;
  return {
    rmsMm,
    rmsAtBudgetMm,
    rmsAtRenderTimeMm: frames > 0 ? Math.sqrt(sumSqAtRender / frames) : NaN,
    maxErrorMm: maxErr,
    displayDelayMs,
    displayDelayBudgetMs: budget,
    displayDelayExcessMs: displayDelayMs - budget,
    displayDelayStdMs: frames > 0 ? Math.sqrt(Math.max(0, sumSqDelay / frames - displayDelayMs * displayDelayMs)) : NaN,
    maxJumpExcessMm: maxJumpExcess,
    dryFraction: all > 0 ? dry / all : 0,
    bytesPerPose,
    uplinkMovingPoseDeltaBytes: moving,
    bytesPerAvatar: 3 * bytesPerPose,
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
