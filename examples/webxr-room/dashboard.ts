/**
 * The room's live dashboard, served by the example server next to the room's page: `/dashboard` is a small page
 * (dashboard.html: plain canvas charts, no CDN) of every user's RTT, loss, kbps and frame time, fed once a second by
 * a server-sent event stream at `/dashboard/events` (at most `maxStreams` at once; more get 503, counted), and
 * `/dashboard/state.json` is the same snapshot once. The figures are the telemetry aggregator's.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { RoomTelemetry, TelemetryAggregatorStats } from '../../src/index.ts';
import type { RoomServer } from './room-server.ts';

/** Where the dashboard lives on the example server. */
export const DASHBOARD_PATH = '/dashboard';
/** Default bound on open event streams: a few people watching; each costs a socket and a write a second. */
export const DEFAULT_MAX_DASHBOARD_STREAMS = 8;
/** A stream whose unsent output passes this is dropped (a client that stopped reading), bytes. */
export const MAX_STREAM_BACKLOG_BYTES = 256 * 1024;

/** One user's row. */
export interface DashboardClient {
  clientId: number;
  name: string;
  rttMs: number;
  jitterMs: number;
  lossRatio: number;
  kbpsIn: number;
  kbpsOut: number;
  frameP50Ms: number;
  frameP95Ms: number;
  frames: number;
  slowFrames: number;
  reports: number;
  missing: number;
  /** Age of the latest report, ms. */
  ageMs: number;
}

/** Counters of the dashboard (its one bound has one). */
export interface DashboardStats {
  streams: number;
  streamsRefused: number;
  /** Streams dropped because they stopped reading. */
  streamsDropped: number;
  snapshotsSent: number;
}

/** What the page receives once a second. */
export interface DashboardSnapshot {
  atMs: number;
  users: number;
  room: RoomTelemetry;
  clients: DashboardClient[];
  telemetry: TelemetryAggregatorStats;
  dashboard: DashboardStats;
}

/** Options of `createDashboard`. */
export interface DashboardOptions {
  maxStreams?: number;
  /** Time between two snapshots on the streams, ms (default 1,000, the pages' report rate). */
  intervalMs?: number;
}

/** The dashboard's request handler. */
export interface Dashboard {
  /** Serves the request when it is the dashboard's; false otherwise (the page's server handles it). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  snapshot(): DashboardSnapshot;
  stats(): DashboardStats;
  /** Ends every stream and the timer. */
  close(): void;
}

const page = readFileSync(fileURLToPath(new URL('./dashboard.html', import.meta.url)), 'utf8');

/** Serves the dashboard of `room`. */
export function createDashboard(room: RoomServer, options: DashboardOptions = {}): Dashboard {
  const maxStreams = options.maxStreams ?? DEFAULT_MAX_DASHBOARD_STREAMS;
  const streams = new Set<ServerResponse>();
  const stats: DashboardStats = { streams: 0, streamsRefused: 0, streamsDropped: 0, snapshotsSent: 0 };

  const snapshot = (): DashboardSnapshot => {
    const now = Date.now();
    const clients = room.telemetry
      .clients()
      .map(({ clientId, report: r, receivedAtMs, reports, missing }): DashboardClient => ({
        clientId,
        name: room.displayNameOf(clientId) ?? `User ${clientId}`,
        rttMs: r.rttMs,
        jitterMs: r.jitterMs,
        lossRatio: r.lossRatio,
        kbpsIn: (r.bytesInPerSec * 8) / 1000,
        kbpsOut: (r.bytesOutPerSec * 8) / 1000,
        frameP50Ms: r.frameP50Ms,
        frameP95Ms: r.frameP95Ms,
        frames: r.frames,
        slowFrames: r.slowFrames,
        reports,
        missing,
        // The aggregator's clock is the plugin's (performance-like); report the age, which needs no common origin.
        ageMs: Math.max(0, performance.now() - receivedAtMs),
      }));
    return {
      atMs: now,
      users: room.userCount(),
      room: room.telemetry.room(),
      clients,
      telemetry: room.telemetry.stats(),
      dashboard: { ...stats },
    };
  };

  const drop = (res: ServerResponse) => {
    if (!streams.delete(res)) return;
    stats.streams = streams.size;
    res.destroy();
  };

  const timer = setInterval(() => {
    if (streams.size === 0) return;
    const data = `data: ${JSON.stringify(snapshot())}\n\n`;
    for (const res of streams) {
      if (res.writableLength > MAX_STREAM_BACKLOG_BYTES) {
        stats.streamsDropped++;
        drop(res);
        continue;
      }
      res.write(data);
      stats.snapshotsSent++;
    }
  }, options.intervalMs ?? 1000);

  const openStream = (req: IncomingMessage, res: ServerResponse) => {
    if (streams.size >= maxStreams) {
      stats.streamsRefused++;
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10' });
      res.end(`at most ${maxStreams} dashboards at once\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(`retry: 2000\ndata: ${JSON.stringify(snapshot())}\n\n`);
    streams.add(res);
    stats.streams = streams.size;
    req.on('close', () => drop(res));
  };

  return {
    handle(req, res) {
      const path = (req.url ?? '').split('?')[0];
      if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET' }).end();
        return true;
      }
      if (path === DASHBOARD_PATH || path === `${DASHBOARD_PATH}/`) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
      } else if (path === `${DASHBOARD_PATH}/events`) {
        openStream(req, res);
      } else if (path === `${DASHBOARD_PATH}/state.json`) {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(snapshot()));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
      return true;
    },
    snapshot,
    stats: () => ({ ...stats }),
    close() {
      clearInterval(timer);
      for (const res of [...streams]) drop(res);
    },
  };
}
