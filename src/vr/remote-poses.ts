/**
 * The viewer's side, each frame: find the tracked devices other clients own, turn each new replicated sample
 * (recognised by its stamp) into a timestamped sample on the server clock, and write the pose at the owner's render
 * time into RenderPose: interpolated, extrapolated with the owner's velocity within its horizon, or held. A late
 * sample after extrapolating, or a sample completed by a late field, is blended in, never snapped to.
 */
import { InterpolationBuffer, SampleMode } from './interpolation-buffer.ts';
import { applyBlend, setBlendError } from './pose-blend.ts';
import { poseCheck, stampCheck, stampHorizonMs, stampTimeUnits, unwrapStampMs } from './pose-stamp.ts';
import { RenderDelay } from './render-delay.ts';
import { writeRender } from './owned-poses.ts';
import { deviceKindOf, type RemoteDevice, type RemoteOwner, storeOf, type VrClientContext } from './vr-context.ts';

/** Render time advancing this much faster than real time is a skip, not playback (slew is at most 10 %). */
const SKIP_DETECT_RATE = 1.5;

/** Scratch (fully written before each read; no state across calls). */

function ownerOf(vr: VrClientContext, clientId: number): RemoteOwner {
  let o = vr.owners.get(clientId);
  if (!o) {
    const hz = vr.net.session.welcome?.sendRateHz;
    const interval = hz && hz > 0 ? 1000 / hz : vr.net.sendIntervalMs;
    o = { delay: new RenderDelay(interval, vr.options.delay), lastSampleMs: NaN, lastArrivalMs: NaN };
    vr.owners.set(clientId, o);
  }
  return o;
}

/** Updates every remote device: new samples in, render pose out. */
export function updateRemoteDevices(vr: VrClientContext, nowMs: number): void {
  const rep = vr.net.replicator;
  const reg = rep.registry;
  const me = rep.clientId;
  for (const dev of vr.remote.values()) dev.seen = false;
  for (let i = 0; i < reg.count; i++) {
    const eid = reg.list[i];
    const owner = reg.owner[eid];
    if (me !== 0 && owner === me) continue;
    const kind = deviceKindOf(reg.has, vr.poses, eid);
    if (kind === -1) continue;
    let dev = vr.remote.get(eid);
    const netId = reg.netIdOf[eid];
    if (dev && dev.netId !== netId) dev = undefined;
    if (!dev) {
      dev = {
        eid,
        netId,
        kind,
        store: storeOf(vr.components, kind),
        buffer: new InterpolationBuffer(),
        owner,
        seen: false,
        lastStamp: 0,
        complete: true,
        horizonMs: 0,
        mode: SampleMode.empty,
        renderTimeMs: NaN,
        lastNowMs: NaN,
        displayed: new Float64Array([0, 0, 0, 0, 0, 0, 1]),
        hasDisplayed: false,
        blendError: new Float64Array([0, 0, 0, 0, 0, 0, 1]),
        blendStartMs: -Infinity,
      };
      vr.remote.set(eid, dev);
      vr.becameInterpolated.push(eid);
    }
    dev.seen = true;
    if (dev.owner !== owner) {
      dev.owner = owner;
      dev.buffer.clear();
    }
    updateDevice(vr, dev, nowMs);
  }
  for (const [eid, dev] of vr.remote) {
    if (dev.seen) continue;
    vr.remote.delete(eid);
    if (!reg.isReplicated(eid)) vr.untracked.push(eid);
  }
}

function readPose(dev: RemoteDevice, out: Float64Array): void {
  const s = dev.store;
  const e = dev.eid;
  out[0] = s.px[e];
  out[1] = s.py[e];
  out[2] = s.pz[e];
  out[3] = s.qx[e];
  out[4] = s.qy[e];
  out[5] = s.qz[e];
  out[6] = s.qw[e];
}

function registrationOf(vr: VrClientContext, dev: RemoteDevice) {
  return dev.kind === 0 ? vr.poses.head : dev.kind === 1 ? vr.poses.left : vr.poses.right;
}

/** The owner's horizon, bounded by the viewer's own limit. */
function horizonOf(dev: RemoteDevice, maxMs: number): number {
  return dev.horizonMs > 0 && dev.horizonMs < maxMs ? dev.horizonMs : maxMs;
}

