/**
 * LAN discovery over real mDNS, inside the loopback-only network namespace only (multicast on `lo`, never another
 * interface): a room advertised by another process is found by `npm run discover` with its name, port and protocol
 * version, and disappears at once when that process stops (goodbye); garbage datagrams and hostile records are
 * counted and refused, never crash; a query flood costs a bounded number of answers; the services kept are bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/protocol/handshake.ts';
import {
  advertise,
  createServiceBrowser,
  ECSYNC_SERVICE_TYPE,
  MAX_RECORDS_PER_PACKET,
  type DiscoveredServer,
} from '../../src/discovery.ts';
import type { NetError } from '../../src/errors.ts';
import { requireLoopbackOnlyNetwork } from '../../harness/netns.ts';
import { waitFor } from '../transport/real-link-kit.ts';

const root = join(import.meta.dirname, '..', '..');
const IFACE = '127.0.0.1';
const GROUP = '224.0.0.251';
/** Starting a tsx child takes ~1 s here; a cold CI machine gets more. */
const CHILD_START_MS = 20_000;

const children: ChildProcess[] = [];
const cleanups: Array<() => unknown> = [];

beforeAll(() => {
  requireLoopbackOnlyNetwork(); // FAILS (never skips) outside the namespace: multicast must stay on lo
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Runs `cmd` to its end; resolves with its exit code and stdout. */
function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, NODE_OPTIONS: '' } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Starts an advertiser in a child process; resolves once it printed `ready`. */
async function advertiseInChild(options: object): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'harness/advertise-child.ts', JSON.stringify(options)], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  children.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`advertiser did not start: ${out}`)), CHILD_START_MS);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.on('close', (code) => reject(new Error(`advertiser exited with ${code}: ${out}`)));
  });
  return child;
}

/** Multicasts raw bytes to the mDNS group on loopback. */
async function multicast(datagrams: Uint8Array[]): Promise<void> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(0, IFACE, () => resolve()));
  socket.setMulticastInterface(IFACE);
  for (const d of datagrams) await new Promise<void>((resolve) => socket.send(d, 5353, GROUP, () => resolve()));
  await new Promise<void>((resolve) => socket.close(() => resolve()));
}

/** A response packet advertising `instance` with the given SRV port and TXT entries. */
function hostileResponse(instance: string, port: number, txt: Array<string | Buffer>, extra = 0): Buffer {
  return dnsPacket.encode({
    type: 'response',
    answers: [
      { name: ECSYNC_SERVICE_TYPE, type: 'PTR', ttl: 120, data: instance },
      { name: instance, type: 'SRV', ttl: 120, data: { port, target: 'evil.local' } },
      { name: instance, type: 'TXT', ttl: 120, data: txt },
      ...Array.from({ length: extra }, (_, i) => ({
        name: 'evil.local',
        type: 'A' as const,
        ttl: 120,
        data: `10.0.${i >> 8}.${i & 255}`,
      })),
    ],
  });
}

