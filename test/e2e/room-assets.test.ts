/**
 * Shared models in the WebXR room, in real browsers: headless Debian chromium opens the room as users A and B (over
 * the WebSocket transport). A shares a generated glTF model (the picker's yellow cone, exported by three's
 * GLTFExporter in A's page); the server checks its SHA-256 and offers it on; B must draw it as a grabbable object,
 * both in its page state and on screen (yellow pixels counted in B's screenshot, saved to test-artifacts/). A user C
 * who opens the room afterwards gets the model too, and B grabs it (in emulated VR) like any object.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoom } from '../../examples/webxr-room/server.ts';
import type { RunningRoom } from '../../examples/webxr-room/server.ts';
import { requireLoopbackOnlyNetwork } from '../../harness/netns.ts';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
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
/** A small model is a few chunks at the room's asset rate (~125 kB/s): well under a second; slack for CI. */
const MODEL_BOUND_MS = 15_000;

type Vec3 = [number, number, number];
interface ViewInfo {
  eid: number;
  kind: string;
  owner: number;
  rendered: Vec3;
  model?: { hash: string; loaded: boolean };
}
interface Handle {
  status(): { state: string; clientId: number; inXR: boolean; xrFrames: number };
  reach(hand: 'right', at: Vec3): void;
  hand(hand: 'right'): Vec3;
  device: { controllers: { right: { updateButtonValue(id: string, v: number): void } } };
  views(): ViewInfo[];
  shareModel(name: string): Promise<string>;
  models(): { ready: string[]; failed: string[] };
}
const room_ = (p: Page) => p.evaluate.bind(p);

async function open(browser: Browser, url: string, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text().slice(0, 300)}`));
  await page.goto(url);
  await page.waitForFunction(
    () => (window as never as { __room?: Handle }).__room?.status().state === 'connected',
    undefined,
    { timeout: 30_000, polling: 20 },
  );
  return page;
}

const views = (p: Page): Promise<ViewInfo[]> => room_(p)(() => (window as never as { __room: Handle }).__room.views());

/** Waits until `page` draws the model `hash` as a loaded object; returns the milliseconds it took. */
async function modelShown(page: Page, hash: string, who: string): Promise<number> {
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < MODEL_BOUND_MS) {
    const v = await views(page);
    if (v.some((x) => x.kind === 'object' && x.model?.hash === hash && x.model.loaded)) return Date.now() - start;
    last = v.filter((x) => x.model);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${who}: model ${hash} not drawn within ${MODEL_BOUND_MS} ms; model views ${JSON.stringify(last)}`);
}

/** Screenshot of `page` (saved) and how many pixels are the cone's yellow (lit: r high, g/r 0.7-1, little blue). */
async function yellowPixels(page: Page, file: string): Promise<number> {
  const png = await page.screenshot({ path: join(ARTIFACTS, file) });
  return page.evaluate(async (data) => {
    const image = new Image();
    image.src = `data:image/png;base64,${data}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const g = canvas.getContext('2d')!;
    g.drawImage(image, 0, 0);
    const px = g.getImageData(0, 0, image.width, image.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) {
      const [r, gr, b] = [px[i], px[i + 1], px[i + 2]];
      if (r > 120 && gr / r > 0.7 && gr / r < 1 && b / r < 0.45) n++;
    }
    return n;
  }, png.toString('base64'));
}

let room: RunningRoom;
let browser: Browser;
const scratch = mkdtempSync(join(tmpdir(), 'ecsync-room-assets-'));

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

describe('WebXR room shared models', () => {
  it('A shares a glTF model; B (and a later user C) draw it as a grabbable object', async () => {
    const url = `https://127.0.0.1:${room.port}/?emulate&transport=ws`;
    const errors: string[] = [];
    const a = await open(browser, url, errors);
    const b = await open(browser, url, errors);
    const objects = async () => (await views(b)).filter((v) => v.kind === 'object').length;
    await b.waitForFunction(
      () => (window as never as { __room: Handle }).__room.views().some((v) => v.kind === 'object'),
      undefined,
      { timeout: 10_000, polling: 50 },
    );
    await b.waitForTimeout(300); // objects glide to their poses for a moment after they appear
    const objectsBefore = await objects();
    const before = await yellowPixels(b, 'room-assets-b-before.png');

    const hash = await room_(a)(() => (window as never as { __room: Handle }).__room.shareModel('cone.glb'));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const ms = await modelShown(b, hash, 'B');
    expect(await objects()).toBe(objectsBefore + 1);
    await modelShown(a, hash, 'A');
    await b.waitForTimeout(300);
    const after = await yellowPixels(b, 'room-assets-b-model.png');
    console.log(`B drew A's model after ${ms} ms; yellow pixels ${before} -> ${after}`);
    expect(after).toBeGreaterThan(before + 150);

    // C opens the room afterwards: the server offers it the catalog on join.
    const c = await open(browser, url, errors);
    await modelShown(c, hash, 'C');
    expect(await room_(c)(() => (window as never as { __room: Handle }).__room.models())).toEqual({
      ready: [hash],
      failed: [],
    });

    // The model is grabbable like any object: B, in VR, puts its right hand on it and squeezes; A sees B own it.
    await b.click('#VRButton');
    await b.waitForFunction(
      () => {
        const st = (window as never as { __room: Handle }).__room.status();
        return st.inXR && st.xrFrames > 10;
      },
      undefined,
      { timeout: 20_000, polling: 50 },
    );
    const model = (await views(b)).find((v) => v.model?.hash === hash)!;
    const idB = await room_(b)(() => (window as never as { __room: Handle }).__room.status().clientId);
    await room_(b)((at) => (window as never as { __room: Handle }).__room.reach('right', at), model.rendered);
    await b.waitForFunction(
      (at) => {
        const h = (window as never as { __room: Handle }).__room.hand('right');
        return Math.hypot(h[0] - at[0], h[1] - at[1], h[2] - at[2]) < 0.005;
      },
      model.rendered,
      { timeout: 5000, polling: 20 },
    );
    await room_(b)(() =>
      (window as never as { __room: Handle }).__room.device.controllers.right.updateButtonValue('squeeze', 1),
    );
    const ownerOnA = async () => (await views(a)).find((v) => v.model?.hash === hash)?.owner;
    const start = Date.now();
    while ((await ownerOnA()) !== idB && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(await ownerOnA()).toBe(idB);
    expect(errors).toEqual([]);
  }, 120_000);
});
