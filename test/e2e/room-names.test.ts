/**
 * Display names in the WebXR room, in real browsers: headless Debian chromium opens the page twice over the
 * WebSocket transport; A asks for a name in its address (`?name=`), B keeps the server's "User N". Each page must
 * draw the other's name above their head, A's rename having travelled as a short string on the reliable lane.
 * Runs inside the loopback-only network namespace; B's view goes to test-artifacts/room-names.png.
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
const NAME = 'Zoë 🎉';

interface Tag {
  eid: number;
  name: string;
  position: [number, number, number];
}
interface RoomHandle {
  __room: { status(): { state: string; clientId: number }; nameTags(): Tag[] };
}

let room: RunningRoom;
let browser: Browser;
const scratch = mkdtempSync(join(tmpdir(), 'ecsync-room-names-'));

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

async function open(query: string, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(`https://127.0.0.1:${room.port}/${query}`);
  await page.waitForFunction(
    () => (window as never as Partial<RoomHandle>).__room?.status().state === 'connected',
    undefined,
    { timeout: 30_000, polling: 20 },
  );
  return page;
}

const tagsOf = (page: Page): Promise<Tag[]> => page.evaluate(() => (window as never as RoomHandle).__room.nameTags());

describe('WebXR room: display names', () => {
  it("each page draws the other's name above their head; A's chosen name reaches B", async () => {
    const errors: string[] = [];
    const a = await open(`?emulate&transport=ws&name=${encodeURIComponent(NAME)}`, errors);
    const b = await open('?emulate&transport=ws', errors);
    const bId = await b.evaluate(() => (window as never as RoomHandle).__room.status().clientId);
    await b.waitForFunction(
      (name) => (window as never as RoomHandle).__room.nameTags().some((t) => t.name === name),
      NAME,
      { timeout: 15_000, polling: 20 },
    );
    await a.waitForFunction(
      (name) => (window as never as RoomHandle).__room.nameTags().some((t) => t.name === name),
      `User ${bId}`,
      { timeout: 15_000, polling: 20 },
    );
    const seenByB = await tagsOf(b);
    expect(seenByB.map((t) => t.name)).toEqual([NAME]);
    // Above a head: heads start at 1.6 m, the tag floats a little higher.
    expect(seenByB[0].position[1]).toBeGreaterThan(1.7);
    expect((await tagsOf(a)).map((t) => t.name)).toEqual([`User ${bId}`]);
    await b.waitForTimeout(300);
    await b.screenshot({ path: join(ARTIFACTS, 'room-names.png') });
    expect(errors).toEqual([]);
  }, 90_000);
});
