/**
 * Hands, carry and throw in the WebXR room, in real browsers (headless Debian chromium, IWER's emulated Quest 3),
 * once over geckos.io (WebRTC) and once over the WebSocket. A switches the emulated device to tracked hands (IWER's
 * XRHand, 25 joints from recorded Quest poses): B draws A's hand with three's hand model from the room's own
 * /input-profiles; A pinches and B's drawn fingertips come within the calibrated codec's bound of A's true joints. A pinches an
 * object and carries it around in a circle: in every frame B draws, the object sits at its replicated offset from
 * A's hand as B draws it (<= 1 mm). A throws it mid-swing: the server flies it, and A and B see it come to rest at
 * the same place on the floor (<= 1 mm, the pose field's step). Screenshots of each step go to
 * test-artifacts/room-hands-<transport>-*.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoom } from '../../examples/webxr-room/server.ts';
import type { RunningRoom } from '../../examples/webxr-room/server.ts';
import { REST_HEIGHT_M } from '../../examples/webxr-room/protocol.ts';
import { THROW_MIN_SPEED_MS } from '../../examples/webxr-room/grab.ts';
import { requireLoopbackOnlyNetwork } from '../../harness/netns.ts';
import { CALIBRATION_VALUES, dequantizeHandShape } from '../../src/vr/hand-calibration-codec.ts';
import { CALIBRATION_MIN_FRAMES, HandCalibrator } from '../../src/vr/hand-calibration.ts';
import { HandFitter } from '../../src/vr/hand-fit.ts';
import { jointsRelativeToWrist, placeJoints } from '../../src/vr/hand-frame-math.ts';
import { HandShape } from '../../src/vr/hand-shape.ts';
import { HAND_PARAM_COUNT, JOINT_POSE_LENGTH } from '../../src/vr/hand-skeleton.ts';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--ignore-certificate-errors',
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];
const VIEWPORT = { width: 640, height: 360 };
/**
 * B's drawn fingertip against what the hand codec makes of A's joints (the library's own calibration, fit and
 * rebuild of A's joints, placed on A's wrist), for a still hand (so the render delay does not matter): the wrist
 * position travels in 1 mm steps (up to 0.87 mm off) and its rotation in ~0.1 degree steps (0.3 mm at a fingertip
 * 18 cm away): 1.5 mm. Against A's true joints, the bound is the calibrated codec's own error for that pose plus the
 * same 1.5 mm, and never more than TRUTH_BOUND_MM. (IWER's hand is a recorded Quest hand; calibrated on it, the
 * codec's error is ~3 mm at the open hand's thumb and index tips and ~1 mm when pinching; the test prints it.)
 */
const PIPELINE_BOUND_MM = 1.5;
/** B's drawn thumb and index tips against A's true joints (the calibrated codec: ~3 mm open, ~1 mm pinching). */
const TRUTH_BOUND_MM = 5;
/** Thumb and index tips closer than this are a pinch (three's pinch threshold is 2 cm). */
const PINCHED_M = 0.02;
/** Held-object offset error in B's frames (the bound). */
const CARRY_BOUND_MM = 1;
/** Thrown objects' rest positions on A and B: the pose field's 1 mm step. */
const LANDING_BOUND_MM = 1;

type Vec3 = [number, number, number];
interface HandInfo {
  eid: number;
  owner: number;
  handedness: string;
  tracked: boolean;
  model: boolean;
  wrist: Vec3;
  thumbTip: Vec3;
  indexTip: Vec3;
}
interface ViewInfo {
  eid: number;
  kind: string;
  owner: number;
  rendered: Vec3;
  replicated: Vec3;
}
interface ObjectState {
  holder: number;
  offset: number[];
  flying: boolean;
  pose: Vec3;
}
interface Room {
  status(): { state: string; transport: string; inXR: boolean; xrFrames: number; clientId: number };
  views(): ViewInfo[];
  hands(): HandInfo[];
  handJoints(hand: 'left' | 'right'): number[] | null;
  hand(hand: 'left' | 'right'): Vec3;
  grabPoint(hand: 'left' | 'right'): Vec3;
  setHands(on: boolean): void;
  pinch(value: number): void;
  reach(hand: 'left' | 'right', at: Vec3): void;
  grabs(): { holding: number[]; refused: number; thrown: number; lastThrow: Vec3 | null };
  objectState(eid: number): ObjectState;
  drawnMatrices(eids: number[]): Array<number[] | null>;
  everyFrame(hook: () => void): () => void;
  device: {
    hands: Record<'left' | 'right', { position: { x: number; y: number; z: number; set(...v: number[]): void } }>;
  };
}

