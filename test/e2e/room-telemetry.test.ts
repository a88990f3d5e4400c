/**
 * Telemetry in the WebXR room, in real browsers: headless Debian chromium opens the room as users A and B (over
 * WebSocket); each page reports its real frame timings and link figures once a second. The server's dashboard page
 * (/dashboard, a third browser page) must list both users with the figures the server aggregated and draw them in
 * its charts, and A's overlay must show the room's aggregate (two users). Screenshots go to test-artifacts/. The
 * dashboard's event streams are bounded: one more than the bound is refused with 503 and counted.
 */
import { readFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_DASHBOARD_STREAMS } from '../../examples/webxr-room/dashboard.ts';
import type { DashboardSnapshot } from '../../examples/webxr-room/dashboard.ts';
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
/** Reports go out once a second and the dashboard refreshes once a second: a few seconds, slack for CI. */
const FIGURES_BOUND_MS = 15_000;

interface RoomHandle {
  status(): { state: string; clientId: number; overlay: string[] };
}
interface DashboardHandle {
  latest(): DashboardSnapshot | null;
  points(clientId: number, key: string): number[];
}

let room: RunningRoom;
let browser: Browser;
const contexts: BrowserContext[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'ecsync-room-telemetry-'));

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
  for (const c of contexts) await c.close();
  await browser?.close();
  await room?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function open(url: string, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT, ignoreHTTPSErrors: true });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text().slice(0, 300)}`));
  await page.goto(url);
  return page;
}

/** Polls `check` until it returns true; fails naming `what` with the last value seen. */
async function poll(check: () => Promise<[boolean, unknown]>, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < timeoutMs) {
    const [ok, seen] = await check();
    if (ok) return;
    last = seen;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${what} within ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
}

/** Opens the dashboard's event stream from Node; resolves with the response (its status) and the request. */
function openStream(ca: string): Promise<{ res: IncomingMessage; req: ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`https://127.0.0.1:${room.port}/dashboard/events`, { ca }, (res) => resolve({ res, req }));
    req.on('error', reject);
  });
}

