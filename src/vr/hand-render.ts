/**
 * Each frame, what to draw for every hand (RenderHand): an owned hand is the owner's own tracked joints this frame
 * (no added latency), a remote hand its samples interpolated at the render time its device was drawn at this frame
 * (so hand and fingers move as one), the server's hands their newest sample; all placed on the device's RenderPose
 * (the server: its replicated pose). A device that is not a tracked hand has RenderHand.tracked = 0.
 */
import { HAND_JOINTS_LENGTH } from '../../components/tracked-hand.ts';
import type { HandClientContext, HandServerContext } from './hand-context.ts';
import { jointsRelativeToWrist, placeJoints } from './hand-frame-math.ts';

/** Updates RenderHand of a client world (after the interpolation system). */
export function renderClientHands(hx: HandClientContext): void {
  const { TrackedHand, RenderHand } = hx.components;
  const rp = hx.vr.components.RenderPose;
  const cap = RenderHand.tracked.length;
  for (const dev of hx.vr.owned.values()) {
    const eid = dev.eid;
    if (dev.kind === 0 || eid >= cap) continue;
    const tracked = TrackedHand.tracked[eid] === 1;
    RenderHand.tracked[eid] = tracked ? 1 : 0;
    if (!tracked) continue;
    jointsRelativeToWrist(TrackedHand.joints, eid * HAND_JOINTS_LENGTH, hx.rel);
    placeJoints(
      hx.rel,
      rp.px[eid],
      rp.py[eid],
      rp.pz[eid],
      rp.qx[eid],
      rp.qy[eid],
      rp.qz[eid],
      rp.qw[eid],
      RenderHand.joints,
      eid * HAND_JOINTS_LENGTH,
    );
  }
  for (const rh of hx.remote.values()) rh.seen = false;
  for (const dev of hx.vr.remote.values()) {
    const eid = dev.eid;
    if (dev.kind === 0 || eid >= cap) continue;
    const rh = hx.remote.get(eid);
    if (!rh || rh.netId !== dev.netId) {
      RenderHand.tracked[eid] = 0;
      continue;
    }
    rh.seen = true;
    const tracked = rh.buffer.sample(dev.renderTimeMs, hx.values);
    RenderHand.tracked[eid] = tracked ? 1 : 0;
    if (!tracked) continue;
    hx.fitter.rebuildValues(hx.values, dev.kind === 1, hx.rel, 0, hx.shapes.shapeOf(rh.netId));
    placeJoints(
      hx.rel,
      rp.px[eid],
      rp.py[eid],
      rp.pz[eid],
      rp.qx[eid],
      rp.qy[eid],
      rp.qz[eid],
      rp.qw[eid],
      RenderHand.joints,
      eid * HAND_JOINTS_LENGTH,
    );
  }
  for (const [eid, rh] of hx.remote) {
    if (rh.seen || hx.vr.remote.has(eid)) continue;
    hx.remote.delete(eid);
    hx.shapes.remove(rh.netId);
    if (eid < cap) RenderHand.tracked[eid] = 0;
  }
}

/** Updates RenderHand of the server world from each hand's newest sample on its replicated pose. */
export function renderServerHands(hx: HandServerContext): void {
  const { RenderHand } = hx.components;
  const cap = RenderHand.tracked.length;
  for (const h of hx.hands.values()) {
    const eid = h.eid;
    if (eid >= cap) continue;
    RenderHand.tracked[eid] = h.tracked ? 1 : 0;
    if (!h.tracked) continue;
    const store = h.left ? hx.vr.components.LeftControllerPose : hx.vr.components.RightControllerPose;
    hx.fitter.rebuild(h.codes, h.left, hx.rel, 0, hx.shapes.shapeOf(h.netId));
    placeJoints(
      hx.rel,
      store.px[eid],
      store.py[eid],
      store.pz[eid],
      store.qx[eid],
      store.qy[eid],
      store.qz[eid],
      store.qw[eid],
      RenderHand.joints,
      eid * HAND_JOINTS_LENGTH,
    );
  }
}
