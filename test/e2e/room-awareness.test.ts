/**
 * Awareness in the WebXR room, in real browsers: headless Debian chromium opens the room as users A and B (over
 * the WebSocket transport); A selects an object and B must draw it outlined in A's colour, both in its page state
 * and on screen (pixels of A's colour counted in B's screenshot, which is saved to test-artifacts/). A user C who
 * opens the room afterwards sees the selection at once; A clearing it removes the outline everywhere.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seatOf } from '../../examples/webxr-room/protocol.ts';
import { startRoom } from '../../examples/webxr-room/server.ts';
import type { RunningRoom } from '../../examples/webxr-room/server.ts';
import { requireLoopbackOnlyNetwork } from '../../harness/netns.ts';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
/** The flags of the room's own browser test (headless WebXR emulation, no throttling of background pages). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--ignore-certificate-errors',
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];
const VIEWPORT = { width: 640, height: 360 };
/** A selection is one reliable message each way on loopback: well under a second; the bound leaves CI slack. */
const SELECTION_BOUND_MS = 5000;

type Vec3 = [number, number, number];
interface ViewInfo {
  eid: number;
  kind: string;
  rendered: Vec3;
}
interface Highlight {
  eid: number;
  netId: number;
  users: number[];
  colors: number[];
}
interface Handle {
  status(): { state: string; clientId: number; inXR: boolean; xrFrames: number };
  views(): ViewInfo[];
  hand(hand: 'right'): Vec3;
  reach(hand: 'right', at: Vec3): void;
  device: { controllers: { right: { updateButtonValue(id: string, v: number): void } } };
  select(eid: number): void;
  highlights(): Highlight[];
  colorOf(clientId: number): number;
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
      () => (window as never as { __room?: Handle }).__room?.status().state === 'connected',
      undefined,
      { timeout: 30_000, polling: 20 },
    );
    return user;
  }

  clientId = async (): Promise<number> =>
    this.page.evaluate(() => (window as never as { __room: Handle }).__room.status().clientId);
  views = (): Promise<ViewInfo[]> => this.page.evaluate(() => (window as never as { __room: Handle }).__room.views());
  highlights = (): Promise<Highlight[]> =>
    this.page.evaluate(() => (window as never as { __room: Handle }).__room.highlights());
  select = (eid: number): Promise<void> =>
    this.page.evaluate((e) => (window as never as { __room: Handle }).__room.select(e), eid);

  trigger = (value: number): Promise<void> =>
    this.page.evaluate(
      (v) => (window as never as { __room: Handle }).__room.device.controllers.right.updateButtonValue('trigger', v),
      value,
    );

  async enterVR(): Promise<void> {
    await this.page.click('#VRButton');
    await this.page.waitForFunction(
      () => {
        const s = (window as never as { __room: Handle }).__room.status();
        return s.inXR && s.xrFrames > 10;
      },
      undefined,
      { timeout: 20_000, polling: 20 },
    );
  }

  /** Polls `check` until it returns true; fails naming `what` with the last value seen. */
  async poll(check: () => Promise<[boolean, unknown]>, timeoutMs: number, what: string): Promise<number> {
    const start = Date.now();
    let last: unknown;
    while (Date.now() - start < timeoutMs) {
      const [ok, seen] = await check();
      if (ok) return Date.now() - start;
      last = seen;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
  }

  /** Screenshot of the page (saved when `file` is given) and how many of its pixels are `color` (+-6 per channel). */
  async pixelsOf(color: number, file?: string): Promise<number> {
    const png = await this.page.screenshot(file ? { path: join(ARTIFACTS, file) } : {});
    return this.page.evaluate(
      async ([data, rgb]) => {
        const image = new Image();
        image.src = `data:image/png;base64,${data}`;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.width;
        canvas.height = image.height;
        const g = canvas.getContext('2d')!;
        g.drawImage(image, 0, 0);
        const px = g.getImageData(0, 0, image.width, image.height).data;
        const [r, gr, b] = [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255];
        let n = 0;
        for (let i = 0; i < px.length; i += 4)
          if (Math.abs(px[i] - r) <= 6 && Math.abs(px[i + 1] - gr) <= 6 && Math.abs(px[i + 2] - b) <= 6) n++;
        return n;
      },
      [png.toString('base64'), color] as const,
    );
  }
}

let room: RunningRoom;
let browser: Browser;
const scratch = mkdtempSync(join(tmpdir(), 'ecsync-room-awareness-'));

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

