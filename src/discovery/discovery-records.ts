/**
 * The DNS-SD records of an ecsync room server on the local network (RFC 6763 over mDNS, RFC 6762): a PTR from the
 * service type to the instance, an SRV with the port and host, a TXT with the protocol version and transports, and
 * the host's A records. Building them, and reading them back from a hostile packet: every length, count and
 * number is checked before it is kept. No socket here.
 */

/**
 * One resource record as multicast-dns reads and writes it (our own shape, so no declaration of ours depends on
 * dns-packet's types): `data` is a string (PTR, A), `{port, target}` (SRV) or byte strings (TXT).
 */
export interface MdnsRecord {
  /** The record's owner name, e.g. `_ecsync._udp.local`. */
  name: string;
  /** The record type: `PTR`, `SRV`, `TXT` or `A`. */
  type: string;
  /** Time to live, in seconds (0 is a goodbye). */
  ttl?: number;
  /** The mDNS cache-flush bit: this record replaces the cached ones of its name and type. */
  flush?: boolean;
  /** The record data: a string (PTR, A), `{port, target}` (SRV) or byte strings (TXT). */
  data?: unknown;
}

/** Our DNS-SD service type (RFC 6763 §7: `_ecsync._udp`, since the room's main transport is WebRTC over UDP). */
export const ECSYNC_SERVICE_TYPE = '_ecsync._udp.local';
/** The DNS-SD meta-query name that lists service types (RFC 6763 §9). */
export const SERVICE_TYPES_NAME = '_services._dns-sd._udp.local';
/** TTL of the records, s: RFC 6762 §10 recommends 120 s for records naming a host, 75 min for the others. */
export const RECORD_TTL_S = 120;
/** A DNS label is at most 63 bytes (RFC 1035 §2.3.4): the longest instance name. */
export const MAX_NAME_BYTES = 63;
/** Longest TXT value kept, bytes: a path or a schema hash fits with room; longer values are refused. */
export const MAX_TXT_VALUE_BYTES = 128;
/** Most TXT entries read from one record: ours has 5; more is someone else's record or an attack. */
export const MAX_TXT_ENTRIES = 16;
/** Most transports listed in one advertisement. */
export const MAX_TRANSPORTS = 8;

/** What a room server advertises. */
export interface ServiceInfo {
  /** Instance name shown to users, e.g. "ecsync room on studio-pc" (<= 63 bytes of UTF-8, no dot-free rule). */
  name: string;
  /** The port clients connect to (the HTTPS/WebSocket port of the example). */
  port: number;
  /** ecsync's wire protocol version (`PROTOCOL_VERSION`): a client skips servers it cannot talk to. */
  protocolVersion: number;
  /** Transports offered, e.g. ['ws', 'webrtc'] (short tokens, at most 8). */
  transports: string[];
  /** The WebSocket path, when it is not the default. */
  path?: string;
  /** Whether the port speaks TLS (https/wss). */
  tls?: boolean;
  /** The protocol's schema hash (hex), so a client can tell a matching room before it connects. */
  schemaHash?: string;
}

/** A server found on the network. */
export interface DiscoveredServer extends ServiceInfo {
  /** The full instance name, `<name>._ecsync._udp.local`. */
  instance: string;
  /** The SRV target host name, e.g. `studio-pc.local`. */
  hostName: string;
  /** An IPv4 address to connect to: an A record of the host, or the address the answer came from. */
  host: string;
  /** Every IPv4 address advertised for the host. */
  addresses: string[];
  /** When the records expire, ms since the epoch (Date.now()). */
  expiresAtMs: number;
}

const encoder = new TextEncoder();
const TOKEN = /^[a-z0-9][a-z0-9-]{0,15}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Why `info` cannot be advertised, or null when it can. */
export function checkServiceInfo(info: ServiceInfo): string | null {
  const nameBytes = encoder.encode(info.name).length;
  if (nameBytes === 0 || nameBytes > MAX_NAME_BYTES) return `name must be 1..${MAX_NAME_BYTES} bytes of UTF-8`;
  if (/[\u0000-\u001f\u007f]/.test(info.name)) return 'name must not contain control characters';
  if (!Number.isInteger(info.port) || info.port < 1 || info.port > 65535) return 'port must be 1..65535';
  if (!Number.isInteger(info.protocolVersion) || info.protocolVersion < 0 || info.protocolVersion > 65535)
    return 'protocolVersion must be an integer 0..65535';
  if (info.transports.length > MAX_TRANSPORTS || !info.transports.every((t) => TOKEN.test(t)))
    return `transports must be at most ${MAX_TRANSPORTS} lowercase tokens like 'ws'`;
  for (const v of [info.path, info.schemaHash]) {
    if (v !== undefined && (encoder.encode(v).length > MAX_TXT_VALUE_BYTES || v.includes(',')))
      return `path and schemaHash must be at most ${MAX_TXT_VALUE_BYTES} bytes without commas`;
  }
  return null;
}

/** The instance's full DNS name. */
export function instanceName(name: string): string {
  return `${name.replace(/\\/g, '\\\\').replace(/\./g, '\\.')}.${ECSYNC_SERVICE_TYPE}`;
}

/** The TXT entries (`key=value`), RFC 6763 §6: short keys, `txtvers` first. */
export function txtEntries(info: ServiceInfo): string[] {
  const out = ['txtvers=1', `pv=${info.protocolVersion}`, `tr=${info.transports.join(',')}`];
  if (info.path !== undefined) out.push(`path=${info.path}`);
  if (info.tls !== undefined) out.push(`tls=${info.tls ? 1 : 0}`);
  if (info.schemaHash !== undefined) out.push(`sh=${info.schemaHash}`);
  return out;
}

