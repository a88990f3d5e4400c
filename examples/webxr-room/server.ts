/**
 * `npm start`: one HTTPS server on one port serving the room's page (Vite, in middleware mode), the geckos.io
 * signalling (WebRTC data channels over UDP) and the WebSocket fallback, with the room's world behind them. The
 * self-signed certificate is made on first start (into .cert/, git-ignored) and reused; it lists this machine's
 * LAN addresses so a headset on the same network can open the printed https://<lan-ip>:PORT address.
 *
 * The same server serves the live telemetry dashboard at /dashboard, and `npm start` advertises the room on the
 * local network (mDNS, `_ecsync._udp`: `npm run discover` lists it).
 *
 * Environment (all optional): ECSYNC_HOST (default 0.0.0.0, every interface), ECSYNC_PORT (default 8443, 0 picks
 * a free one), ECSYNC_UDP_PORTS (WebRTC's UDP range, default 50000-50199, 'any' for any), ECSYNC_CERT_DIR,
 * ECSYNC_ADVERTISE (default 1; 0 turns the LAN advertisement off), ECSYNC_ROOM_NAME (the advertised name).
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createServer as createViteServer } from 'vite';
import { createGeckosServerTransport, createWebSocketServerTransport } from '../../src/server.ts';
import type { GeckosConnectFailure } from '../../src/server.ts';
import type { Link, ServerTransport } from '../../src/index.ts';
import { advertise } from '../../src/discovery.ts';
import type { Advertisement } from '../../src/discovery.ts';
import { createDashboard, DASHBOARD_PATH } from './dashboard.ts';
import type { Dashboard } from './dashboard.ts';
import { createInputProfilesRoute } from './input-profiles-route.ts';
import { WEBSOCKET_PATH } from './page-transport.ts';
import { startRoomServer } from './room-server.ts';
import type { RoomServer } from './room-server.ts';
import { loadOrCreateCertificate } from './self-signed-cert.ts';

/** Default HTTPS port: the usual alternative HTTPS port, free on most machines, no root needed. */
export const DEFAULT_PORT = 8443;

/** Default UDP ports of the WebRTC data channels: one per connected user and interface; open these in a firewall. */
export const DEFAULT_UDP_PORTS = { min: 50000, max: 50199 };

const here = fileURLToPath(new URL('.', import.meta.url));

/** Options of `startRoom` (the environment variables above, for code). */
export interface StartRoomOptions {
  host?: string;
  port?: number;
  /** UDP port range of WebRTC, or null for any port. */
  udpPorts?: { min: number; max: number } | null;
  /** Where the certificate is kept (default examples/webxr-room/.cert). */
  certDir?: string;
  /** Vite's dependency cache (default node_modules/.vite); tests give each server its own. */
  viteCacheDir?: string;
  /** Reload pages when a source file changes (default true); tests turn it off, others edit files meanwhile. */
  liveReload?: boolean;
  /** The room's log: one line per event worth a look, e.g. why a WebRTC attempt failed (default: stdout). */
  log?: (line: string) => void;
  /**
   * Advertise the room on the local network over mDNS (default false here; `npm start` turns it on): on every
   * interface when `host` is 0.0.0.0, else on `host`'s. `name` defaults to "ecsync room on <hostname>".
   */
  advertise?: boolean | { name?: string; interface?: string };
}

/** The log line of a failed WebRTC attempt: who, why, and where it stood. */
export function describeWebRtcFailure(failure: GeckosConnectFailure): string {
  return (
    `[room] WebRTC attempt from ${failure.remoteAddress || '?'} failed after ${failure.elapsedMs} ms: ` +
    `${failure.reason} [ICE bound to ${failure.boundTo}, ${failure.localCandidates} local candidate(s), ` +
    `ICE ${failure.iceState}, connection ${failure.state}]`
  );
}

