/**
 * The mDNS socket of the advertiser and the browser: multicast-dns (an optional peer, loaded when used) bound to
 * one interface or all, with its packets handed over as our own record shape and its decode failures counted.
 */
import { loadPeer } from '../transport/load-peer.ts';
import type { MdnsRecord } from './discovery-records.ts';

/** Where the mDNS traffic goes. */
export interface MdnsSocketOptions {
  /**
   * IPv4 address of the one interface to join the group on and send from (e.g. '127.0.0.1' for loopback only);
   * default: every IPv4 interface.
   */
  interface?: string;
  /** UDP port of the mDNS traffic (default 5353, the mDNS port; another one makes a private discovery group). */
  mdnsPort?: number;
}

/** A decoded packet as multicast-dns hands it over. */
export interface MdnsPacket {
  type?: string;
  questions?: Array<{ name: string; type: string }>;
  answers?: MdnsRecord[];
  additionals?: MdnsRecord[];
}

/** The counters every mDNS user shares. */
export interface MdnsSocketStats {
  /** Packets decoded (queries and responses). */
  packets: number;
  /** Datagrams that did not decode as DNS (garbage), dropped. */
  malformed: number;
  /** Socket warnings (a membership that could not be joined, a send that failed). */
  socketWarnings: number;
  /** Packets whose handling threw (contained: a hostile packet never crashes the process). */
  handlerErrors: number;
}

/** One open mDNS socket. */
export interface MdnsSocket {
  readonly stats: MdnsSocketStats;
  onQuery: ((packet: MdnsPacket, from: string) => void) | null;
  onResponse: ((packet: MdnsPacket, from: string) => void) | null;
  /** Multicasts a response with `answers` (and `additionals`); resolves once it left the socket. */
  respond(answers: MdnsRecord[], additionals?: MdnsRecord[]): Promise<void>;
  /** Multicasts a query for `name` of `type`. */
  query(name: string, type: string): void;
  close(): Promise<void>;
}

type MdnsInstance = {
  on(event: string, listener: (...args: never[]) => void): void;
  respond(packet: object, cb: (error?: Error | null) => void): void;
  query(packet: object): void;
  destroy(cb: () => void): void;
};

/** Opens the socket; rejects when the port cannot be bound (`EADDRINUSE` without reuse, `EACCES`). */
export async function openMdnsSocket(options: MdnsSocketOptions, usedBy: string): Promise<MdnsSocket> {
  const { default: makeMdns } = (await loadPeer('multicast-dns', usedBy, () => import('multicast-dns'))) as {
    default: (o: object) => MdnsInstance;
  };
  // Bound to the wildcard address (a socket bound to a unicast address never sees multicast on Linux), but the
  // group is joined, and multicasts are sent, only on `interface` when one is given.
  const mdns = makeMdns({
    port: options.mdnsPort ?? 5353,
    interface: options.interface,
    bind: '0.0.0.0',
    reuseAddr: true,
    loopback: true,
  });
  const stats: MdnsSocketStats = { packets: 0, malformed: 0, socketWarnings: 0, handlerErrors: 0 };
  const contained = (handler: () => void) => {
    try {
      handler();
    } catch {
      stats.handlerErrors++;
    }
  };
  const socket: MdnsSocket = {
    stats,
    onQuery: null,
    onResponse: null,
    respond: (answers, additionals = []) =>
      new Promise((resolve) => {
        mdns.respond({ answers, additionals }, (error) => {
          if (error) stats.socketWarnings++;
          resolve();
        });
      }),
    query: (name, type) => mdns.query({ questions: [{ name, type }] }),
    close: () => new Promise((resolve) => mdns.destroy(resolve)),
  };
  mdns.on('warning', (error: { code?: unknown }) => {
    if (error && typeof error.code === 'string') stats.socketWarnings++;
    else stats.malformed++; // dns-packet could not decode the datagram
  });
  mdns.on('packet', () => stats.packets++);
  mdns.on('query', (packet: MdnsPacket, rinfo: { address: string }) =>
    contained(() => socket.onQuery?.(packet, rinfo.address)),
  );
  mdns.on('response', (packet: MdnsPacket, rinfo: { address: string }) =>
    contained(() => socket.onResponse?.(packet, rinfo.address)),
  );
  await new Promise<void>((resolve, reject) => {
    mdns.on('ready', () => resolve());
    mdns.on('error', (error: Error) => reject(error));
  });
  return socket;
}
