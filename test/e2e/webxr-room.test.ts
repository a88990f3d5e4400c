/**
 * The WebXR room in real browsers: headless Debian chromium opens the page twice (users A and B), both enter
 * immersive-vr on an emulated Quest 3 (IWER), and B must see A's hand and a grabbed object move. Runs once over
 * geckos.io (WebRTC) and once over the WebSocket fallback. The room runs with `npm start`'s defaults (every
 * interface, 0.0.0.0): inside the loopback-only network namespace of `npm test` that reaches loopback only (fails,
 * never skips, elsewhere). Screenshots of B's view and of the fallback notice go to test-artifacts/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoom } from '../../examples/webxr-room/server.ts';
import type { RunningRoom } from '../../examples/webxr-room/server.ts';
import { requireLoopbackOnlyNetwork } from '../../harness/netns.ts';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
/** FINDINGS' flags for headless WebXR, plus WebRTC on loopback, two pages that never throttle, a self-signed cert. */
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
/** Small viewport: SwiftShader renders stereo at 60 fps at this size (FINDINGS). */
const VIEWPORT = { width: 640, height: 360 };
/** B must draw A's hand within this distance of where A put it, in metres (1 mm quantization, interpolation settled). */
const CLOSE_M = 0.01;
/** A closed page says goodbye; if that is lost, 3 missed 1 s heartbeats suspend it (the session's defaults). */
const LEAVE_BOUND_MS = 8000;
/** Bound on hand-to-screen latency on loopback: 30 Hz sends both ways plus the render delay take ~150 ms. */
const MOTION_BOUND_MS = 2000;

type Vec3 = [number, number, number];
interface ViewInfo {
  eid: number;
  kind: string;
  owner: number;
  rendered: Vec3;
  replicated: Vec3;
  visible: boolean;
}
interface Status {
  state: string;
  transport: string;
  transportNote: string;
  inXR: boolean;
  xrFrames: number;
  clientId: number;
  rttMs: number;
  overlay: string[];
}

