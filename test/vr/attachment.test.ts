/**
 * Held objects as attachments, through the public API over the memory network with the link conditioner: while
 * carried, a viewer draws the object within 1 mm of its offset from the hand it draws, every frame; grab and release
 * are blended (no jump beyond the hand's own motion), and without the blend they would jump.
 */
import { addComponent, addEntity } from 'bitecs';
import { describe, expect, it } from 'vitest';
import { TraceDriver, VrStepper, VR_CAPACITY, type VrPeer } from '../../harness/vr-stepper.ts';
import {
  addAttachments,
  addServerFlights,
  attachmentStatsOf,
  attachmentSystem,
  attachTo,
  type Attachment,
  clientIdOf,
  createAttachment,
  createFlight,
  detach,
  field,
  type Flight,
  GRAVITY_MS2,
  Networked,
  registerAttachment,
  registerComponent,
  registerFlight,
  setOwner,
} from '../../src/index.ts';

interface Extra {
  Body: {
    px: Float32Array;
    py: Float32Array;
    pz: Float32Array;
    qx: Float32Array;
    qy: Float32Array;
    qz: Float32Array;
    qw: Float32Array;
  };
  attachment: Attachment;
  flight: Flight;
}

function registerExtra(protocol: Parameters<typeof registerAttachment>[0]): Extra {
  const n = VR_CAPACITY;
  const Body = {
    px: new Float32Array(n),
    py: new Float32Array(n),
    pz: new Float32Array(n),
    qx: new Float32Array(n),
    qy: new Float32Array(n),
    qz: new Float32Array(n),
    qw: new Float32Array(n).fill(1),
  };
  const q = () => field.quantized(-32, 32, 0.001);
  registerComponent(protocol, Body, { name: 'Body', fields: { px: q(), py: q(), pz: q(), rot: field.quat() } });
  const attachment = createAttachment(n);
  registerAttachment(protocol, attachment);
  const flight = createFlight(n);
  registerFlight(protocol, flight);
  return { Body, attachment, flight };
}

const extraOf = (p: VrPeer) => p.extra as Extra;

interface CarryRun {
  maxOffsetErrorMm: number;
  checkedFrames: number;
  /** Largest frame step of the drawn object beyond the step of what it follows (its free pose, or hand x offset). */
  maxExcessStepMm: number;
  blends: number;
}

function carry(blendMs: number, seed: number, throwIt = false): CarryRun & { landing?: Landing } {
  const s = new VrStepper({ seed, registerExtra });
  const cond = { latencyMs: 50, jitterMs: 10, loss: 0.02 };
  const owner = s.addClient(cond);
  const viewer = s.addClient(cond);
  for (const c of [owner, viewer]) {
    const x = extraOf(c);
    addAttachments(c.world, {
      attachment: x.attachment,
      pose: { component: x.Body, position: ['px', 'py', 'pz'], rotation: ['qx', 'qy', 'qz', 'qw'] },
      blendMs,
      flight: x.flight,
    });
  }
  const sx0 = extraOf(s.server);
  const flights = addServerFlights(s.server.world, {
    flight: sx0.flight,
    pose: { component: sx0.Body, position: ['px', 'py', 'pz'], rotation: ['qx', 'qy', 'qz', 'qw'] },
  });
  s.run(30);
  const avatar = s.spawnAvatar(owner);
  const sx = extraOf(s.server);
  const obj = addEntity(s.server.world);
  addComponent(s.server.world, obj, sx.Body);
  addComponent(s.server.world, obj, sx.attachment);
  addComponent(s.server.world, obj, sx.flight);
  addComponent(s.server.world, obj, Networked);
  sx.Body.px[obj] = 0.3;
  sx.Body.py[obj] = 1.1;
  sx.Body.pz[obj] = -0.3;
  setOwner(s.server.world, obj, clientIdOf(owner.world));
  const driver = new TraceDriver(seed + 3);
  const frame = 1000 / 90;
  const grabAt = Math.round(3000 / frame);
  const releaseAt = Math.round(9000 / frame);
  const trueOffset = new Float64Array(7);
  const vo = () => s.local(viewer, obj);
  const vh = () => s.local(viewer, avatar.right);
  let attachedSeenAt = -1;
  let launch: number[] = [];
  let prev: { shown: number[]; composed: number[]; free: number[] } | null = null;
  const run: CarryRun = { maxOffsetErrorMm: 0, checkedFrames: 0, maxExcessStepMm: 0, blends: 0 };
  for (let i = 0; i < releaseAt + Math.round(3000 / frame); i++) {
    s.step((peer, now) => {
      if (peer !== owner) return;
      driver.drive(
        peer,
        { head: s.local(peer, avatar.head), left: s.local(peer, avatar.left), right: s.local(peer, avatar.right) },
        now,
      );
    });
    if (i === grabAt) {
      attachTo(owner.world, s.local(owner, obj), s.local(owner, avatar.right));
      const a = extraOf(owner).attachment;
      const e = s.local(owner, obj);
      trueOffset.set([a.ox[e], a.oy[e], a.oz[e], a.qx[e], a.qy[e], a.qz[e], a.qw[e]]);
    }
    if (i === releaseAt) {
      const e = s.local(owner, obj);
      detach(owner.world, e, { throw: throwIt });
      const b = extraOf(owner).Body;
      const f = extraOf(owner).flight;
      launch = [b.px[e], b.py[e], b.pz[e], f.vx[e], f.vy[e], f.vz[e]];
    }
    for (const c of [owner, viewer]) attachmentSystem(c.world);
    if (vo() === 0 || vh() === 0) continue;
    const rp = viewer.components.RenderPose;
    const o = vo();
    const h = vh();
    const attached = extraOf(viewer).attachment.holder[o] === h;
    if (attached && attachedSeenAt < 0) attachedSeenAt = i;
    // carried and past the grab blend: the object sits at its offset from the hand drawn this frame
    // where the object would be attached to the hand drawn this frame, and where it is free
    const [x, y, z] = [trueOffset[0], trueOffset[1], trueOffset[2]];
    const [qx, qy, qz, qw] = [rp.qx[h], rp.qy[h], rp.qz[h], rp.qw[h]];
    const tx = 2 * (qy * z - qz * y);
    const ty = 2 * (qz * x - qx * z);
    const tz = 2 * (qx * y - qy * x);
    const composed = [
      rp.px[h] + x + qw * tx + (qy * tz - qz * ty),
      rp.py[h] + y + qw * ty + (qz * tx - qx * tz),
      rp.pz[h] + z + qw * tz + (qx * ty - qy * tx),
    ];
    const body = extraOf(viewer).Body;
    const free = [body.px[o], body.py[o], body.pz[o]];
    const shown = [rp.px[o], rp.py[o], rp.pz[o]];
    // carried and past the grab blend: the object sits at its offset from the hand drawn this frame
    if (attached && i > attachedSeenAt + Math.ceil(blendMs / frame) + 1 && i < releaseAt) {
      const err = Math.hypot(shown[0] - composed[0], shown[1] - composed[1], shown[2] - composed[2]) * 1000;
      run.maxOffsetErrorMm = Math.max(run.maxOffsetErrorMm, err);
      run.checkedFrames++;
    }
    if (prev && i > grabAt + 1) {
      const target = attached ? composed : free;
      const before = attached ? prev.composed : prev.free;
      const d = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) * 1000;
      run.maxExcessStepMm = Math.max(run.maxExcessStepMm, d(shown, prev.shown) - d(target, before));
    }
    prev = { shown, composed, free };
  }
  run.blends = attachmentStatsOf(viewer.world).blends;
  const at = (p: VrPeer, e: number) => [extraOf(p).Body.px[e], extraOf(p).Body.py[e], extraOf(p).Body.pz[e]];
  const drawn = (p: VrPeer, e: number) => [
    p.components.RenderPose.px[e],
    p.components.RenderPose.py[e],
    p.components.RenderPose.pz[e],
  ];
  const landing: Landing = {
    launch,
    server: at(s.server, obj),
    owner: at(owner, s.local(owner, obj)),
    viewer: at(viewer, vo()),
    ownerDrawn: drawn(owner, s.local(owner, obj)),
    viewerDrawn: drawn(viewer, vo()),
    stats: flights.stats(),
  };
  // Under loss the core's state hash sometimes catches the owner's object state out of step and resyncs it (seed 4;
  // not from this layer: it happens without the owner writing the object's pose too). Anything else is a failure.
  for (const p of [owner, viewer, s.server])
    expect(p.errors.filter((e) => !/HashMismatch/.test(e.message))).toEqual([]);
  return { ...run, landing };
}

