/**
 * Spatial voice in the WebXR room, in real browsers: headless Debian chromium with its fake microphone (a beep)
 * opens the room as users A and B, over geckos.io and over the WebSocket. B must receive A's audio track over the
 * voice mesh (WebRTC through the room's signalling relay) and measure its level above silence with an AnalyserNode;
 * B sees A's speaking flag; A mutes and the level B measures drops to silence; hostile signals from A (garbage SDP,
 * garbage candidates, a flood past the per-peer queue) are refused and counted on B while the call goes on; A
 * leaves and B's peer connection closes. Runs in the loopback-only network namespace; screenshots in test-artifacts/.
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
/** The room test's flags, plus the fake microphone (auto-granted) and audio without a user gesture. */
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
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];
const VIEWPORT = { width: 640, height: 360 };
/** RMS below this is silence: an idle Opus stream decodes to ~0 (comfort noise is far below 1e-3). */
const SILENCE_RMS = 0.003;
/** The fake microphone beeps in bursts: a level window of this length always holds one. */
const LEVEL_WINDOW_MS = 1500;
/** Setting up a pair on loopback takes well under a second (two relayed round trips, host candidates). */
const CONNECT_BOUND_MS = 10_000;
/** A closed page says goodbye; if that is lost, missed heartbeats suspend it within a few seconds. */
const LEAVE_BOUND_MS = 8000;

interface PeerInfo {
  clientId: number;
  offerer: boolean;
  state: string;
  hasAudio: boolean;
}
interface VoiceStats {
  peers: number;
  meshFull: number;
  opened: number;
  closed: number;
  tracks: number;
  signalsApplied: number;
  signalsInvalid: number;
  signalsDropped: number;
  speakingChanges: number;
}
interface VoiceHandle {
  microphone(): string;
  setMuted(muted: boolean): void;
  peers(): PeerInfo[];
  levelOf(clientId: number): number;
  microphoneLevel(): number;
  isSpeaking(clientId: number): boolean;
  stats(): VoiceStats;
  played(): Array<{ clientId: number; attached: boolean; position: [number, number, number]; speaking: boolean }>;
  signal(to: number, payload: unknown): void;
}
interface Handle {
  status(): { state: string; clientId: number; transport: string };
  views(): Array<{ kind: string; owner: number; rendered: [number, number, number] }>;
  voice: VoiceHandle;
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

  clientId = (): Promise<number> =>
    this.page.evaluate(() => (window as never as { __room: Handle }).__room.status().clientId);
  transport = (): Promise<string> =>
    this.page.evaluate(() => (window as never as { __room: Handle }).__room.status().transport);
  microphone = (): Promise<string> =>
    this.page.evaluate(() => (window as never as { __room: Handle }).__room.voice.microphone());
  peers = (): Promise<PeerInfo[]> =>
    this.page.evaluate(() => (window as never as { __room: Handle }).__room.voice.peers());
  stats = (): Promise<VoiceStats> =>
    this.page.evaluate(() => (window as never as { __room: Handle }).__room.voice.stats());
  setMuted = (muted: boolean): Promise<void> =>
    this.page.evaluate((m) => (window as never as { __room: Handle }).__room.voice.setMuted(m), muted);
  isSpeaking = (id: number): Promise<boolean> =>
    this.page.evaluate((i) => (window as never as { __room: Handle }).__room.voice.isSpeaking(i), id);
  signal = (to: number, payload: unknown): Promise<void> =>
    this.page.evaluate(([t, p]) => (window as never as { __room: Handle }).__room.voice.signal(t, p), [
      to,
      payload,
    ] as const);

  /**
   * The loudest level of `clientId`'s stream over successive windows, until one is above `level` or `windows` have
   * passed (a loaded machine can starve one window's audio); returns the loudest seen.
   */
  async loudestLevelOf(clientId: number, level: number, windows = 4): Promise<number> {
    let loudest = 0;
    for (let i = 0; i < windows && loudest <= level; i++) loudest = Math.max(loudest, await this.peakLevelOf(clientId));
    return loudest;
  }

