/**
 * `npm start` as a newcomer runs it on a fresh clone: no certificate yet, no Vite cache. The test starts it on
 * 127.0.0.1 (the environment variables of examples/webxr-room/server.ts), fetches the page over HTTPS trusting
 * exactly the certificate it generated, joins the room with a Node client over the WebSocket fallback, and stops
 * the process group it started.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorld, query } from 'bitecs';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectionStateOf,
  createNetworkPlugin,
  createWebSocketClientTransport,
  isOwnedLocally,
  Networked,
} from '../../src/index.ts';
import { defineRoomProtocol, OBJECTS } from '../../examples/webxr-room/protocol.ts';

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

async function waitFor(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('npm start (the README main command)', () => {
  it('serves the page and the room on a fresh clone, and stops cleanly', async () => {
    child = spawn('npm', ['start'], {
      cwd: root,
      detached: true, // its own process group, so the test can stop npm and everything under it
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ECSYNC_HOST: '127.0.0.1',
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
      () => /https:\/\/127\.0\.0\.1:\d+\//.test(output) || started.exitCode !== null,
      START_TIMEOUT_MS,
      () => `the printed address; output so far:\n${output}`,
    );
    expect(started.exitCode, `npm start exited early:\n${output}`).toBeNull();
    const url = (/https:\/\/127\.0\.0\.1:\d+\//.exec(output) as RegExpExecArray)[0];
    expect(output).toContain('https://localhost:');

    // 1. The page, over HTTPS, with the certificate npm start generated (so it must name 127.0.0.1).
    const ca = readFileSync(join(scratch, 'cert', 'cert.pem'), 'utf8');
    const page = await get(url, ca);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<script type="module" src="\.?\/client\.ts"><\/script>/);
    const entry = await get(`${url}client.ts`, ca);
    expect(entry.status).toBe(200);
    expect(entry.body).toContain('createRoomClient');

    // 2. A Node client joins over the WebSocket fallback: Welcome, the objects, and an avatar of its own.
    class TrustingWebSocket extends WebSocket {
      constructor(address: string) {
        super(address, { ca });
      }
    }
    const world = createWorld();
    const room = defineRoomProtocol();
    const net = createNetworkPlugin(world, {
      role: 'client',
      protocol: room.protocol,
      transport: createWebSocketClientTransport({
        url: `${url.replace('https:', 'wss:')}ecsync`,
        WebSocket: TrustingWebSocket,
      }),
    });
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