interface Landing {
  launch: number[];
  server: number[];
  owner: number[];
  viewer: number[];
  ownerDrawn: number[];
  viewerDrawn: number[];
  stats: { launched: number; landed: number; refused: number };
}

const gapMm = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) * 1000;

describe('held objects as attachments', () => {
  it('a carried object stays within 1 mm of its offset from the drawn hand, every viewer frame', () => {
    for (const seed of [2, 9]) {
      const r = carry(150, seed);
      expect(r.checkedFrames).toBeGreaterThan(400);
      expect(r.maxOffsetErrorMm).toBeLessThanOrEqual(1);
      // grab and release each blended once on the viewer
      expect(r.blends).toBe(2);
    }
  });

  it('grab and release do not jump: the drawn object never steps more than 2 mm beyond what it follows', () => {
    const blended = carry(150, 2);
    expect(blended.maxExcessStepMm).toBeLessThanOrEqual(2);
    // the same run without the blend jumps at grab or release (the hand is drawn ~150 ms behind the object's pose)
    const snapped = carry(0, 2);
    expect(snapped.maxExcessStepMm).toBeGreaterThan(Math.max(3, blended.maxExcessStepMm * 3));
  });

  it("a throw leaves with the hand's motion, the server flies it, and owner and viewer see it land at the same place", () => {
    const r = carry(150, 2, true).landing!;
    expect(r.stats).toEqual({ launched: 1, landed: 1, refused: 0 });
    const [x0, y0, z0, vx, vy, vz] = r.launch;
    expect(Math.hypot(vx, vy, vz)).toBeGreaterThan(0.05);
    // on the floor, where the ballistic path from the release pose and velocity meets it (within one 11 ms step)
    expect(r.server[1]).toBe(0);
    const tLand = (vy + Math.sqrt(vy * vy + 2 * GRAVITY_MS2 * y0)) / GRAVITY_MS2;
    const expected = [x0 + vx * tLand, 0, z0 + vz * tLand];
    expect(gapMm(r.server, expected)).toBeLessThan(Math.hypot(vx, vz) * 20 + 2);
    // everyone has the server's landing, and draws it there (1 mm position steps)
    for (const p of [r.owner, r.viewer, r.ownerDrawn, r.viewerDrawn]) expect(gapMm(p, r.server)).toBeLessThanOrEqual(1);
  });
});
