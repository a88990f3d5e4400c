/**
 * Held objects as attachments. While an object's Attachment names a holder (a hand or controller entity), every peer
 * draws it each frame at its offset from the holder's RenderPose of that frame: the holder's owner from its own
 * predicted hand, viewers from the interpolated hand, so object and hand never move apart. Grab and release change
 * what the object follows; the change is blended out over `blendMs`, so it never jumps. The owner of the object also
 * keeps the object's own pose at the composed pose, so the server and late joiners have it, and a release leaves it
 * where it was let go.
 *
 * @example
 * const attachment = createAttachment(4096);
 * registerAttachment(protocol, attachment);
 * addAttachments(world, { attachment, pose: { component: Body, position: ['px','py','pz'], rotation: ['qx','qy','qz','qw'] } });
 * attachTo(world, cup, rightHand); // owner of the cup, e.g. once its grab is granted
 * detach(world, cup);
 * // each frame after interpolationSystem: attachmentSystem(world); draw the object at vr.RenderPose
 */
import type { Attachment } from '../../components/attachment.ts';
import type { Flight } from '../../components/flight.ts';
import { type PoseAccess, type PoseArrays, poseArrays } from '../authority/hold.ts';
import { getNetContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { registeredComponentOf } from '../register.ts';
import { applyBlend, setBlendError } from './pose-blend.ts';
import { quatMultiply, quatNormalize } from './pose-math.ts';
import { findVrContext, type VrClientContext } from './vr-context.ts';

/** Default blend of a grab or release: the pose layer's correction blend (SPEC 6, ~150 ms). */
export const DEFAULT_ATTACH_BLEND_MS = 150;

/** Options of `addAttachments`. */
export interface AttachmentOptions {
  /** The Attachment component registered with `registerAttachment`. */
  attachment: Attachment;
  /** The objects' own replicated pose. */
  pose: PoseAccess;
  /** Blend of a grab or release (ms). */
  blendMs?: number;
  /** The Flight component (`registerFlight`), for throws: `detach(world, eid, { throw: true })`. */
  flight?: Flight;
}

interface Shown {
  holder: number;
  readonly displayed: Float64Array;
  readonly error: Float64Array;
  blendStartMs: number;
  /** Recent drawn positions while attached (ring): time, x, y, z. */
  readonly trail: Float64Array;
  trailNext: number;
}

/** Frames of drawn motion kept for a throw's velocity: 8 at 90 Hz cover the last ~90 ms. */
const TRAIL_FRAMES = 8;
/** A throw's velocity is the drawn motion over at least the last 40 ms (one frame is too noisy). */
const THROW_WINDOW_MS = 40;

/** Counters of the attachment layer. */
export interface AttachmentStats {
  /** Object frames drawn attached / free, and grab or release changes blended. */
  attachedFrames: number;
  /** Object frames drawn free (no holder). */
  freeFrames: number;
  /** Grab or release changes blended. */
  blends: number;
  /** Frames an attached object's holder had no RenderPose here (drawn at its own pose). */
  missingHolder: number;
}

interface AttachmentContext {
  readonly vr: VrClientContext;
  readonly attachment: Attachment;
  readonly componentId: number;
  readonly pose: PoseArrays;
  readonly blendMs: number;
  readonly flight: Flight | null;
  readonly shown: Map<number, Shown>;
  readonly target: Float64Array;
  readonly stats: AttachmentStats;
}

const contexts = new WeakMap<object, AttachmentContext>();

/** Client: adds held-object attachments to `world` (after `addVrPoses`). */
export function addAttachments(
  world: object,
  options: AttachmentOptions,
): {
  /** A copy of the attachment counters. */
  stats(): AttachmentStats;
  /** Stops drawing attachments on this world. */
  dispose(): void;
} {
  const net = getNetContext(world);
  const vr = findVrContext(world);
  if (!vr || vr.role !== 'client')
    usageError('attachments are drawn by clients', 'call it on a client world after addVrPoses');
  if (contexts.has(world)) usageError('this world already has attachments', 'call addAttachments once');
  const reg = registeredComponentOf(net.replicator.protocol, options.attachment);
  if (!reg) usageError('the attachment component is not registered', 'call registerAttachment(protocol, attachment)');
  const blendMs = options.blendMs ?? DEFAULT_ATTACH_BLEND_MS;
  if (!(blendMs >= 0 && blendMs <= 2000)) usageError(`blendMs ${blendMs} is out of range`, 'pass 0..2000');
  const ctx: AttachmentContext = {
    vr,
    attachment: options.attachment,
    componentId: reg.id,
    pose: poseArrays(options.pose),
    blendMs,
    flight: options.flight ?? null,
    shown: new Map(),
    target: new Float64Array(7),
    stats: { attachedFrames: 0, freeFrames: 0, blends: 0, missingHolder: 0 },
  };
  contexts.set(world, ctx);
  return { stats: () => ({ ...ctx.stats }), dispose: () => contexts.delete(world) };
}

function getContext(world: object): AttachmentContext {
  const ctx = contexts.get(world);
  if (!ctx) usageError('this world has no attachments', 'call addAttachments(world, options) first');
  return ctx;
}

/** Whether the holder is drawn here this frame (a tracked device of the VR layer). */
function holderDrawn(ctx: AttachmentContext, holder: number): boolean {
  return ctx.vr.owned.has(holder) || ctx.vr.remote.has(holder);
}

function readObjectPose(p: PoseArrays, eid: number, out: Float64Array): void {
  out[0] = p.p[0][eid];
  out[1] = p.p[1][eid];
  out[2] = p.p[2][eid];
  if (p.q) {
    out[3] = p.q[0][eid];
    out[4] = p.q[1][eid];
    out[5] = p.q[2][eid];
    out[6] = p.q[3][eid];
  } else {
    out[3] = out[4] = out[5] = 0;
    out[6] = 1;
  }
}

/** Writes holder's RenderPose x offset of `eid` into out. */
function composed(ctx: AttachmentContext, eid: number, holder: number, out: Float64Array): void {
  const rp = ctx.vr.components.RenderPose;
  const a = ctx.attachment;
  const qx = rp.qx[holder];
  const qy = rp.qy[holder];
  const qz = rp.qz[holder];
  const qw = rp.qw[holder];
  const x = a.ox[eid];
  const y = a.oy[eid];
  const z = a.oz[eid];
  const tx = 2 * (qy * z - qz * y);
  const ty = 2 * (qz * x - qx * z);
  const tz = 2 * (qx * y - qy * x);
  out[0] = rp.px[holder] + x + qw * tx + (qy * tz - qz * ty);
  out[1] = rp.py[holder] + y + qw * ty + (qz * tx - qx * tz);
  out[2] = rp.pz[holder] + z + qw * tz + (qx * ty - qy * tx);
  quatMultiply(qx, qy, qz, qw, a.qx[eid], a.qy[eid], a.qz[eid], a.qw[eid], out, 3);
  quatNormalize(out, 3);
}

/**
 * Owner of `eid`: attaches it to `holder` at the offset it has now (its drawn pose, else its own pose, relative to
 * the holder's RenderPose). The change replicates with the next send.
 */
export function attachTo(world: object, eid: number, holder: number): void {
  const ctx = getContext(world);
  if (!holderDrawn(ctx, holder)) usageError(`entity ${holder} is not a tracked device here`, 'attach to a hand entity');
  const now = ctx.shown.get(eid);
  const o = ctx.target;
  if (now) o.set(now.displayed);
  else readObjectPose(ctx.pose, eid, o);
  const rp = ctx.vr.components.RenderPose;
  // offset = conj(qh) * (p - ph), conj(qh) * q
  const ix = -rp.qx[holder];
  const iy = -rp.qy[holder];
  const iz = -rp.qz[holder];
  const iw = rp.qw[holder];
  const x = o[0] - rp.px[holder];
  const y = o[1] - rp.py[holder];
  const z = o[2] - rp.pz[holder];
  const tx = 2 * (iy * z - iz * y);
  const ty = 2 * (iz * x - ix * z);
  const tz = 2 * (ix * y - iy * x);
  const a = ctx.attachment;
  a.ox[eid] = x + iw * tx + (iy * tz - iz * ty);
  a.oy[eid] = y + iw * ty + (iz * tx - ix * tz);
  a.oz[eid] = z + iw * tz + (ix * ty - iy * tx);
  quatMultiply(ix, iy, iz, iw, o[3], o[4], o[5], o[6], o, 3);
  quatNormalize(o, 3);
  a.qx[eid] = o[3];
  a.qy[eid] = o[4];
  a.qz[eid] = o[5];
  a.qw[eid] = o[6];
  a.holder[eid] = holder;
}

/**
 * Owner of `eid`: lets it go where it is drawn now (its own pose takes that value). With `throw`, it leaves with the
 * velocity of its drawn motion over the last ~40 ms, and the server (`addServerFlights`) flies it from there.
 */
export function detach(world: object, eid: number, options: { throw?: boolean } = {}): void {
  const ctx = getContext(world);
  const holder = ctx.attachment.holder[eid];
  if (holder !== 0 && holderDrawn(ctx, holder)) {
    composed(ctx, eid, holder, ctx.target);
    writeObjectPose(ctx.pose, eid, ctx.target);
  }
  ctx.attachment.holder[eid] = 0;
  if (!options.throw) return;
  const f = ctx.flight;
  if (!f) usageError('throwing needs the flight option', 'pass { flight } to addAttachments');
  const s = ctx.shown.get(eid);
  const v = ctx.target;
  v.fill(0);
  if (s) throwVelocity(s, v);
  f.vx[eid] = v[0];
  f.vy[eid] = v[1];
  f.vz[eid] = v[2];
  f.flying[eid] = 1;
}

/** Velocity of the newest trail point against the newest one at least THROW_WINDOW_MS older (0 if none). */
function throwVelocity(s: Shown, out: Float64Array): void {
  const t = s.trail;
  const newest = (s.trailNext + TRAIL_FRAMES - 1) % TRAIL_FRAMES;
  const tn = t[newest * 4];
  for (let k = 1; k < TRAIL_FRAMES; k++) {
    const j = (newest + TRAIL_FRAMES - k) % TRAIL_FRAMES;
    const dt = (tn - t[j * 4]) / 1000;
    if (!(dt * 1000 >= THROW_WINDOW_MS)) continue;
    for (let a = 0; a < 3; a++) out[a] = (t[newest * 4 + 1 + a] - t[j * 4 + 1 + a]) / dt;
    return;
  }
}

function writeObjectPose(p: PoseArrays, eid: number, pose: Float64Array): void {
  for (let i = 0; i < 3; i++) p.p[i][eid] = pose[i];
  if (p.q) for (let i = 0; i < 4; i++) p.q[i][eid] = pose[3 + i];
}

/** The attachment layer's counters of `world`. */
export function attachmentStatsOf(world: object): AttachmentStats {
  return { ...getContext(world).stats };
}

/**
 * Each frame (after the interpolation and hand systems): every replicated entity with an Attachment gets its
 * RenderPose, attached or free, with grab and release blended; an owned attached object's pose follows.
 */
export function updateAttachments(world: object): void {
  const ctx = contexts.get(world);
  if (!ctx) return;
  const vr = ctx.vr;
  const rep = vr.net.replicator;
  const reg = rep.registry;
  const has = reg.has[ctx.componentId];
  const now = vr.net.clock.now();
  const rp = vr.components.RenderPose;
  const target = ctx.target;
  for (let i = 0; i < reg.count; i++) {
    const eid = reg.list[i];
    if (!has[eid] || eid >= rp.px.length) continue;
    let holder = ctx.attachment.holder[eid];
    if (holder !== 0 && !holderDrawn(ctx, holder)) {
      ctx.stats.missingHolder++;
      holder = 0;
    }
    if (holder !== 0) {
      composed(ctx, eid, holder, target);
      ctx.stats.attachedFrames++;
      if (rep.isOwned(eid)) writeObjectPose(ctx.pose, eid, target);
    } else {
      readObjectPose(ctx.pose, eid, target);
      ctx.stats.freeFrames++;
    }
    let s = ctx.shown.get(eid);
    if (!s) {
      s = {
        holder,
        displayed: new Float64Array(target),
        error: new Float64Array([0, 0, 0, 0, 0, 0, 1]),
        blendStartMs: -Infinity,
        trail: new Float64Array(TRAIL_FRAMES * 4).fill(-Infinity),
        trailNext: 0,
      };
      ctx.shown.set(eid, s);
    } else if (s.holder !== holder) {
      // grab or release: show the new pose plus the gap to the old one, fading out
      setBlendError(s.displayed, target, s.error);
      s.blendStartMs = now;
      s.holder = holder;
      ctx.stats.blends++;
    }
    applyBlend(target, s.error, s.blendStartMs, now, ctx.blendMs, s.displayed);
    if (holder !== 0) {
      const k = s.trailNext * 4;
      s.trail[k] = now;
      s.trail[k + 1] = target[0];
      s.trail[k + 2] = target[1];
      s.trail[k + 3] = target[2];
      s.trailNext = (s.trailNext + 1) % TRAIL_FRAMES;
    }
    rp.px[eid] = s.displayed[0];
    rp.py[eid] = s.displayed[1];
    rp.pz[eid] = s.displayed[2];
    rp.qx[eid] = s.displayed[3];
    rp.qy[eid] = s.displayed[4];
    rp.qz[eid] = s.displayed[5];
    rp.qw[eid] = s.displayed[6];
  }
  for (const eid of ctx.shown.keys()) if (!reg.isReplicated(eid) || !has[eid]) ctx.shown.delete(eid);
}