const mm = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) * 1000;
const THUMB_TIP = 4;
const INDEX_TIP = 9;
const jointAt = (joints: ArrayLike<number>, j: number): Vec3 => [joints[j * 7], joints[j * 7 + 1], joints[j * 7 + 2]];

/**
 * What a receiver of the hand codec rebuilds of `truth` (25 x 7, room coordinates), placed on truth's wrist: the
 * owner's calibration settled on this pose (a still hand), then fit and rebuild on that skeleton.
 */
function codecView(truth: number[], left: boolean): Float64Array {
  const rel = new Float64Array(25 * JOINT_POSE_LENGTH);
  jointsRelativeToWrist(Float64Array.from(truth), 0, rel);
  const calibrator = new HandCalibrator();
  for (let i = 0; i < CALIBRATION_MIN_FRAMES; i++) calibrator.add(rel, JOINT_POSE_LENGTH, 0, left);
  const calibration = new Int16Array(CALIBRATION_VALUES);
  const shape = new HandShape();
  if (!calibrator.estimate(calibration) || !dequantizeHandShape(calibration, shape)) shape.setReference();
  const fitter = new HandFitter();
  const codes = new Int32Array(HAND_PARAM_COUNT);
  fitter.fit(rel, JOINT_POSE_LENGTH, 0, left, codes, -1, shape);
  const rebuilt = new Float64Array(25 * JOINT_POSE_LENGTH);
  fitter.rebuild(codes, left, rebuilt, 0, shape);
  const out = new Float64Array(25 * JOINT_POSE_LENGTH);
  placeJoints(rebuilt, truth[0], truth[1], truth[2], truth[3], truth[4], truth[5], truth[6], out, 0);
  return out;
}