function updateDevice(vr: VrClientContext, dev: RemoteDevice, nowMs: number): void {
  const { pose, velocity: vel, base, continuation: cont } = vr.scratch;
  const opts = vr.options;
  const owner = ownerOf(vr, dev.owner);
  let renderMs = owner.delay.renderTime(nowMs, owner.lastSampleMs);
  const maxH = opts.maxExtrapolationMs;
  const stamp = dev.store.stamp[dev.eid];
  const isNew = stamp !== dev.lastStamp && stamp !== 0;
  // A sample whose fields did not all match its check (a field lost earlier comes back late) is repaired once
  // they do; the change is blended like any other discontinuity.
  const repair =
    !isNew && !dev.complete && stamp !== 0 && stampCheck(stamp) === poseCheck(registrationOf(vr, dev), dev.eid);
  let blendFromContinuation = false;
  if (isNew || repair) {
    // 1. where the old samples put the device now (to blend from, if the path changes under it)
    if (dev.hasDisplayed && (repair || dev.mode === SampleMode.extrapolating || dev.mode === SampleMode.holding)) {
      dev.buffer.sample(renderMs, horizonOf(dev, maxH), cont, opts.interpolation);
      applyBlend(cont, dev.blendError, dev.blendStartMs, nowMs, opts.reconcile.blendMs, cont);
      blendFromContinuation = true;
    }
    readPose(dev, pose);
    let v: Float64Array | null = null;
    if (vr.poses.velocities[dev.kind]) {
      const s = dev.store;
      const e = dev.eid;
      vel[0] = s.vx[e];
      vel[1] = s.vy[e];
      vel[2] = s.vz[e];
      vel[3] = s.wx[e];
      vel[4] = s.wy[e];
      vel[5] = s.wz[e];
      v = vel;
    }
    if (repair) {
      dev.buffer.replaceNewest(pose, 0, v);
      dev.complete = true;
    } else {
      // 2. the new sample on the owner's timeline
      const units = stampTimeUnits(stamp);
      const expected = Number.isFinite(owner.lastSampleMs)
        ? owner.lastSampleMs + (nowMs - owner.lastArrivalMs)
        : units / 4;
      const t = unwrapStampMs(units, expected);
      if (!(t <= owner.lastSampleMs)) {
        owner.lastSampleMs = t;
        owner.lastArrivalMs = nowMs;
        owner.delay.onSample(nowMs, t);
      }
      const previous = dev.buffer.newestTime;
      if (dev.buffer.push(t, pose, 0, v) && previous !== -Infinity) owner.delay.onGap(t - previous);
      dev.lastStamp = stamp;
      dev.complete = stampCheck(stamp) === poseCheck(registrationOf(vr, dev), dev.eid);
      dev.horizonMs = stampHorizonMs(stamp);
      if (renderMs === -Infinity) renderMs = owner.delay.renderTime(nowMs, owner.lastSampleMs);
    }
  }
  // 3. a render time inside a long gap (a loss burst) skips to its end: the motion in it is unknown, so showing it
  //    slowly would only show a guess. The skip (here, or by another device of the same owner this frame) is a
  //    discontinuity: the device stays where it was shown and glides to the live track.
  const gapEnd = dev.buffer.gapEndAfter(renderMs);
  if (gapEnd === gapEnd) {
    owner.delay.skipTo(nowMs, gapEnd);
    renderMs = gapEnd;
  }
  const skipped = dev.hasDisplayed && renderMs - dev.renderTimeMs > (nowMs - dev.lastNowMs) * SKIP_DETECT_RATE + 1;
  if (skipped) {
    cont.set(dev.displayed);
    blendFromContinuation = true;
  }
  // 4. the pose at the render time
  let mode = dev.buffer.sample(renderMs, horizonOf(dev, maxH), base, opts.interpolation);
  if (mode === SampleMode.empty) {
    // Never stamped (placed by the server, no owner stream yet): show the replicated pose as it is.
    readPose(dev, base);
    mode = SampleMode.holding;
  }
  if (mode === SampleMode.interpolating) vr.stats.interpolatedFrames++;
  else if (mode === SampleMode.extrapolating) vr.stats.extrapolatedFrames++;
  else vr.stats.heldFrames++;
  if (blendFromContinuation) {
    setBlendError(cont, base, dev.blendError);
    dev.blendStartMs = nowMs;
  }
  applyBlend(base, dev.blendError, dev.blendStartMs, nowMs, opts.reconcile.blendMs, dev.displayed);
  dev.hasDisplayed = true;
  dev.mode = mode;
  dev.renderTimeMs = renderMs;
  dev.lastNowMs = nowMs;
  writeRender(vr, dev.eid, dev.displayed);
}