/** A running room process. */
export interface RunningRoom {
  readonly port: number;
  /** The addresses to open: https://localhost:PORT first, then one per LAN address. */
  readonly urls: string[];
  /** The certificate file (PEM), for clients that want to trust exactly it. */
  readonly certPath: string;
  readonly room: RoomServer;
  /** The live telemetry dashboard (https://localhost:PORT/dashboard). */
  readonly dashboard: Dashboard;
  /** The LAN advertisement, when on. */
  readonly advertisement: Advertisement | null;
  close(): Promise<void>;
}

/** IPv4 addresses of this machine other than loopback: where a headset on the same network can reach it. */
function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => (a as { address: string }).address);
}

/** One server transport that accepts the links of several (geckos.io and WebSocket). */
function mergeServerTransports(transports: ServerTransport[]): ServerTransport {
  const merged: ServerTransport = {
    onconnection: null,
    async close() {
      await Promise.all(transports.map((t) => t.close()));
    },
  };
  for (const t of transports) t.onconnection = (link: Link) => merged.onconnection?.(link);
  return merged;
}

/** Starts the HTTPS server, the page, both transports and the room. */
export async function startRoom(options: StartRoomOptions = {}): Promise<RunningRoom> {
  const host = options.host ?? '0.0.0.0';
  const everywhere = host === '0.0.0.0';
  const lan = everywhere ? lanAddresses() : [];
  const certificate = await loadOrCreateCertificate(options.certDir ?? `${here}.cert`, [
    'localhost',
    '127.0.0.1',
    ...(everywhere || host === 'localhost' ? [] : [host]),
    ...lan,
  ]);
  const server = https.createServer({ key: certificate.key, cert: certificate.cert });

  // 1. The page: Vite serves and transforms it on this server; its HMR socket shares the port.
  const vite = await createViteServer({
    configFile: `${here}vite.config.ts`,
    cacheDir: options.viteCacheDir,
    server: { middlewareMode: true, ws: { server }, ...(options.liveReload === false ? { watch: null } : {}) },
    appType: 'spa',
  });
  // The dashboard's and the controller profiles' routes come first; everything else is the page's.
  let dashboard: Dashboard | null = null;
  const inputProfiles = createInputProfilesRoute();
  server.on('request', (req, res) => {
    if (inputProfiles(req, res)) return;
    if (!dashboard?.handle(req, res)) vite.middlewares(req, res);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? DEFAULT_PORT, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await vite.close(); // e.g. the port is taken: leave nothing running
    throw error;
  }
  const port = (server.address() as AddressInfo).port;

  // 2. The transports, on the same origin: geckos.io's signalling routes and the WebSocket endpoint.
  const udpPorts = options.udpPorts === undefined ? DEFAULT_UDP_PORTS : options.udpPorts;
  // On 0.0.0.0 ICE binds per attempt: loopback for a browser on this machine, every interface for a headset.
  const log = options.log ?? ((line: string) => console.log(line));
  const geckos = await createGeckosServerTransport({
    httpServer: server,
    portRange: udpPorts ?? undefined,
    onConnectFailed: (failure) => log(describeWebRtcFailure(failure)),
  });
  const ws = await createWebSocketServerTransport({ server, path: WEBSOCKET_PATH });

  // 3. The room.
  const room = startRoomServer(mergeServerTransports([geckos, ws]));
  dashboard = createDashboard(room);
  const openDashboard = dashboard;

  // 4. The LAN advertisement: name, port, protocol version and transports (`npm run discover` lists it).
  let advertisement: Advertisement | null = null;
  if (options.advertise) {
    const ad = typeof options.advertise === 'object' ? options.advertise : {};
    try {
      advertisement = await advertise({
        name: ad.name ?? `ecsync room on ${hostname().split('.')[0]}`.slice(0, 63),
        port,
        transports: ['webrtc', 'ws'],
        path: WEBSOCKET_PATH,
        tls: true,
        interface: ad.interface ?? (everywhere ? undefined : host === 'localhost' ? '127.0.0.1' : host),
      });
    } catch (error) {
      log(`[room] LAN advertisement failed, the room runs without it: ${String(error)}`); // e.g. no UDP 5353
    }
  }
  const urls = [`https://localhost:${port}/`, ...(everywhere ? lan : host === 'localhost' ? [] : [host])]
    .map((h) => (h.startsWith('https://') ? h : `https://${h}:${port}/`))
    .filter((u, i, all) => all.indexOf(u) === i);

  return {
    port,
    urls,
    certPath: certificate.certPath,
    room,
    dashboard: openDashboard,
    advertisement,
    async close() {
      await advertisement?.stop(); // the goodbye: browsers drop the room at once
      openDashboard.close();
      await room.close(); // closes both transports through the merged one
      await vite.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The banner's lines about the LAN advertisement: what goes out in its records. */
function advertised(running: RunningRoom): string[] {
  const ad = running.advertisement;
  if (!ad) return ['  LAN discovery: off (ECSYNC_ADVERTISE=0)'];
  const i = ad.info;
  return [
    `  Advertised on the LAN:    "${i.name}" (_ecsync._udp) at ${ad.hostName}:${i.port} [${ad.addresses.join(', ')}],`,
    `                            protocol ${i.protocolVersion}, transports ${i.transports.join(', ')}, path ${i.path}` +
      ' (npm run discover)',
  ];
}

/** The banner `npm start` prints. */
function banner(running: RunningRoom, host: string, udpPorts: StartRoomOptions['udpPorts']): string {
  const [local, ...others] = running.urls;
  const udp = udpPorts ? `UDP ${udpPorts.min}-${udpPorts.max}` : 'any UDP port';
  const everywhere = host === '0.0.0.0';
  const reach = everywhere
    ? others.map((u, i) => `  ${i === 0 ? 'On a headset (same Wi-Fi):' : '                          '} ${u}`)
    : others.map((u) => `  Listening on ECSYNC_HOST:   ${u}`);
  if (everywhere && others.length === 0) reach.push('  (no LAN address: a headset cannot reach this machine)');
  return [
    '',
    '  ecsync WebXR room is running',
    '',
    `  On this machine:          ${local}`,
    ...reach,
    '',
    `  Transport: geckos.io WebRTC (${udp}), WebSocket fallback at ${WEBSOCKET_PATH} (?transport=ws)`,
    `  Dashboard:                ${local.replace(/\/$/, '')}${DASHBOARD_PATH}`,
    ...advertised(running),
    '  No headset? The page emulates a Quest 3 (IWER). First visit: accept the self-signed certificate,',
    '  see examples/webxr-room/README.md ("Run it on a Quest"). Stop with Ctrl+C.',
    '',
  ].join('\n');
}

function parseUdpPorts(text: string | undefined): StartRoomOptions['udpPorts'] {
  if (text === undefined || text === '') return DEFAULT_UDP_PORTS;
  if (text === 'any') return null;
  const match = /^(\d+)-(\d+)$/.exec(text);
  if (!match) throw new Error(`ECSYNC_UDP_PORTS must look like 50000-50199 or be 'any', got '${text}'`);
  return { min: Number(match[1]), max: Number(match[2]) };
}

async function main(): Promise<void> {
  const env = process.env;
  const udpPorts = parseUdpPorts(env.ECSYNC_UDP_PORTS);
  const host = env.ECSYNC_HOST || '0.0.0.0';
  const running = await startRoom({
    host,
    port: env.ECSYNC_PORT ? Number(env.ECSYNC_PORT) : undefined,
    udpPorts,
    certDir: env.ECSYNC_CERT_DIR || undefined,
    viteCacheDir: env.ECSYNC_VITE_CACHE_DIR || undefined,
    advertise: env.ECSYNC_ADVERTISE === '0' ? false : { name: env.ECSYNC_ROOM_NAME || undefined },
  });
  console.log(banner(running, host, udpPorts));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n  ${signal}: closing the room...`);
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') console.error(`Port in use: set ECSYNC_PORT to another port (or 0 for any free one).`);
    console.error(error);
    process.exit(1);
  });
}
