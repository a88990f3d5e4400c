/**
 * Server side of telemetry: validates each client's TelemetryReport, rate-limits it per client (token bucket),
 * keeps the latest one per client (cleared when the client leaves) and aggregates the room.
 */
import { getNetContext } from '../context.ts';
import { NetError, usageError } from '../errors.ts';
import { Emitter } from '../events.ts';
import { messageBody } from '../codec/message-frame.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerPeer } from '../session/server-peer.ts';
import { aggregateRoom, type RoomTelemetry } from './telemetry-aggregate.ts';
import { decodeTelemetry, type TelemetryReport } from './telemetry-codec.ts';
import { TokenBucket } from '../session/rate-limiter.ts';

/** Default accepted report rate per client: twice the default 1 Hz, so jitter in the client's timing never drops one. */
export const DEFAULT_TELEMETRY_MAX_RATE_HZ = 2;
/** Default bucket size: a client that reconnects or was stalled may send a few reports at once. */
export const DEFAULT_TELEMETRY_BURST = 4;
/** Default drops within one second that make a client a repeat offender (reported through onError). */
export const DEFAULT_TELEMETRY_OFFENDER_DROPS = 10;
/** Default bound on clients tracked at once; a room server caps its sessions well below this. */
export const DEFAULT_TELEMETRY_MAX_CLIENTS = 4096;

/** Options of `createTelemetryAggregator`. */
export interface TelemetryAggregatorOptions {
  /** Reports per second accepted from one client (default 2). */
  maxRateHz?: number;
  /** Token bucket size (default 4). */
  burst?: number;
  /** Drops within a second after which the client is reported with `RateLimited` (default 10). */
  offenderDrops?: number;
  /** Clients tracked at once (default 4,096); more are refused and counted. */
  maxClients?: number;
  /** How often the `room` event fires, ms (default 1,000). */
  roomIntervalMs?: number;
}

/** The latest telemetry of one client. */
export interface ClientTelemetry {
  /** The reporting client's id. */
  clientId: number;
  /** The client's latest accepted report. */
  report: TelemetryReport;
  /** Server time the report arrived. */
  receivedAtMs: number;
  /** Reports accepted from this client, and the ones missing from its sequence (lost on the way). */
  reports: number;
  /** Reports missing from the client's sequence (lost on the way). */
  missing: number;
  /** Reports of this client dropped by the rate limit. */
  rateLimited: number;
}

/** Counters of the aggregator (every bound has one). */
export interface TelemetryAggregatorStats {
  /** Reports accepted. */
  reportsAccepted: number;
  /** Reports dropped by the per-client rate limit. */
  rateLimited: number;
  /** Bodies refused: longer than the fixed size, or short / unknown version / inconsistent. */
  oversize: number;
  /** Bodies refused as short, of an unknown version or inconsistent. */
  malformed: number;
  /** Times a client passed `offenderDrops` within a second (each reported as `RateLimited`). */
  offences: number;
  /** Reports from clients beyond `maxClients`. */
  clientsRefused: number;
  /** Clients tracked now. */
  clients: number;
}

/** Events of the aggregator. */
export type TelemetryEvents = {
  /** An accepted report. */
  telemetry: [client: ClientTelemetry];
  /** The room aggregate, every `roomIntervalMs` while someone reports. */
  room: [room: RoomTelemetry];
};

/** The server's telemetry aggregator. */
export interface TelemetryAggregator {
  /** Events of the aggregator: each accepted report, and the room aggregate. */
  readonly events: Emitter<TelemetryEvents>;
  /** The latest telemetry of each reporting client. */
  clients(): ClientTelemetry[];
  /** The latest telemetry of one client, or undefined. */
  client(clientId: number): ClientTelemetry | undefined;
  /** The room aggregate now. */
  room(): RoomTelemetry;
  /** A copy of the aggregator's counters. */
  stats(): TelemetryAggregatorStats;
}

interface Entry extends ClientTelemetry {
  readonly bucket: TokenBucket;
  windowStartMs: number;
  windowDrops: number;
}

/**
 * Collects clients' TelemetryReports on a server world.
 * @example
 * const telemetry = createTelemetryAggregator(world);
 * telemetry.events.on('room', (room) => draw(room.rttP95Ms, room.lossMean));
 */