/** Waits (bounded) for a line of the room's log to match; fails with the log. */
async function waitForLog(pattern: RegExp, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!roomLog.some((line) => pattern.test(line))) {
    if (Date.now() > deadline) throw new Error(`no room log line matching ${pattern}; log:\n${roomLog.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const distance = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** One user: a browser context with the room page. */
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
    await user.until(() => !!(window as { __room?: unknown }).__room, 30_000, 'the page to load');
    return user;
  }

  status = (): Promise<Status> =>
    this.page.evaluate(() => (window as never as { __room: { status(): Status } }).__room.status());
  views = (): Promise<ViewInfo[]> =>
    this.page.evaluate(() => (window as never as { __room: { views(): ViewInfo[] } }).__room.views());
  hand = (hand: 'left' | 'right'): Promise<Vec3> =>
    this.page.evaluate((h) => (window as never as { __room: { hand(h: string): Vec3 } }).__room.hand(h), hand);
  reach = (hand: 'left' | 'right', at: Vec3): Promise<void> =>
    this.page.evaluate(
      ([h, p]) => (window as never as { __room: { reach(h: string, p: Vec3): void } }).__room.reach(h, p),
      [hand, at] as const,
    );
  /**
   * Moves the hand to `at` in `steps` steps `pauseMs` apart: a hand that jumps farther than the server's speed limit
   * allows between two sends (likelier when a loaded machine sends less often) is corrected, and a held object with it.
   */
  glide = async (hand: 'left' | 'right', at: Vec3, steps = 6, pauseMs = 80): Promise<void> => {
    const from = await this.hand(hand);
    for (let i = 1; i <= steps; i++) {
      const k = i / steps;
      const step: Vec3 = [0, 1, 2].map((d) => from[d] + (at[d] - from[d]) * k) as Vec3;
      await this.reach(hand, step);
      await this.page.waitForTimeout(pauseMs);
    }
  };
  squeeze = (value: number): Promise<void> =>
    this.page.evaluate(
      (v) =>
        (
          window as never as {
            __room: { device: { controllers: { right: { updateButtonValue(id: string, v: number): void } } } };
          }
        ).__room.device.controllers.right.updateButtonValue('squeeze', v),
      value,
    );

  /** Waits for `predicate(arg)` in the page; fails naming `what`, with the page's status and errors. */
  async until(predicate: () => unknown, timeoutMs: number, what: string): Promise<void> {
    try {
      await this.page.waitForFunction(predicate, undefined, { timeout: timeoutMs, polling: 20 });
    } catch {
      const status = await this.status().catch(() => 'no status');
      throw new Error(
        `${this.name}: timed out after ${timeoutMs} ms waiting for ${what}.\n` +
          `status: ${JSON.stringify(status)}\nerrors: ${this.errors.join('\n') || 'none'}`,
      );
    }
  }

  /** Polls `check` in Node until it returns true; fails naming `what` with the last value seen. */
  async poll(check: () => Promise<[boolean, unknown]>, timeoutMs: number, what: string): Promise<number> {
    const start = Date.now();
    let last: unknown;
    while (Date.now() - start < timeoutMs) {
      const [ok, seen] = await check();
      if (ok) return Date.now() - start;
      last = seen;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
  }

  async enterVR(): Promise<void> {
    await this.page.click('#VRButton');
    await this.until(
      () => {
        const s = (window as never as { __room: { status(): Status } }).__room.status();
        return s.inXR && s.xrFrames > 10;
      },
      20_000,
      'an immersive-vr session with frames',
    );
  }
}

let room: RunningRoom;
let browser: Browser;
/** The room's log lines (why WebRTC attempts failed). */
const roomLog: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'ecsync-room-e2e-'));

beforeAll(async () => {
  requireLoopbackOnlyNetwork();
  mkdirSync(ARTIFACTS, { recursive: true });
  // The defaults of `npm start` (host 0.0.0.0): safe here, the namespace has nothing but loopback.
  room = await startRoom({
    port: 0,
    log: (line) => roomLog.push(line),
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
])('WebXR room over $transport', ({ transport, query, expected }) => {
  it('B sees A enter, move a hand, and grab and move an object', async () => {
    const url = `https://127.0.0.1:${room.port}/${query}`;
    const a = await User.open(browser, 'A', url);
    const b = await User.open(browser, 'B', url);
    try {
      // 1. Both connect over the transport asked for, and enter immersive-vr on the emulated Quest 3.
      for (const user of [a, b]) {
        await user.until(
          () => (window as never as { __room: { status(): Status } }).__room.status().state === 'connected',
          15_000,
          'the connection',
        );
        expect((await user.status()).transport, `${user.name}'s transport`).toBe(expected);
        expect((await user.status()).transportNote).toBe('');
        await user.enterVR();
      }
      const idA = (await a.status()).clientId;
      const avatarOfA = async () => (await b.views()).filter((v) => v.owner === idA && v.kind !== 'object');
      await b.poll(async () => [(await avatarOfA()).length === 3, await b.views()], 10_000, "view of A's avatar");

      // 2. A moves the right controller 30 cm up and 20 cm forward: B draws A's hand there.
      const before = await a.hand('right');
      const target: Vec3 = [before[0], before[1] + 0.3, before[2] - 0.2];
      await a.reach('right', target);
      await a.poll(async () => [distance(await a.hand('right'), target) < 0.002, await a.hand('right')], 5000, 'move');
      const handOfA = async () => (await avatarOfA()).find((v) => v.kind === 'right') as ViewInfo;
      const handMs = await b.poll(
        async () => {
          const seen = (await handOfA()).rendered;
          return [distance(seen, target) < CLOSE_M, seen];
        },
        MOTION_BOUND_MS,
        `A's right hand drawn within ${CLOSE_M} m of ${JSON.stringify(target)}`,
      );
      expect(distance((await handOfA()).rendered, before)).toBeGreaterThan(0.3);

      // 3. A reaches an object, squeezes: A owns it, and B sees it owned by A.
      const object = (await b.views()).find((v) => v.kind === 'object') as ViewInfo;
      const start = object.rendered;
      await a.reach('right', start);
      await a.poll(async () => [distance(await a.hand('right'), start) < 0.002, await a.hand('right')], 5000, 'reach');
      await a.squeeze(1);
      const ownerOnB = async () => ((await b.views()).find((v) => v.eid === object.eid) ?? object).owner;
      await b.poll(async () => [(await ownerOnB()) === idA, await ownerOnB()], 5000, `the object owned by A (${idA})`);
      // B can see the new owner before A's grant arrives; A attaches the object only then, at the offset it has from
      // the hand at that moment, so the carry starts once A holds it (a glide started earlier leaves it behind).
      const objectOnA = async () => (await a.views()).find((v) => v.owner === idA && v.kind === 'object') as ViewInfo;
      const holderOnA = async () => {
        const eid = (await objectOnA())?.eid ?? 0;
        type Room = { __room: { objectState(e: number): { holder: number } } };
        return eid === 0 ? 0 : a.page.evaluate((e) => (window as never as Room).__room.objectState(e).holder, eid);
      };
      await a.poll(async () => [(await holderOnA()) !== 0, await holderOnA()], 5000, 'the object attached to the hand');

      // 4. A carries it 30 cm up and 25 cm to the side: B sees the object follow.
      const carried: Vec3 = [start[0] + 0.25, start[1] + 0.3, start[2]];
      await a.glide('right', carried);
      await a.poll(
        async () => {
          const seen = await objectOnA();
          if (distance(seen.rendered, carried) < 0.005) return [true, seen];
          // What A holds and where its hand is, so a failure says which part stopped.
          type Room = { __room: { objectState(e: number): unknown; grabs(): unknown; hand(h: string): Vec3 } };
          const held = await a.page.evaluate((e) => {
            const r = (window as never as Room).__room;
            return { state: r.objectState(e), grabs: r.grabs(), hand: r.hand('right') };
          }, seen.eid);
          return [false, { seen, ...held, status: await a.status() }];
        },
        20_000, // a loaded machine draws few frames a second
        'carry',
      );
      const heldAt = (await objectOnA()).rendered;
      const objectOnB = async () => (await b.views()).find((v) => v.eid === object.eid) as ViewInfo;
      const objectMs = await b.poll(
        async () => [distance((await objectOnB()).rendered, heldAt) < CLOSE_M, await objectOnB()],
        MOTION_BOUND_MS,
        `the carried object drawn within ${CLOSE_M} m of ${JSON.stringify(heldAt)}`,
      );
      await b.page.screenshot({ path: join(ARTIFACTS, `webxr-room-${transport}-b-view.png`) });

      // 5. A lets go: the object stays where it was let go, back with the server.
      await a.squeeze(0);
      await b.poll(async () => [(await ownerOnB()) === 0, await ownerOnB()], 5000, 'the object released');
      expect(distance((await objectOnB()).rendered, heldAt)).toBeLessThan(CLOSE_M);
      expect((await b.status()).overlay.join('\n')).toMatch(new RegExp(`connected via ${expected}[\\s\\S]*RTT`));
      console.log(`[${transport}] B drew A's hand after ${handMs} ms and the carried object after ${objectMs} ms`);
      expect([...a.errors, ...b.errors]).toEqual([]);
      if (transport === 'geckos') expect(roomLog, 'no failed WebRTC attempt').toEqual([]);

      // 6. B turns the link conditioner on (+100 ms each way): its measured round trip grows by at least that much.
      const rttBefore = (await b.status()).rttMs;
      await b.page.evaluate(() => (window as never as { __room: { setPreset(i: number): void } }).__room.setPreset(1));
      await b.poll(
        async () => {
          const s = await b.status();
          return [s.rttMs > rttBefore + 80 && /link: \+100 ms/.test(s.overlay.join('\n')), s];
        },
        8000,
        `an RTT above ${rttBefore.toFixed(0)} + 80 ms with the conditioner on`,
      );

      // 7. A closes the page: B sees A's avatar go (removed on A's goodbye, or hidden once A's link is found lost).
      await a.page.close({ runBeforeUnload: true });
      const goneMs = await b.poll(
        async () => [(await avatarOfA()).every((v) => !v.visible), await avatarOfA()],
        LEAVE_BOUND_MS,
        "A's avatar gone",
      );
      const removed = (await avatarOfA()).length === 0;
      console.log(`[${transport}] A's avatar ${removed ? 'removed' : 'hidden (suspended)'} after ${goneMs} ms`);
    } finally {
      await a.context.close();
      await b.context.close();
    }
  }, 90_000);
});

