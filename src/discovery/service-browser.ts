/**
 * Browsing the local network for room servers over mDNS / DNS-SD: queries for `_ecsync._udp` (again after 1 s and
 * then every `requeryMs`), keeps the servers that answer with valid records (bounded), drops those that say
 * goodbye or whose records expire. Every received packet is hostile: refused records and packets are counted.
 */
import { NetError } from '../errors.ts';
import { Emitter } from '../events.ts';
import { TokenBucket } from '../session/rate-limiter.ts';
import {
  ECSYNC_SERVICE_TYPE,
  readService,
  type DiscoveredServer,
  type MdnsRecord,
  type RecordRefusal,
} from './discovery-records.ts';
import { openMdnsSocket, type MdnsPacket, type MdnsSocketOptions, type MdnsSocketStats } from './mdns-socket.ts';

/** Default bound on servers kept: a LAN with more ecsync rooms than this is not a LAN a user picks from. */
export const DEFAULT_MAX_SERVICES = 64;
/** Records read from one packet: ours has 4 + one per address; a packet with more is refused whole. */
export const MAX_RECORDS_PER_PACKET = 64;
/** Default time between queries after the first two, ms (RFC 6762 §5.2 doubles up to an hour; a tool wants news). */
export const DEFAULT_REQUERY_MS = 10_000;

/** Options of `createServiceBrowser` and `browse`. */
export interface BrowseOptions extends MdnsSocketOptions {
  /** Servers kept at once (default 64); more are refused and counted. */
  maxServices?: number;
  /** Time between repeated queries, ms (default 10,000). */
  requeryMs?: number;
  /** Receives refused records (`DiscoveryInvalid`), at most one report a second; the rest are only counted. */
  onError?: (error: NetError) => void;
}

/** Counters of a browser (every bound has one). */
export interface ServiceBrowserStats extends MdnsSocketStats {
  /** mDNS responses received. */
  responses: number;
  /** Record sets refused, by reason. */
  refused: Record<RecordRefusal | 'oversize', number>;
  /** New servers beyond `maxServices`. */
  servicesRefused: number;
  /** Servers dropped by a goodbye, and by expiry. */
  goodbyes: number;
  /** Servers dropped because their records expired. */
  expired: number;
  /** Servers kept now. */
  services: number;
}

/** Events of a browser. */
export type ServiceBrowserEvents = {
  /** A server appeared (or came back). */
  up: [server: DiscoveredServer];
  /** A server said goodbye or its records expired. */
  down: [server: DiscoveredServer];
};

/** A running browser. */
export interface ServiceBrowser {
  /** Events of the browser: servers up and down. */
  readonly events: Emitter<ServiceBrowserEvents>;
  /** The servers known now, by name. */
  servers(): DiscoveredServer[];
  /** Sends a query now. */
  query(): void;
  /** A copy of the browser's counters. */
  stats(): ServiceBrowserStats;
  /** Stops querying and closes the socket (idempotent). */
  stop(): Promise<void>;
}

/** Options of `browse`. */
export interface BrowseOnceOptions extends BrowseOptions {
  /** How long to listen, ms (default 2,000: the first query, the repeat at 1 s, and time for answers). */
  timeoutMs?: number;
}

/**
 * Starts browsing for ecsync room servers until `stop()`.
 * @example
 * const browser = await createServiceBrowser();
 * browser.events.on('up', (s) => console.log(s.name, `${s.host}:${s.port}`));
 */
export async function createServiceBrowser(options: BrowseOptions = {}): Promise<ServiceBrowser> {
  const maxServices = options.maxServices ?? DEFAULT_MAX_SERVICES;
  const requeryMs = options.requeryMs ?? DEFAULT_REQUERY_MS;
  const socket = await openMdnsSocket(options, 'createServiceBrowser');
  const events = new Emitter<ServiceBrowserEvents>();
  const known = new Map<string, DiscoveredServer>();
  const counts = {
    responses: 0,
    refused: { name: 0, port: 0, txt: 0, version: 0, host: 0, oversize: 0 },
    servicesRefused: 0,
    goodbyes: 0,
    expired: 0,
  };
  const reports = new TokenBucket(1, 1, Date.now());
  const refuse = (reason: RecordRefusal | 'oversize', from: string) => {
    counts.refused[reason]++;
    if (options.onError && reports.tryTake(1, Date.now()))
      options.onError(new NetError('DiscoveryInvalid', `refused mDNS records from ${from} (${reason})`));
  };

  const drop = (key: string, why: 'goodbyes' | 'expired') => {
    const s = known.get(key);
    if (!s) return;
    known.delete(key);
    counts[why]++;
    events.emit('down', s);
  };

  socket.onResponse = (packet: MdnsPacket, from: string) => {
    counts.responses++;
    const answers = Array.isArray(packet.answers) ? packet.answers : [];
    const additionals = Array.isArray(packet.additionals) ? packet.additionals : [];
    if (answers.length + additionals.length > MAX_RECORDS_PER_PACKET) return refuse('oversize', from);
    const records: MdnsRecord[] = [...answers, ...additionals].filter(
      (r) => r !== null && typeof r === 'object' && typeof r.name === 'string' && typeof r.type === 'string',
    );
    const now = Date.now();
    for (const ptr of records) {
      if (ptr.type !== 'PTR' || ptr.name.toLowerCase() !== ECSYNC_SERVICE_TYPE) continue;
      if (typeof ptr.data !== 'string') {
        refuse('name', from);
        continue;
      }
      const key = ptr.data.toLowerCase();
      if (ptr.ttl === 0) {
        drop(key, 'goodbyes');
        continue;
      }
      const server = readService(ptr.data, records, from, now);
      if (typeof server === 'string') {
        refuse(server, from);
        continue;
      }
      const had = known.has(key);
      if (!had && known.size >= maxServices) {
        counts.servicesRefused++;
        continue;
      }
      known.set(key, server);
      if (!had) events.emit('up', server);
    }
  };

  const query = () => socket.query(ECSYNC_SERVICE_TYPE, 'PTR');
  query();
  const again = setTimeout(query, 1000);
  const requery = setInterval(query, requeryMs);
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, s] of known) if (s.expiresAtMs <= now) drop(key, 'expired');
  }, 1000);
  let stopped = false;

  return {
    events,
    servers: () => [...known.values()].sort((a, b) => a.name.localeCompare(b.name)),
    query,
    stats: () => ({ ...socket.stats, ...counts, refused: { ...counts.refused }, services: known.size }),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(again);
      clearInterval(requery);
      clearInterval(sweep);
      await socket.close();
    },
  };
}

/**
 * Lists the ecsync room servers that answer within `timeoutMs`.
 * @example
 * for (const s of await browse({ timeoutMs: 2000 })) console.log(s.name, s.host, s.port, s.protocolVersion);
 */
export async function browse(options: BrowseOnceOptions = {}): Promise<DiscoveredServer[]> {
  const browser = await createServiceBrowser(options);
  await new Promise((resolve) => setTimeout(resolve, options.timeoutMs ?? 2000));
  const found = browser.servers();
  await browser.stop();
  return found;
}