class User {
  readonly errors: string[] = [];
  private constructor(
    readonly name: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, name: string, url: string): Promise<User> {
    const context = await browser.newContext({ viewport: VIEWPORT, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const user = new User(name, context, page);
    page.on('pageerror', (e) => user.errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && user.errors.push(`console: ${m.text().slice(0, 300)}`));
    await page.goto(url);
    await page.waitForFunction(
      () => (window as never as { __room?: Room }).__room?.status().state === 'connected',
      undefined,
      { timeout: 30_000, polling: 20 },
    );
    return user;
  }

  /** Runs `fn(room, arg)` in the page (`fn` must not close over anything). */
  eval<T, A = undefined>(fn: (room: Room, arg: A) => T, arg?: A): Promise<T> {
    return this.page.evaluate(
      ([src, a]) =>
        (new Function('room', 'arg', `return (${src})(room, arg)`) as (r: unknown, a: unknown) => T)(
          (window as never as { __room: Room }).__room,
          a,
        ),
      [fn.toString(), arg] as const,
    );
  }

  async poll<T>(check: () => Promise<[boolean, T]>, timeoutMs: number, what: string): Promise<T> {
    const start = Date.now();
    let last: T | undefined;
    while (Date.now() - start < timeoutMs) {
      const [ok, seen] = await check();
      if (ok) return seen;
      last = seen;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
  }

  async enterVR(): Promise<void> {
    await this.page.click('#VRButton');
    await this.poll(
      async () => {
        const s = await this.eval((r) => r.status());
        return [s.inXR && s.xrFrames > 10, s];
      },
      20_000,
      'an immersive-vr session with frames',
    );
  }

  shot = (file: string) => this.page.screenshot({ path: join(ARTIFACTS, file) });
}

let room: RunningRoom;
let browser: Browser;
const scratch = mkdtempSync(join(tmpdir(), 'ecsync-room-hands-'));

beforeAll(async () => {
  requireLoopbackOnlyNetwork();
  mkdirSync(ARTIFACTS, { recursive: true });
  room = await startRoom({
    port: 0,
    log: () => {},
    udpPorts: null,
    certDir: join(scratch, 'cert'),
    viteCacheDir: join(scratch, 'vite'),
    liveReload: false,
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: false, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await room?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe.each([
  { transport: 'geckos', query: '?emulate', expected: 'geckos' },
  { transport: 'ws', query: '?emulate&transport=ws', expected: 'ws' },
])('WebXR room hands over $transport', ({ transport, query, expected }) => {
  it("B sees A's tracked hand pinch, a carried object stay in A's hand every frame, and a throw land where A sees it", async () => {
    const url = `https://127.0.0.1:${room.port}/${query}`;
    const a = await User.open(browser, 'A', url);
    const b = await User.open(browser, 'B', url);
    const shot = (u: User, step: string) => u.shot(`room-hands-${transport}-${step}-${u.name.toLowerCase()}.png`);
    try {
      for (const u of [a, b]) {
        expect((await u.eval((r) => r.status())).transport).toBe(expected);
        await u.enterVR();
      }
      const idA = (await a.eval((r) => r.status())).clientId;

      // 1. A switches to tracked hands: A draws its own hand models, B draws A's hands with the same model.
      await a.eval((r) => r.setHands(true));
      const ownRight = async () =>
        (await a.eval((r) => r.hands())).find((h) => h.eid === 0 && h.handedness === 'right');
      await a.poll(
        async () => {
          const h = await ownRight();
          return [!!h?.tracked && h.model && (await a.eval((r) => r.handJoints('right'))) !== null, h];
        },
        15_000,
        "A's own tracked right hand with its model",
      );
      const remoteRight = async () =>
        (await b.eval((r) => r.hands())).find((h) => h.owner === idA && h.handedness === 'right');
      await b.poll(
        async () => {
          const h = await remoteRight();
          return [!!h?.tracked && h.model, h];
        },
        15_000,
        "A's tracked right hand drawn on B",
      );
      await b.page.waitForTimeout(300);
      await shot(a, '1-hands');
      await shot(b, '1-hands');

      // 2. The open hand, then a pinch: B's drawn fingertips are where the calibrated codec puts A's joints, and within
      // its error of A's true joints.
      const tipsGap = (h: HandInfo) => mm(h.thumbTip, h.indexTip) / 1000;
      const compare = async () => {
        // A frame of a loaded page may have no tracked joints (or B no view of A's hand yet): wait for both.
        let truth: number[] | null = null;
        let seen: HandInfo | undefined;
        for (let i = 0; i < 100 && (!truth || !seen); i++) {
          truth = await a.eval((r) => r.handJoints('right'));
          seen = await remoteRight();
          if (!truth || !seen) await new Promise((r) => setTimeout(r, 20));
        }
        if (!truth || !seen) throw new Error("A's joints or B's view of A's right hand missing for 2 s");
        const codec = codecView(truth, false);
        return {
          truth,
          // B against the codec's rebuild of A's joints, B against A's true joints, and the codec's own fit error
          thumbMm: mm(seen.thumbTip, jointAt(codec, THUMB_TIP)),
          indexMm: mm(seen.indexTip, jointAt(codec, INDEX_TIP)),
          thumbTruthMm: mm(seen.thumbTip, jointAt(truth, THUMB_TIP)),
          indexTruthMm: mm(seen.indexTip, jointAt(truth, INDEX_TIP)),
          thumbFitMm: mm(jointAt(codec, THUMB_TIP), jointAt(truth, THUMB_TIP)),
          indexFitMm: mm(jointAt(codec, INDEX_TIP), jointAt(truth, INDEX_TIP)),
          gapM: tipsGap(seen),
        };
      };
      type Compared = Awaited<ReturnType<typeof compare>>;
      const within = (c: Compared) =>
        c.thumbMm <= PIPELINE_BOUND_MM &&
        c.indexMm <= PIPELINE_BOUND_MM &&
        c.thumbTruthMm <= Math.min(TRUTH_BOUND_MM, c.thumbFitMm + PIPELINE_BOUND_MM) &&
        c.indexTruthMm <= Math.min(TRUTH_BOUND_MM, c.indexFitMm + PIPELINE_BOUND_MM);
      const brief = (c: Compared) => ({ ...c, truth: undefined });
      const open = await b.poll(
        async () => {
          const c = await compare();
          return [within(c), brief(c)];
        },
        10_000,
        "A's open hand's fingertips within bound",
      );
      expect(open.gapM).toBeGreaterThan(PINCHED_M * 2);
      await a.eval((r) => r.pinch(1));
      await a.poll(
        async () => {
          const j = await a.eval((r) => r.handJoints('right'));
          if (!j) return [false, null];
          return [mm(jointAt(j, THUMB_TIP), jointAt(j, INDEX_TIP)) / 1000 < PINCHED_M, j.slice(0, 7)];
        },
        5000,
        "A's own pinch",
      );
      const pinched = await b.poll(
        async () => {
          const c = await compare();
          return [c.gapM < PINCHED_M && within(c), brief(c)];
        },
        10_000,
        "A's pinch on B within bound",
      );
      // Settled: a run of samples stays within the bound (the hand is still, so B's render delay does not matter).
      let worstMm = 0;
      let worstTruthMm = 0;
      for (let i = 0; i < 20; i++) {
        const c = await compare();
        expect(within(c), JSON.stringify(brief(c))).toBe(true);
        worstMm = Math.max(worstMm, c.thumbMm, c.indexMm);
        worstTruthMm = Math.max(worstTruthMm, c.thumbTruthMm, c.indexTruthMm);
      }
      const f = (v: number) => v.toFixed(2);
      console.log(
        `[${transport}] fingertips (thumb/index) B vs codec rebuild: open ${f(open.thumbMm)}/${f(open.indexMm)} mm, ` +
          `pinched ${f(pinched.thumbMm)}/${f(pinched.indexMm)} mm, worst of 20 ${f(worstMm)} mm; B vs A's true ` +
          `joints: open ${f(open.thumbTruthMm)}/${f(open.indexTruthMm)} mm, pinched ${f(pinched.thumbTruthMm)}/${f(pinched.indexTruthMm)} mm (codec fit error ` +
          `${f(pinched.thumbFitMm)}/${f(pinched.indexFitMm)} mm), worst of 20 ${f(worstTruthMm)} mm`,
      );
      await shot(b, '2-pinch');
      await a.eval((r) => r.pinch(0));

      // 3. A pinches the object waiting at A's seat and carries it around a circle: B records every frame it draws.
      const gripOfA = await a.eval((r) => r.hand('right'));
      const objects = (await a.eval((r) => r.views())).filter((v) => v.kind === 'object' && v.owner === 0);
      const object = objects.sort((x, y) => mm(x.rendered, gripOfA) - mm(y.rendered, gripOfA))[0];
      await a.eval((r, at) => r.reach('right', at), object.rendered);
      await a.poll(
        async () => {
          const at = await a.eval((r) => r.grabPoint('right'));
          return [mm(at, object.rendered) < 2, { at, target: object.rendered }];
        },
        5000,
        'reach',
      );
      await a.eval((r) => r.pinch(1));
      const handOnB = (await remoteRight())!.eid;
      const objectOnB = await b.poll(
        async () => {
          const v = (await b.eval((r) => r.views())).find((w) => w.kind === 'object' && w.owner === idA);
          const held = v ? await b.eval((r, eid) => r.objectState(eid), v.eid) : null;
          return [!!v && held?.holder === handOnB, v?.eid ?? 0];
        },
        10_000,
        "the object attached to A's hand on B",
      );
      // B records, each frame: the object's drawn position against A's drawn hand times the replicated offset.
      await b.eval(
        (r, [obj, hand]) => {
          const w = window as never as { __carry: number[][]; __stopCarry: () => void };
          w.__carry = [];
          const t0 = performance.now();
          w.__stopCarry = r.everyFrame(() => {
            const s = r.objectState(obj);
            const [om, hm] = r.drawnMatrices([obj, hand]);
            if (s.holder !== hand || !om || !hm) return;
            const [x, y, z] = s.offset;
            // hand rotation x offset + hand position, with the column-major matrix (rotation part is orthonormal).
            const px = hm[0] * x + hm[4] * y + hm[8] * z + hm[12];
            const py = hm[1] * x + hm[5] * y + hm[9] * z + hm[13];
            const pz = hm[2] * x + hm[6] * y + hm[10] * z + hm[14];
            w.__carry.push([performance.now() - t0, Math.hypot(om[12] - px, om[13] - py, om[14] - pz) * 1000]);
          });
        },
        [objectOnB, handOnB] as [number, number],
      );
      // A moves the hand on a 15 cm circle for 3 s.
      await a.eval((r) => {
        const w = window as never as { __stopSwing: () => void };
        const hand = r.device.hands.right;
        const [cx, cy, cz] = [hand.position.x, hand.position.y, hand.position.z];
        const t0 = performance.now();
        w.__stopSwing = r.everyFrame(() => {
          const t = (performance.now() - t0) / 1000;
          const k = Math.min(1, t / 0.5); // the circle's radius grows in, so the hand does not jump
          hand.position.set(cx + 0.15 * k * Math.sin(t * 3), cy + 0.15 * k * (1 - Math.cos(t * 3)) * 0.5, cz);
        });
      });
      await a.page.waitForTimeout(3000);
      await shot(b, '3-carry');
      await a.eval(() => (window as never as { __stopSwing: () => void }).__stopSwing());
      const carry = await b.eval(() => {
        const w = window as never as { __carry: number[][]; __stopCarry: () => void };
        w.__stopCarry();
        return w.__carry;
      });
      // Past the grab's 150 ms blend (B records from when it sees the attachment), every frame.
      const checked = carry.filter(([t]) => t > 300);
      const worstCarryMm = Math.max(...checked.map(([, e]) => e));
      console.log(
        `[${transport}] carry: ${checked.length} frames of B, worst offset error ${worstCarryMm.toFixed(4)} mm`,
      );
      expect(checked.length).toBeGreaterThan(20); // SwiftShader draws two XR pages at ~15 fps on 2 cores
      expect(worstCarryMm).toBeLessThanOrEqual(CARRY_BOUND_MM);

      // 4. A swings the hand towards the room's centre and lets go mid-swing: a throw, flown by the server.
      const flightsBefore = room.room.flights();
      const releasedAt = await a.eval((r) => {
        const hand = r.device.hands.right;
        const [x0, y0, z0] = [hand.position.x, hand.position.y, hand.position.z];
        // Towards the centre in the device's own space: forward is -z (the seat faces the centre).
        const v = [0, 1.2, -1.6];
        return new Promise<number[]>((resolve) => {
          const t0 = performance.now();
          let released = false;
          let frames = 0;
          const stop = r.everyFrame(() => {
            const t = (performance.now() - t0) / 1000;
            hand.position.set(x0 + v[0] * t, y0 + v[1] * t, z0 + v[2] * t);
            // Let go mid-swing, after a few frames of motion even when the page draws slowly.
            if (!released && t > 0.25 && ++frames >= 6) {
              released = true;
              r.pinch(0);
            }
            if (released && t > 0.45) {
              stop();
              resolve(r.hand('right'));
            }
          });
        });
      });
      const thrown = await a.poll(
        async () => {
          const g = await a.eval((r) => r.grabs());
          return [g.thrown === 1, g];
        },
        5000,
        'the throw',
      );
      expect(Math.hypot(...thrown.lastThrow!)).toBeGreaterThan(THROW_MIN_SPEED_MS);
      const objectOnA = object.eid;
      const rest = async (u: User, eid: number) => {
        const v = (await u.eval((r) => r.views())).find((w) => w.eid === eid)!;
        const s = await u.eval((r, e) => r.objectState(e), eid);
        return { v, s };
      };
      const settled = async (u: User, eid: number) =>
        u.poll(
          async () => {
            const { v, s } = await rest(u, eid);
            const still = !s.flying && v.owner === 0 && Math.abs(v.replicated[1] - REST_HEIGHT_M) < 0.001;
            return [still && mm(v.rendered, v.replicated) < 0.1, { v, s }];
          },
          10_000,
          'the thrown object at rest on the floor',
        );
      const onA = await settled(a, objectOnA);
      const onB = await settled(b, objectOnB);
      const gap = mm(onA.v.rendered, onB.v.rendered);
      const distanceM = Math.hypot(onA.v.rendered[0] - releasedAt[0], onA.v.rendered[2] - releasedAt[2]);
      console.log(
        `[${transport}] throw at ${JSON.stringify(thrown.lastThrow)} m/s landed ${distanceM.toFixed(2)} m away; ` +
          `A ${JSON.stringify(onA.v.rendered)} vs B ${JSON.stringify(onB.v.rendered)}: ${gap.toFixed(3)} mm`,
      );
      expect(room.room.flights().launched).toBe(flightsBefore.launched + 1);
      expect(room.room.flights().landed).toBe(flightsBefore.landed + 1);
      expect(distanceM).toBeGreaterThan(0.2); // it flew, it did not drop
      expect(gap).toBeLessThanOrEqual(LANDING_BOUND_MM);
      await shot(a, '4-landed');
      await shot(b, '4-landed');
      expect([...a.errors, ...b.errors]).toEqual([]);
    } finally {
      await a.context.close();
      await b.context.close();
    }
  }, 120_000);
});