describe('WebXR room telemetry', () => {
  it('the dashboard shows both users with the aggregated figures, and the overlay shows the room', async () => {
    const errors: string[] = [];
    const url = `https://127.0.0.1:${room.port}/?emulate&transport=ws`;
    const a = await open(`${url}&name=Ada`, errors);
    const b = await open(`${url}&name=Bob`, errors);
    const ids: number[] = [];
    for (const p of [a, b]) {
      await p.waitForFunction(
        () => (window as never as { __room?: RoomHandle }).__room?.status().state === 'connected',
        undefined,
        { timeout: 30_000, polling: 50 },
      );
      ids.push(await p.evaluate(() => (window as never as { __room: RoomHandle }).__room.status().clientId));
    }
    // The server's aggregator hears from both pages, with real frame timings from their render loops.
    await poll(
      async () => {
        const c = room.room.telemetry.clients();
        return [c.length === 2 && c.every((x) => x.reports >= 2 && x.report.frames > 0), c];
      },
      FIGURES_BOUND_MS,
      'reports of both pages at the server',
    );
    for (const c of room.room.telemetry.clients()) {
      expect(c.report.frameP50Ms).toBeGreaterThan(1);
      expect(c.report.frameP50Ms).toBeLessThan(500);
      expect(c.report.bytesInPerSec).toBeGreaterThan(0);
    }

    // The dashboard page: both users in the table, figures as the server's snapshot has them, charts drawn.
    const dash = await open(`https://127.0.0.1:${room.port}/dashboard`, errors);
    await poll(
      async () => {
        const seen = await dash.evaluate(() => {
          const d = (window as never as { __dashboard?: DashboardHandle }).__dashboard;
          const latest = d?.latest();
          return {
            clients: latest?.clients.map((c) => c.clientId) ?? [],
            points: latest ? latest.clients.map((c) => d!.points(c.clientId, 'rtt').length) : [],
          };
        });
        return [seen.clients.length === 2 && seen.points.every((n) => n >= 3), seen];
      },
      FIGURES_BOUND_MS,
      'both users on the dashboard with three points each',
    );
    const shown = await dash.evaluate(() => {
      const latest = (window as never as { __dashboard: DashboardHandle }).__dashboard.latest()!;
      const rows = [...document.querySelectorAll('#rows tr')].map((tr) => ({
        id: Number((tr as HTMLElement).dataset.clientId),
        cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
      }));
      return { latest, rows, summary: document.getElementById('summary')!.textContent };
    });
    expect(shown.rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    for (const row of shown.rows) {
      const c = shown.latest.clients.find((x) => x.clientId === row.id)!;
      expect(row.cells[0]).toBe(row.id === ids[0] ? 'Ada' : 'Bob');
      expect(row.cells[1]).toBe(c.rttMs.toFixed(1));
      expect(row.cells[3]).toBe((c.lossRatio * 100).toFixed(1));
      expect(row.cells[4]).toBe(c.kbpsIn.toFixed(1));
      expect(row.cells[7]).toBe(c.frameP95Ms.toFixed(1));
      expect(c.frameP50Ms).toBeGreaterThan(1);
      expect(c.kbpsIn).toBeGreaterThan(0);
      // The snapshot is the server aggregator's view of that user.
      const server = room.room.telemetry.client(row.id)!;
      expect(server.reports).toBeGreaterThanOrEqual(c.reports);
    }
    expect(shown.summary).toMatch(/^2 users, 2 reporting/);
    // Each chart has drawn lines in the users' colours (not only the grid). How many pixels follows how many
    // samples arrived so far (fewer on a loaded machine): poll until the lines are drawn. The loss line is a flat 0
    // along the bottom, so its pixel count is the line's length alone.
    const chartPixels = () =>
      dash.evaluate(() =>
        ['rtt', 'loss', 'kbps', 'frame'].map((key) => {
          const canvas = document.getElementById(`chart-${key}`) as HTMLCanvasElement;
          const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          // The first two series colours, #4fc3f7 and #ffb74d.
          for (let i = 0; i < px.length; i += 4) {
            const [r, g, b] = [px[i], px[i + 1], px[i + 2]];
            if ((r < 100 && g > 170 && b > 220) || (r > 230 && g > 160 && g < 200 && b < 110)) n++;
          }
          return n;
        }),
      );
    let inked: number[] = [];
    await poll(
      async () => {
        inked = await chartPixels();
        return [inked.every((n, i) => n > (i === 1 ? 8 : 100)), inked];
      },
      FIGURES_BOUND_MS,
      "the four charts drawn in the users' colours",
    );
    console.log(`dashboard chart pixels in the users' colours (rtt, loss, kbps, frame): ${inked.join(', ')}`);
    await dash.setViewportSize({ width: 1200, height: 760 });
    await dash.waitForTimeout(1200); // one more snapshot drawn at this size
    await dash.screenshot({ path: join(ARTIFACTS, 'room-dashboard.png') });

    // A's overlay: the room's aggregate, replicated as the RoomStats entity.
    await poll(
      async () => {
        const lines = await a.evaluate(() => (window as never as { __room: RoomHandle }).__room.status().overlay);
        return [lines.some((l) => /^room 2 users RTT \d+\/\d+ ms$/.test(l)), lines];
      },
      FIGURES_BOUND_MS,
      'the room aggregate in the overlay',
    );
    const lines = await a.evaluate(() => (window as never as { __room: RoomHandle }).__room.status().overlay);
    const frame = lines.find((l) => l.startsWith('room frame p95'));
    expect(frame).toMatch(/^room frame p95 \d+\.\d ms \d+ kbps$/);
    expect(Number(/p95 (\d+\.\d)/.exec(frame!)![1])).toBeGreaterThan(1);
    const text = await a.evaluate(() => document.getElementById('stats')!.textContent);
    expect(text).toContain(lines.find((l) => l.startsWith('room 2 users')));
    await a.screenshot({ path: join(ARTIFACTS, 'room-overlay.png') });
    expect(errors).toEqual([]);
  }, 120_000);

  it('refuses event streams beyond the bound with 503 and counts them', async () => {
    const ca = readFileSync(room.certPath, 'utf8');
    const before = room.dashboard.stats();
    const free = DEFAULT_MAX_DASHBOARD_STREAMS - before.streams;
    const open: Array<{ res: IncomingMessage; req: ClientRequest }> = [];
    try {
      for (let i = 0; i < free; i++) open.push(await openStream(ca));
      expect(open.map((s) => s.res.statusCode)).toEqual(Array(free).fill(200));
      expect(room.dashboard.stats().streams).toBe(DEFAULT_MAX_DASHBOARD_STREAMS);
      const refused = await openStream(ca);
      open.push(refused);
      expect(refused.res.statusCode).toBe(503);
      expect(room.dashboard.stats().streamsRefused).toBe(before.streamsRefused + 1);
    } finally {
      for (const s of open) s.req.destroy();
    }
    await poll(
      async () => [room.dashboard.stats().streams === before.streams, room.dashboard.stats()],
      5000,
      'the closed streams to be released',
    );
  });
});