describe('LAN discovery (mDNS on loopback, in the namespace)', () => {
  it('finds a room advertised by another process with `npm run discover`, and loses it on goodbye', async () => {
    const advertiser = await advertiseInChild({
      name: 'Test room. One',
      port: 18443,
      interface: IFACE,
      transports: ['webrtc', 'ws'],
      path: '/ecsync',
      tls: true,
      schemaHash: 'abc123',
    });
    const found = await run('npm', ['run', '--silent', 'discover', '--', '--json', '--interface', IFACE]);
    expect(found.stderr).toBe('');
    expect(found.code).toBe(0);
    // Other tests in this namespace may run a room too (`npm start` advertises): look for ours by name.
    const servers = (JSON.parse(found.stdout) as DiscoveredServer[]).filter((s) => s.name === 'Test room. One');
    expect(servers).toHaveLength(1);
    expect(servers[0]).toMatchObject({
      name: 'Test room. One',
      instance: 'Test room\\. One._ecsync._udp.local',
      host: IFACE,
      port: 18443,
      protocolVersion: PROTOCOL_VERSION,
      transports: ['webrtc', 'ws'],
      path: '/ecsync',
      tls: true,
      schemaHash: 'abc123',
    });
    // The human-readable listing names it too.
    const text = await run('npm', ['run', '--silent', 'discover', '--', '--interface', IFACE, '--timeout', '1500']);
    expect(text.stdout).toMatch(
      /Test room\. One\n\s+https:\/\/127\.0\.0\.1:18443\/[^\n]*\n\s+protocol \d+, transports webrtc, ws/,
    );

    // A browser that knows the room sees it go as soon as the advertiser stops (records would live 120 s).
    const browser = await createServiceBrowser({ interface: IFACE });
    cleanups.push(() => browser.stop());
    const ours = () => browser.servers().filter((s) => s.name === 'Test room. One');
    await waitFor(() => ours().length === 1, 5000, 'the browser to see the room');
    const gone: string[] = [];
    browser.events.on('down', (s) => s.name === 'Test room. One' && gone.push(s.name));
    const exited = new Promise((resolve) => advertiser.on('close', resolve));
    advertiser.kill('SIGTERM');
    expect(await exited).toBe(0);
    await waitFor(() => gone.includes('Test room. One'), 3000, 'the goodbye');
    expect(gone).toEqual(['Test room. One']);
    expect(ours()).toEqual([]);
    expect(browser.stats().goodbyes).toBe(1);
    const after = await run('npm', ['run', '--silent', 'discover', '--', '--json', '--interface', IFACE]);
    expect((JSON.parse(after.stdout) as DiscoveredServer[]).filter((s) => s.name === 'Test room. One')).toEqual([]);
  });

  it('counts garbage and hostile records, refuses them, and still finds the honest room', async () => {
    const errors: NetError[] = [];
    const browser = await createServiceBrowser({ interface: IFACE, onError: (e) => errors.push(e) });
    cleanups.push(() => browser.stop());
    const honest = await advertise({ name: 'Honest', port: 9000, interface: IFACE });
    cleanups.push(() => honest.stop());
    const instance = (label: string) => `${label}.${ECSYNC_SERVICE_TYPE}`;
    const garbage = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(1400).fill(0xc0)];
    const hostile = [
      hostileResponse(instance('x'.repeat(64)), 1000, ['pv=2']), // a 64-byte label: not even DNS (malformed)
      hostileResponse(instance('bell\u0007'), 1000, ['pv=2']), // a control character in the name
      hostileResponse(instance('port'), 0, ['pv=2']), // port 0
      hostileResponse(instance('nover'), 1000, ['tr=ws']), // no protocol version
      hostileResponse(instance('badver'), 1000, ['pv=99999999']),
      hostileResponse(
        instance('txt'),
        1000,
        Array.from({ length: 40 }, (_, i) => `k${i}=v`),
      ), // too many entries
      hostileResponse(instance('utf8'), 1000, [Buffer.from([0x70, 0x76, 0x3d, 0xff, 0xfe])]), // not UTF-8
      hostileResponse(instance('many'), 1000, ['pv=2'], MAX_RECORDS_PER_PACKET), // too many records
      hostileResponse(instance('tr'), 1000, ['pv=2', 'tr=WS;rm -rf']), // transport not a token
    ];
    await multicast([...garbage, ...hostile]);
    await waitFor(() => browser.servers().some((s) => s.name === 'Honest'), 5000, 'the honest room');
    await waitFor(() => browser.stats().malformed >= garbage.length, 3000, 'garbage to be counted');
    const st = browser.stats();
    // Each garbage datagram and the 64-byte label fail to decode; the rest decode and are refused by a check.
    expect(st.malformed).toBe(garbage.length + 1);
    expect(st.refused).toMatchObject({ name: 1, port: 1, version: 2, txt: 3, oversize: 1 });
    expect(st.handlerErrors).toBe(0);
    const names = browser.servers().map((s) => s.name);
    expect(names).toContain('Honest');
    expect(names.filter((n) => ['port', 'nover', 'badver', 'txt', 'utf8', 'many', 'tr'].includes(n))).toEqual([]);
    // onError hears of refusals at most once a second; every one is counted.
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeLessThanOrEqual(3);
    expect(errors[0].code).toBe('DiscoveryInvalid');
  });

  it('answers a query flood a bounded number of times, and keeps at most maxServices', async () => {
    const ads = await Promise.all(
      ['A', 'B', 'C'].map((name, i) => advertise({ name: `Room ${name}`, port: 9100 + i, interface: IFACE })),
    );
    cleanups.push(() => Promise.all(ads.map((a) => a.stop())));
    const browser = await createServiceBrowser({ interface: IFACE, maxServices: 2 });
    cleanups.push(() => browser.stop());
    await waitFor(() => browser.stats().servicesRefused >= 1, 5000, 'a service refused at the bound');
    expect(browser.servers()).toHaveLength(2);
    expect(browser.stats().services).toBe(2);

    const before = ads[0].stats();
    const query = dnsPacket.encode({ type: 'query', questions: [{ name: ECSYNC_SERVICE_TYPE, type: 'PTR' }] });
    const FLOOD = 200;
    const start = Date.now();
    await multicast(Array.from({ length: FLOOD }, () => query));
    await waitFor(() => ads[0].stats().queries - before.queries >= FLOOD, 5000, 'the flood to arrive');
    await new Promise((r) => setTimeout(r, 400)); // a deferred answer may still go out
    const seconds = (Date.now() - start) / 1000;
    const after = ads[0].stats();
    const answers = after.answered - before.answered;
    expect(answers).toBeGreaterThanOrEqual(1);
    expect(answers).toBeLessThanOrEqual(2 + 4 * seconds);
    expect(after.suppressed - before.suppressed).toBeGreaterThan(FLOOD - 2 - 4 * seconds - 1);
  });
});