describe('WebXR room awareness', () => {
  it("B sees the object A selects outlined in A's colour; a later user sees it too; clearing removes it", async () => {
    const url = `https://127.0.0.1:${room.port}/?emulate&transport=ws`;
    const a = await User.open(browser, 'A', url);
    const b = await User.open(browser, 'B', url);
    const users = [a, b];
    try {
      const idA = await a.clientId();
      await b.poll(
        async () => [(await b.views()).some((v) => v.kind === 'object'), await b.views()],
        10_000,
        'objects',
      );
      await b.page.waitForTimeout(300); // objects glide to their poses for a moment after they appear
      expect(await b.highlights()).toEqual([]);

      // A's colour (the page's userColor); count it on B's screen before anything is selected.
      const probe = (await a.views()).find((v) => v.kind === 'object')!;
      const colorA = await a.page.evaluate((id) => (window as never as { __room: Handle }).__room.colorOf(id), idA);
      await b.page.waitForTimeout(200);
      expect(await b.highlights()).toEqual([]);
      const before = await b.pixelsOf(colorA, 'room-awareness-b-before.png');

      // A selects the first object it draws (what its trigger does when the ray points at it).
      const object = probe;
      await a.select(object.eid);
      const mine = await a.highlights();
      expect(mine).toHaveLength(1);
      expect(mine[0].users).toEqual([idA]);
      expect(mine[0].colors).toEqual([colorA]);

      const ms = await b.poll(
        async () => {
          const h = await b.highlights();
          return [h.length === 1 && h[0].netId === mine[0].netId && h[0].users[0] === idA, h];
        },
        SELECTION_BOUND_MS,
        `A's selection (net id ${mine[0].netId}) outlined`,
      );
      expect((await b.highlights())[0].colors).toEqual([colorA]);
      await b.page.waitForTimeout(100); // one more frame drawn with the outline
      const after = await b.pixelsOf(colorA, 'room-awareness-b-view.png');
      console.log(`B outlined A's selection after ${ms} ms; pixels of A's colour ${before} -> ${after}`);
      expect(after).toBeGreaterThan(before + 100);

      // C opens the room afterwards: the selection is there at once (the join snapshot).
      const c = await User.open(browser, 'C', url);
      users.push(c);
      await c.poll(
        async () => {
          const h = await c.highlights();
          return [h.length === 1 && h[0].netId === mine[0].netId && h[0].colors[0] === colorA, h];
        },
        SELECTION_BOUND_MS,
        "A's selection at the late joiner",
      );

      // A points at nothing: the outline goes everywhere.
      await a.select(0);
      for (const u of [b, c])
        await u.poll(
          async () => [(await u.highlights()).length === 0, await u.highlights()],
          SELECTION_BOUND_MS,
          'no outline',
        );

      // The real input: in VR, A holds its right hand a little in front of the object, the ray along A's view, and
      // pulls the trigger; B outlines the object the ray hit.
      await a.enterVR();
      const at = (await a.views()).find((v) => v.eid === object.eid)!.rendered;
      const yaw = seatOf(idA).yaw;
      const forward: Vec3 = [-Math.sin(yaw), 0, -Math.cos(yaw)];
      const hand: Vec3 = [at[0] - 0.25 * forward[0], at[1], at[2] - 0.25 * forward[2]];
      await a.page.evaluate((p) => (window as never as { __room: Handle }).__room.reach('right', p), hand);
      await a.poll(
        async () => {
          const h = await a.page.evaluate(() => (window as never as { __room: Handle }).__room.hand('right'));
          return [Math.hypot(h[0] - hand[0], h[1] - hand[1], h[2] - hand[2]) < 0.005, h];
        },
        5000,
        'the hand in front of the object',
      );
      await a.trigger(1);
      await a.page.waitForTimeout(100);
      await a.trigger(0);
      await b.poll(
        async () => {
          const h = await b.highlights();
          return [h.length === 1 && h[0].netId === mine[0].netId && h[0].users[0] === idA, h];
        },
        SELECTION_BOUND_MS,
        "the object A's trigger selected, outlined",
      );
      await b.page.waitForTimeout(100);
      await b.pixelsOf(colorA, 'room-awareness-b-trigger.png');
      expect(users.flatMap((u) => u.errors)).toEqual([]);
    } finally {
      for (const u of users) await u.context.close();
    }
  }, 90_000);
});