describe('WebXR room transport choice', () => {
  it('falls back to the WebSocket by itself when WebRTC cannot connect (no ICE candidate, as with UDP blocked)', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT, ignoreHTTPSErrors: true });
    // Every peer connection may only use relays, and there are none: ICE never finds a pair.
    await context.addInitScript(() => {
      const Native = window.RTCPeerConnection;
      window.RTCPeerConnection = class extends Native {
        constructor(configuration?: RTCConfiguration) {
          super({ ...configuration, iceTransportPolicy: 'relay' });
        }
      };
    });
    try {
      const page = await context.newPage();
      await page.goto(`https://127.0.0.1:${room.port}/?emulate`);
      await page.waitForFunction(
        () =>
          (window as never as { __room?: { status(): Status } }).__room?.status().overlay[0]?.startsWith('connected'),
        undefined,
        { timeout: 20_000, polling: 50 },
      );
      const status = await page.evaluate(() => (window as never as { __room: { status(): Status } }).__room.status());
      expect(status.transport).toBe('ws (fallback)');
      expect(status.overlay[0]).toBe('connected via ws (fallback)');
      // The page says why it fell back, visibly; the server logged where the attempt stood.
      expect(status.transportNote).toMatch(/^Fell back to WebSocket: WebRTC failed: .*within 5000 ms \(ICE /);
      const note = page.locator('#note');
      expect(await note.isVisible()).toBe(true);
      expect(await note.textContent()).toBe(status.transportNote);
      await page.screenshot({ path: join(ARTIFACTS, 'webxr-room-fallback.png') });
      await waitForLog(/WebRTC attempt from 127\.0\.0\.1 failed after \d+ ms: .*ICE found no working candidate pair/);
    } finally {
      await context.close();
    }
  }, 30_000);
});
