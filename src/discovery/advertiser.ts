/**
 * Advertising a room server on the local network over mDNS / DNS-SD: announces its records when it starts
 * (twice, a second apart, RFC 6762 §8.3), answers queries for our service type, its instance or its host, and says
 * goodbye (the records with TTL 0) when it stops, so browsers drop it at once.
 */
import { hostname, networkInterfaces } from 'node:os';
import { usageError } from '../errors.ts';
import { PROTOCOL_VERSION } from '../protocol/handshake.ts';
import {
  checkServiceInfo,
  ECSYNC_SERVICE_TYPE,
  instanceName,
  RECORD_TTL_S,
  SERVICE_TYPES_NAME,
  serviceAnswers,
  type MdnsRecord,
  type ServiceInfo,
} from './discovery-records.ts';
import { openMdnsSocket, type MdnsSocketOptions, type MdnsSocketStats } from './mdns-socket.ts';

/** Between the two announcements, ms (RFC 6762 §8.3: at least one second). */
export const ANNOUNCE_INTERVAL_MS = 1000;
/**
 * Shortest time between two multicast answers, ms: RFC 6762 §6 allows a record once a second, but 250 ms when it
 * defends a probe; every browser hears an answer within a quarter second, and a query flood costs 4 answers a second.
 */
export const MIN_ANSWER_INTERVAL_MS = 250;

/** Options of `advertise`: what to announce and where. */
export interface AdvertiseOptions extends MdnsSocketOptions {
  /** Instance name users see (1..63 bytes), e.g. "ecsync room on studio-pc". */
  name: string;
  /** The port clients connect to. */
  port: number;
  /** Default: this build's `PROTOCOL_VERSION`. */
  protocolVersion?: number;
  /** Default ['ws']. */
  transports?: string[];
  /** The WebSocket path, when it is not the default (TXT record). */
  path?: string;
  /** Whether the port speaks TLS (https/wss) (TXT record). */
  tls?: boolean;
  /** The protocol's schema hash (hex), so a client can tell a matching room before it connects (TXT record). */
  schemaHash?: string;
  /** SRV target (default `<os hostname>.local`). */
  hostName?: string;
  /** IPv4 addresses for the host's A records (default: `interface`, or every non-internal IPv4 address). */
  addresses?: string[];
}

/** Counters of an advertisement. */
export interface AdvertiserStats extends MdnsSocketStats {
  /** Unsolicited announcements sent (at start and repeated). */
  announcements: number;
  /** mDNS queries received. */
  queries: number;
  /** Answers sent to queries; queries answered late because an answer had just gone out; queries merged into an
   * answer already pending (the flood bound). */
  answered: number;
  /** Queries answered late because an answer had just gone out. */
  deferred: number;
  /** Queries merged into an answer already pending (the flood bound). */
  suppressed: number;
}

/** A running advertisement. */
export interface Advertisement {
  /** What is advertised. */
  readonly info: Readonly<ServiceInfo>;
  /** The SRV target host name (default `<os hostname>.local`). */
  readonly hostName: string;
  /** The IPv4 addresses in the host's A records. */
  readonly addresses: readonly string[];
  /** The records as they go on the wire (for a banner or a log). */
  records(): MdnsRecord[];
  /** A copy of the advertisement's counters. */
  stats(): AdvertiserStats;
  /** Sends the goodbye and closes the socket. */
  stop(): Promise<void>;
}

/** A DNS host label from the OS host name: letters, digits and hyphens, at most 63. */
function defaultHostName(): string {
  const label =
    hostname()
      .split('.')[0]
      .replace(/[^A-Za-z0-9-]/g, '-')
      .slice(0, 63) || 'ecsync';
  return `${label}.local`;
}

function defaultAddresses(iface: string | undefined): string[] {
  if (iface) return [iface];
  const all = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => (a as { address: string }).address);
  return all.length > 0 ? all : ['127.0.0.1'];
}

/**
 * Advertises a room server as `_ecsync._udp` on the local network until `stop()`.
 * @example
 * const ad = await advertise({ name: 'ecsync room', port: 8443, transports: ['webrtc', 'ws'] });
 * // ... on shutdown:
 * await ad.stop();
 */
export async function advertise(options: AdvertiseOptions): Promise<Advertisement> {
  const info: ServiceInfo = {
    name: options.name,
    port: options.port,
    protocolVersion: options.protocolVersion ?? PROTOCOL_VERSION,
    transports: options.transports ?? ['ws'],
  };
  if (options.path !== undefined) info.path = options.path;
  if (options.tls !== undefined) info.tls = options.tls;
  if (options.schemaHash !== undefined) info.schemaHash = options.schemaHash;
  const problem = checkServiceInfo(info);
  if (problem) usageError(`advertise: ${problem}`, 'pass a valid name, port and transports');
  const hostName = options.hostName ?? defaultHostName();
  const addresses = options.addresses ?? defaultAddresses(options.interface);
  const instance = instanceName(info.name).toLowerCase();
  const host = hostName.toLowerCase();
  const records = (ttl: number) => serviceAnswers(info, hostName, addresses, ttl);

  const socket = await openMdnsSocket(options, 'advertise');
  const counts = { announcements: 0, queries: 0, answered: 0, deferred: 0, suppressed: 0 };
  let lastAnswerMs = -Infinity;
  let pending: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const send = (ttl: number) => socket.respond(records(ttl)); // a failed send is counted in socketWarnings

  const answer = () => {
    pending = null;
    if (stopped) return;
    lastAnswerMs = Date.now();
    counts.answered++;
    void send(RECORD_TTL_S);
  };

  socket.onQuery = (packet) => {
    if (stopped) return;
    counts.queries++;
    const questions = Array.isArray(packet.questions) ? packet.questions.slice(0, 16) : [];
    const asked = questions.some((q) => {
      const name = typeof q?.name === 'string' ? q.name.toLowerCase() : '';
      return name === ECSYNC_SERVICE_TYPE || name === SERVICE_TYPES_NAME || name === instance || name === host;
    });
    if (!asked) return;
    // A query that comes too soon is answered once the interval has passed (one pending answer at most), so a
    // browser that started just after an answer went out still hears one, and a flood costs 4 answers a second.
    if (pending) {
      counts.suppressed++;
      return;
    }
    const wait = lastAnswerMs + MIN_ANSWER_INTERVAL_MS - Date.now();
    if (wait <= 0) return answer();
    counts.deferred++;
    pending = setTimeout(answer, wait);
  };

  const announce = () => {
    if (stopped) return;
    counts.announcements++;
    lastAnswerMs = Date.now();
    void send(RECORD_TTL_S);
  };
  announce();
  const second = setTimeout(announce, ANNOUNCE_INTERVAL_MS);

  return {
    info,
    hostName,
    addresses,
    records: () => records(RECORD_TTL_S),
    stats: () => ({ ...socket.stats, ...counts }),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(second);
      if (pending) clearTimeout(pending);
      await send(0); // goodbye: RFC 6762 §10.1
      await socket.close();
    },
  };
}