/** The answers that advertise `info` on `hostName` with `addresses`; `ttl` 0 makes them a goodbye (RFC 6762 §10.1). */
export function serviceAnswers(info: ServiceInfo, hostName: string, addresses: string[], ttl: number): MdnsRecord[] {
  const instance = instanceName(info.name);
  return [
    { name: SERVICE_TYPES_NAME, type: 'PTR', ttl, data: ECSYNC_SERVICE_TYPE }, // for service-type enumeration
    { name: ECSYNC_SERVICE_TYPE, type: 'PTR', ttl, data: instance },
    { name: instance, type: 'SRV', ttl, flush: true, data: { port: info.port, target: hostName } },
    { name: instance, type: 'TXT', ttl, flush: true, data: txtEntries(info) },
    ...addresses.map((a): MdnsRecord => ({ name: hostName, type: 'A', ttl, flush: true, data: a })),
  ];
}

/** Why a record set was refused (counted by the browser). */
export type RecordRefusal = 'name' | 'port' | 'txt' | 'version' | 'host';

/** Reads TXT data into a bounded map; null when it breaks a bound. */
function readTxt(data: unknown): Map<string, string> | null {
  const parts = Array.isArray(data) ? data : [data];
  if (parts.length > MAX_TXT_ENTRIES) return null;
  const map = new Map<string, string>();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const part of parts) {
    if (!(part instanceof Uint8Array) && typeof part !== 'string') return null;
    const bytes = typeof part === 'string' ? encoder.encode(part) : part;
    if (bytes.length > MAX_TXT_VALUE_BYTES + 8) return null;
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return null; // not UTF-8
    }
    const eq = text.indexOf('=');
    const key = (eq < 0 ? text : text.slice(0, eq)).toLowerCase();
    if (key.length === 0 || map.has(key)) continue; // RFC 6763 §6.4: the first occurrence wins
    map.set(key, eq < 0 ? '' : text.slice(eq + 1));
  }
  return map;
}

/** The instance label of a full name under our type, unescaped; null when it is not ours or too long. */
export function instanceLabel(instance: string): string | null {
  const suffix = `.${ECSYNC_SERVICE_TYPE}`;
  if (instance.length > 4 * MAX_NAME_BYTES + suffix.length || !instance.toLowerCase().endsWith(suffix)) return null;
  const label = instance.slice(0, -suffix.length).replace(/\\(.)/g, '$1');
  const bytes = encoder.encode(label).length;
  return bytes === 0 || bytes > MAX_NAME_BYTES || /[\u0000-\u001f\u007f]/.test(label) ? null : label;
}

/**
 * Builds a DiscoveredServer from the SRV and TXT of `instance` (and the A records of its host) among `records`,
 * validating each; `from` is the address the packet came from. Returns the refusal instead of throwing.
 */
export function readService(
  instance: string,
  records: readonly MdnsRecord[],
  from: string,
  nowMs: number,
): DiscoveredServer | RecordRefusal {
  const name = instanceLabel(instance);
  if (name === null) return 'name';
  const lower = instance.toLowerCase();
  const srv = records.find((r) => r.type === 'SRV' && r.name.toLowerCase() === lower);
  const txt = records.find((r) => r.type === 'TXT' && r.name.toLowerCase() === lower);
  if (!srv || !txt) return 'txt';
  const { port, target } = (srv.data ?? {}) as { port?: unknown; target?: unknown };
  if (typeof port !== 'number') return 'port';
  if (!Number.isInteger(port) || port < 1 || port > 65535) return 'port';
  if (typeof target !== 'string' || target.length === 0 || target.length > 255) return 'host';
  const map = readTxt(txt.data);
  if (!map) return 'txt';
  const pv = map.get('pv') ?? '';
  if (!/^\d{1,5}$/.test(pv) || Number(pv) > 65535) return 'version';
  const transports = (map.get('tr') ?? '').split(',').filter((t) => t.length > 0);
  if (transports.length > MAX_TRANSPORTS || !transports.every((t) => TOKEN.test(t))) return 'txt';
  const path = map.get('path');
  const sh = map.get('sh');
  if ((path !== undefined && path.length > MAX_TXT_VALUE_BYTES) || (sh !== undefined && !/^[0-9a-f]{1,64}$/i.test(sh)))
    return 'txt';
  const targetLower = target.toLowerCase();
  const addresses = records
    .filter((r) => r.type === 'A' && r.name.toLowerCase() === targetLower && typeof r.data === 'string')
    .map((r) => r.data as string)
    .filter((a, i, all) => IPV4.test(a) && all.indexOf(a) === i)
    .slice(0, MAX_TRANSPORTS);
  const ttl = Math.min(srv.ttl ?? RECORD_TTL_S, txt.ttl ?? RECORD_TTL_S, 4 * 3600);
  const server: DiscoveredServer = {
    name,
    instance,
    hostName: target,
    host: addresses.includes(from) || addresses.length === 0 ? from : addresses[0],
    addresses,
    port,
    protocolVersion: Number(pv),
    transports,
    expiresAtMs: nowMs + ttl * 1000,
  };
  if (path !== undefined) server.path = path;
  if (map.has('tls')) server.tls = map.get('tls') === '1';
  if (sh !== undefined) server.schemaHash = sh;
  return server;
}