  /** The loudest level of `clientId`'s stream over `windowMs`, sampled in the page every 10 ms. */
  peakLevelOf = (clientId: number, windowMs = LEVEL_WINDOW_MS): Promise<number> =>
    this.page.evaluate(
      ([id, ms]) =>
        new Promise<number>((resolve) => {
          const voice = (window as never as { __room: Handle }).__room.voice;
          let peak = 0;
          const timer = setInterval(() => (peak = Math.max(peak, voice.levelOf(id))), 10);
          setTimeout(() => {
            clearInterval(timer);
            resolve(peak);
          }, ms);
        }),
      [clientId, windowMs] as const,
    );

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
}

let room: RunningRoom;
let browser: Browser;
const scratch = mkdtempSync(join(tmpdir(), 'ecsync-room-voice-'));

beforeAll(async () => {
  requireLoopbackOnlyNetwork();
  mkdirSync(ARTIFACTS, { recursive: true });
  room = await startRoom({
    port: 0,
    log: () => {},
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
  { transport: 'geckos', query: '?emulate&transport=geckos' },
  { transport: 'ws', query: '?emulate&transport=ws' },
])('WebXR room voice over $transport', ({ transport, query }) => {
  it('B hears A (level above silence), sees A speak, hears silence when A mutes; A leaves and the pair closes', async () => {
    const url = `https://127.0.0.1:${room.port}/${query}`;
    const a = await User.open(browser, 'A', url);
    const b = await User.open(browser, 'B', url);
    const users = [a, b];
    try {
      expect(await a.transport()).toBe(transport);
      const idA = await a.clientId();
      const idB = await b.clientId();
      for (const u of users)
        await u.poll(async () => [(await u.microphone()) === 'on', await u.microphone()], 10_000, 'microphone');

      // 1. The pair connects through the relay (A, the lower id, offers) and B gets A's audio track.
      const connectMs = await b.poll(
        async () => {
          const p = await b.peers();
          return [p.length === 1 && p[0].clientId === idA && p[0].state === 'connected' && p[0].hasAudio, p];
        },
        CONNECT_BOUND_MS,
        "a connected pair with A's audio",
      );
      expect((await a.peers()).map((p) => [p.clientId, p.offerer])).toEqual([[idB, idA < idB]]);

      // 2. B measures A's beep above silence, and sees A's speaking flag (and the ring above A's head).
      const heard = await b.loudestLevelOf(idA, SILENCE_RMS * 5);
      console.log(`${transport}: pair connected after ${connectMs} ms; B hears A at RMS ${heard.toFixed(4)}`);
      expect(heard).toBeGreaterThan(SILENCE_RMS * 5);
      await b.poll(async () => [await b.isSpeaking(idA), await b.stats()], 5000, "A's speaking flag");
      // The voice sounds from A's head as B draws it (a PositionalAudio hanging on it).
      const [played, views] = await b.page.evaluate(() => {
        const r = (window as never as { __room: Handle }).__room;
        return [r.voice.played(), r.views()] as const;
      });
      const headOfA = views.find((v) => v.owner === idA && v.kind === 'head')!.rendered;
      expect(played.map((p) => [p.clientId, p.attached])).toEqual([[idA, true]]);
      expect(Math.hypot(...played[0].position.map((x, i) => x - headOfA[i]))).toBeLessThan(1e-3);
      await b.page.screenshot({ path: join(ARTIFACTS, `room-voice-${transport}-b-hears-a.png`) });

      // 3. A mutes: B hears silence, and A's speaking flag goes off.
      await a.setMuted(true);
      await b.page.waitForTimeout(300); // audio in flight (jitter buffer) drains
      const muted = await b.peakLevelOf(idA);
      console.log(`${transport}: A muted, B hears RMS ${muted.toFixed(5)}`);
      expect(muted).toBeLessThan(SILENCE_RMS);
      await b.poll(async () => [!(await b.isSpeaking(idA)), true], 5000, "A's speaking flag off");
      await a.setMuted(false);
      expect(await b.loudestLevelOf(idA, SILENCE_RMS * 5)).toBeGreaterThan(SILENCE_RMS * 5);

      // 4. Hostile signals from A: garbage SDP and candidates are refused and counted, a flood past the per-peer
      //    queue is dropped and counted; nothing throws, and B still hears A.
      const before = await b.stats();
      await a.signal(idB, { type: 'offer', sdp: 'v=0\r\nthis is not a session description\r\n' });
      await a.signal(idB, { type: 'answer', sdp: 'v=0\r\n' });
      await a.page.evaluate(
        ([to]) => {
          const voice = (window as never as { __room: Handle }).__room.voice;
          for (let i = 0; i < 150; i++) voice.signal(to, { type: 'candidate', candidate: `candidate:garbage ${i}` });
        },
        [idB] as const,
      );
      await b.poll(
        async () => {
          const s = await b.stats();
          return [s.signalsInvalid >= before.signalsInvalid + 3 && s.signalsDropped > before.signalsDropped, s];
        },
        5000,
        'hostile signals refused and counted',
      );
      const after = await b.stats();
      console.log(
        `${transport}: hostile signals: invalid ${before.signalsInvalid} -> ${after.signalsInvalid}, ` +
          `dropped ${before.signalsDropped} -> ${after.signalsDropped}`,
      );
      expect((await b.peers())[0].state).toBe('connected');
      expect(await b.loudestLevelOf(idA, SILENCE_RMS * 5)).toBeGreaterThan(SILENCE_RMS * 5);

      // 5. A leaves: B's pair closes and nothing plays A any more.
      await a.context.close();
      users.shift();
      await b.poll(
        async () => [(await b.peers()).length === 0, await b.peers()],
        LEAVE_BOUND_MS,
        "the pair closed after A's leave",
      );
      const end = await b.stats();
      expect(end.closed).toBe(1);
      expect(await b.page.evaluate(() => (window as never as { __room: Handle }).__room.voice.played().length)).toBe(0);
      expect(users.flatMap((u) => u.errors).concat(a.errors)).toEqual([]);
    } finally {
      for (const u of users) await u.context.close();
    }
  }, 90_000);
});

describe('WebXR room voice mesh bound', () => {
  it('with maxPeers 1, the third user is not connected and each full mesh counts the refusal once', async () => {
    const url = `https://127.0.0.1:${room.port}/?emulate&transport=ws&voicePeers=1`;
    const users: User[] = [];
    try {
      for (const name of ['A', 'B', 'C']) users.push(await User.open(browser, name, url));
      const [a, b, c] = users;
      const ids = await Promise.all(users.map((u) => u.clientId()));
      expect([...ids].sort((x, y) => x - y)).toEqual(ids); // opened in order: A < B < C
      await b.poll(
        async () => {
          const p = await b.peers();
          return [p.length === 1 && p[0].clientId === ids[0] && p[0].state === 'connected' && p[0].hasAudio, p];
        },
        CONNECT_BOUND_MS,
        'the A-B pair',
      );
      await b.page.waitForTimeout(1000); // C's presence reached everyone; A and B refused it
      // A offers B and would offer C; B answers A and would offer C: both are full at one peer.
      expect((await a.peers()).map((p) => p.clientId)).toEqual([ids[1]]);
      expect((await a.stats()).meshFull).toBe(1);
      expect((await b.stats()).meshFull).toBe(1);
      expect(await c.peers()).toEqual([]);
      expect((await c.stats()).opened).toBe(0);
      // More presence changes (C leaves) do not count the refusal again, and nothing else opens.
      await c.context.close();
      users.pop();
      await a.page.waitForTimeout(1000);
      expect((await a.stats()).meshFull).toBe(1);
      expect(await b.loudestLevelOf(ids[0], SILENCE_RMS * 5)).toBeGreaterThan(SILENCE_RMS * 5);
      expect(users.flatMap((u) => u.errors)).toEqual([]);
    } finally {
      for (const u of users) await u.context.close();
    }
  }, 90_000);
});
