/**
 * The owner's side, each frame: find the tracked devices this client owns, capture their raw input from the pose
 * arrays (written by the app from XR input), apply the server's corrections, and write what to draw into RenderPose
 * with no added latency.
 */
import { CorrectionOutcome, OwnedPoseState, reconcile, renderOwned } from './reconciliation.ts';
import { deviceKindOf, storeOf, type VrClientContext } from './vr-context.ts';

/** Scratch for one rendered pose (no state: fully written before each read). */

/** Finds owned devices (new ones are queued for the Predicted tag), captures their raw input and renders them. */
export function updateOwnedDevices(vr: VrClientContext, nowMs: number): void {
  const out = vr.scratch.render;
  const rep = vr.net.replicator;
  const reg = rep.registry;
  const me = rep.clientId;
  const owned = vr.owned;
  for (const dev of owned.values()) dev.seen = false;
  if (me !== 0) {
    for (let i = 0; i < reg.count; i++) {
      const eid = reg.list[i];
      if (reg.owner[eid] !== me) continue;
      const kind = deviceKindOf(reg.has, vr.poses, eid);
      if (kind === -1) continue;
      let dev = owned.get(eid);
      const netId = reg.netIdOf[eid];
      if (dev && dev.netId !== netId) dev = undefined;
      if (!dev) {
        const state = new OwnedPoseState();
        dev = { eid, netId, kind, store: storeOf(vr.components, kind), state, captured: false, seen: false };
        owned.set(eid, dev);
        vr.remote.delete(eid);
        vr.becamePredicted.push(eid);
      }
      dev.seen = true;
      capture(dev.store, eid, dev.state, nowMs);
      dev.captured = true;
      renderOwned(dev.state, nowMs, vr.options.reconcile.blendMs, out);
      writeRender(vr, eid, out);
    }
  }
  for (const [eid, dev] of owned) {
    if (dev.seen) continue;
    owned.delete(eid);
    if (!reg.isReplicated(eid)) vr.untracked.push(eid);
  }
}

function capture(
  store: VrClientContext['components']['HeadPose'],
  eid: number,
  state: OwnedPoseState,
  nowMs: number,
): void {
  const r = state.raw;
  r[0] = store.px[eid];
  r[1] = store.py[eid];
  r[2] = store.pz[eid];
  r[3] = store.qx[eid];
  r[4] = store.qy[eid];
  r[5] = store.qz[eid];
  r[6] = store.qw[eid];
  const v = state.rawVelocity;
  v[0] = store.vx[eid];
  v[1] = store.vy[eid];
  v[2] = store.vz[eid];
  v[3] = store.wx[eid];
  v[4] = store.wy[eid];
  v[5] = store.wz[eid];
  state.rawTimeMs = nowMs;
}

/** Writes a pose (7 numbers) into the RenderPose arrays of `eid`. */
export function writeRender(vr: VrClientContext, eid: number, pose: Float64Array): void {
  const rp = vr.components.RenderPose;
  if (eid >= rp.px.length) return;
  rp.px[eid] = pose[0];
  rp.py[eid] = pose[1];
  rp.pz[eid] = pose[2];
  rp.qx[eid] = pose[3];
  rp.qy[eid] = pose[4];
  rp.qz[eid] = pose[5];
  rp.qw[eid] = pose[6];
}

/** Applies the corrections received since the last frame (rebase, replay, blend). */
export function applyCorrections(vr: VrClientContext, nowMs: number): void {
  const list = vr.corrections;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    const dev = vr.owned.get(c.eid);
    if (!dev) continue;
    vr.stats.corrections++;
    const outcome = reconcile(dev.state, c.tick, c.pose, nowMs, vr.options.reconcile);
    if (outcome === CorrectionOutcome.rebased) vr.stats.rebases++;
  }
  list.length = 0;
}