export function createTelemetryAggregator(
  world: object,
  options: TelemetryAggregatorOptions = {},
): TelemetryAggregator {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server')
    usageError('createTelemetryAggregator needs a server world', 'use createTelemetryReporter on clients');
  const rate = options.maxRateHz ?? DEFAULT_TELEMETRY_MAX_RATE_HZ;
  const burst = options.burst ?? DEFAULT_TELEMETRY_BURST;
  const offenderDrops = options.offenderDrops ?? DEFAULT_TELEMETRY_OFFENDER_DROPS;
  const maxClients = options.maxClients ?? DEFAULT_TELEMETRY_MAX_CLIENTS;
  const roomIntervalMs = options.roomIntervalMs ?? 1000;
  if (!(rate > 0) || !(burst >= 1) || !(maxClients >= 1) || !(roomIntervalMs > 0))
    usageError(
      'telemetry aggregator options out of range',
      'pass maxRateHz > 0, burst >= 1, maxClients >= 1, roomIntervalMs > 0',
    );
  const clock = ctx.clock;
  const onError = ctx.onError;
  const events = new Emitter<TelemetryEvents>();
  const entries = new Map<number, Entry>();
  const stats: TelemetryAggregatorStats = {
    reportsAccepted: 0,
    rateLimited: 0,
    oversize: 0,
    malformed: 0,
    offences: 0,
    clientsRefused: 0,
    clients: 0,
  };
  let nextRoomMs = clock.now() + roomIntervalMs;
  let dirty = false;

  const entryOf = (clientId: number, now: number): Entry | undefined => {
    let e = entries.get(clientId);
    if (e) return e;
    if (entries.size >= maxClients) return undefined;
    e = {
      clientId,
      report: undefined as unknown as TelemetryReport,
      receivedAtMs: -1,
      reports: 0,
      missing: 0,
      rateLimited: 0,
      bucket: new TokenBucket(rate, burst, now),
      windowStartMs: now,
      windowDrops: 0,
    };
    entries.set(clientId, e);
    stats.clients = entries.size;
    return e;
  };

  const drop = (e: Entry, now: number): void => {
    stats.rateLimited++;
    e.rateLimited++;
    if (now - e.windowStartMs >= 1000) {
      e.windowStartMs = now;
      e.windowDrops = 0;
    }
    if (++e.windowDrops === offenderDrops) {
      stats.offences++;
      onError?.(new NetError('RateLimited', `client ${e.clientId} sent telemetry over ${rate} reports/s`));
    }
  };

  const receive = (peer: ServerPeer, body: Uint8Array): void => {
    const now = clock.now();
    const e = entryOf(peer.clientId, now);
    if (!e) {
      stats.clientsRefused++;
      return;
    }
    // The rate limit comes first: a flood costs one token check per message, never a decode.
    if (!e.bucket.tryTake(1, now)) return drop(e, now);
    const r = decodeTelemetry(body);
    if (typeof r === 'string') {
      if (r === 'oversize') stats.oversize++;
      else stats.malformed++;
      const code = r === 'oversize' ? 'Oversize' : 'DecodeError';
      onError?.(new NetError(code, `client ${peer.clientId} sent a bad TelemetryReport (${r}, ${body.length} bytes)`));
      return;
    }
    if (e.reports > 0) e.missing += (r.seq - e.report.seq - 1) & 0xffff;
    e.report = r;
    e.receivedAtMs = now;
    e.reports++;
    stats.reportsAccepted++;
    dirty = true;
    events.emit('telemetry', view(e));
  };

  const view = (e: Entry): ClientTelemetry => ({
    clientId: e.clientId,
    report: e.report,
    receivedAtMs: e.receivedAtMs,
    reports: e.reports,
    missing: e.missing,
    rateLimited: e.rateLimited,
  });
  const reporting = (): Entry[] => [...entries.values()].filter((e) => e.reports > 0);
  const room = (): RoomTelemetry => aggregateRoom(reporting().map((e) => e.report));

  ctx.replicator.extensions.push({
    message(peer, tag, message) {
      if (tag !== Tag.TelemetryReport) return false;
      receive(peer, messageBody(message));
      return true;
    },
    left(peer) {
      entries.delete(peer.clientId);
      stats.clients = entries.size;
      dirty = true;
    },
    beforeDetect() {
      const now = clock.now();
      if (now < nextRoomMs) return;
      nextRoomMs = now + roomIntervalMs;
      if (!dirty) return;
      dirty = false;
      events.emit('room', room());
    },
  });

  return {
    events,
    clients: () => reporting().map(view),
    client: (id) => {
      const e = entries.get(id);
      return e && e.reports > 0 ? view(e) : undefined;
    },
    room,
    stats: () => ({ ...stats }),
  };
}
