/**
 * `npm start` as a newcomer runs it on a fresh clone: no certificate yet, no Vite cache, the default host (0.0.0.0,
 * every interface). Safe because the test runs inside the loopback-only network namespace, where every interface is
 * loopback. It fetches the page over HTTPS trusting exactly the certificate it generated, joins the room with Node
 * clients over WebRTC (geckos.io, on node-datachannel's polyfill) and over the WebSocket fallback, and stops the
 * process group it started.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorld, query } from 'bitecs';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectionStateOf,
  createNetworkPlugin,
  createWebSocketClientTransport,
  isOwnedLocally,
  Networked,
} from '../../src/index.ts';
import type { ClientTransport } from '../../src/index.ts';
import { createGeckosClientTransport } from '../../src/geckos.ts';
import { defineRoomProtocol, OBJECTS } from '../../examples/webxr-room/protocol.ts';
import { requireLoopbackOnlyNetwork } from '../../harness/netns.ts';

const root = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'ecsync-start-'));
/** Starting takes ~2 s here (tsx, Vite, the certificate); a cold CI machine gets 30. */
const START_TIMEOUT_MS = 30_000;
/** The server closes its room, transports and Vite in well under a second; 10 s before giving up. */
const STOP_TIMEOUT_MS = 10_000;

let child: ChildProcess | null = null;
let output = '';

/** Ends the process group this test started (npm, its shell, the server), by its id. */
function stopGroup(signal: NodeJS.Signals): void {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** True while any process of the group this test started is alive (signal 0 only checks). */
function groupAlive(started: ChildProcess): boolean {
  try {
    process.kill(-(started.pid as number), 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(() => {
  stopGroup('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/**
 * A `fetch` for geckos.io's signalling that trusts exactly `ca` (Node's own fetch takes no CA); answers with a
 * standard Response, the only part of fetch the geckos.io client reads.
 */
function trustingFetch(ca: string): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const body = typeof init?.body === 'string' ? init.body : undefined;
    return new Promise<Response>((resolve, reject) => {
      const request = https.request(
        url,
        { method: init?.method ?? 'GET', headers: init?.headers as Record<string, string> | undefined, ca },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 500;
            const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
            resolve(new Response(payload, { status, headers: res.headers as Record<string, string> }));
          });
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }) as typeof fetch;
}

/** A Node client joins the room over `transport`: Welcome, the objects, and an avatar of its own. */
async function joinRoom(transport: ClientTransport): Promise<void> {
  const world = createWorld();
  const room = defineRoomProtocol();
  const net = createNetworkPlugin(world, { role: 'client', protocol: room.protocol, transport });
  const tick = setInterval(() => net.send(net.receive(world)), 1000 / 60);
  try {
    const entities = () => query(world, [Networked]);
    await waitFor(
      () => connectionStateOf(world) === 'connected' && entities().length >= OBJECTS.length + 3,
      10_000,
      () => `Welcome and the room's state (state ${connectionStateOf(world)}, ${entities().length} entities)`,
    );
    expect(query(world, [Networked, room.Grabbable])).toHaveLength(OBJECTS.length);
    expect(entities().filter((eid) => isOwnedLocally(world, eid))).toHaveLength(3); // head and two hands
  } finally {
    clearInterval(tick);
    await net.dispose();
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('npm start (the README main command)', () => {
  it('serves the page and the room on a fresh clone with the defaults, over WebRTC and WebSocket, and stops', async () => {
    requireLoopbackOnlyNetwork(); // the default host is every interface: only loopback here
    child = spawn('npm', ['start'], {
      cwd: root,
      detached: true, // its own process group, so the test can stop npm and everything under it
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ECSYNC_HOST: '', // the default: 0.0.0.0
        ECSYNC_PORT: '0',
        ECSYNC_UDP_PORTS: 'any',
        ECSYNC_CERT_DIR: join(scratch, 'cert'),
        ECSYNC_VITE_CACHE_DIR: join(scratch, 'vite'),
      },
    });
    child.stdout?.on('data', (d: Buffer) => (output += d));
    child.stderr?.on('data', (d: Buffer) => (output += d));
    const started = child;
    await waitFor(
      () => /https:\/\/localhost:\d+\//.test(output) || started.exitCode !== null,
      START_TIMEOUT_MS,
      () => `the printed address; output so far:\n${output}`,
    );
    expect(started.exitCode, `npm start exited early:\n${output}`).toBeNull();
    const port = Number((/https:\/\/localhost:(\d+)\//.exec(output) as RegExpExecArray)[1]);
    expect(output).toContain('(no LAN address: a headset cannot reach this machine)');
    const url = `https://127.0.0.1:${port}/`;

    // 1. The page, over HTTPS, with the certificate npm start generated (so it must name 127.0.0.1).
    const ca = readFileSync(join(scratch, 'cert', 'cert.pem'), 'utf8');
    const page = await get(url, ca);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<script type="module" src="\.?\/client\.ts"><\/script>/);
    const entry = await get(`${url}client.ts`, ca);
    expect(entry.status).toBe(200);
    expect(entry.body).toContain('createRoomClient');

    // 2. Node clients join over WebRTC (geckos.io on the default 0.0.0.0) and over the WebSocket fallback.
    const realFetch = globalThis.fetch;
    globalThis.fetch = trustingFetch(ca);
    try {
      await joinRoom(
        createGeckosClientTransport({
          url: 'https://127.0.0.1',
          port,
          // Not bound to loopback, this client gathers no candidate of its own here (as a browser that hides
          // loopback): only the server's default can make the pair.
          RTCPeerConnection,
        }),
      );
    } finally {
      globalThis.fetch = realFetch;
    }
    class TrustingWebSocket extends WebSocket {
      constructor(address: string) {
        super(address, { ca });
      }
    }
    await joinRoom(
      createWebSocketClientTransport({ url: `${url.replace('https:', 'wss:')}ecsync`, WebSocket: TrustingWebSocket }),
    );
    expect(output, 'no failed WebRTC attempt logged').not.toContain('WebRTC attempt');

    // 3. Stop it by its process group id; every process of the group must exit, and the port be free.
    stopGroup('SIGTERM');
    await waitFor(
      () => !groupAlive(started),
      STOP_TIMEOUT_MS,
      () => `npm start to stop; output:\n${output}`,
    );
    await expect(get(url, ca)).rejects.toThrow(/ECONNREFUSED/);
  }, 60_000);
});
