/** A deterministic two-peer setup for connection tests: memory network, manual clock, one Connection per end. */
import { createManualClock } from '../../src/clock.ts';
import type { ManualClock } from '../../src/clock.ts';
import type { NetError } from '../../src/errors.ts';
import { Connection } from '../../src/connection/connection.ts';
import type { ConnectionHandler, ConnectionOptions } from '../../src/connection/connection.ts';
import { createMemoryNetwork } from '../../src/transport/memory-transport.ts';
import type { LinkPairConditions, MemoryNetwork } from '../../src/transport/memory-transport.ts';
import type { Link } from '../../src/transport/transport.ts';

/** What one end received, and what became of the packets it sent. */
export interface Peer {
  conn: Connection;
  link: Link;
  reliable: Uint8Array[];
  unreliable: { message: Uint8Array; seq: number }[];
  acked: number[];
  lost: number[];
  errors: NetError[];
  /** Sequences of the peer's packets that reached this end's inbox. */
  arrivedSeqs: Set<number>;
  handler: ConnectionHandler;
}

export interface Pair {
  clock: ManualClock;
  net: MemoryNetwork;
  client: Peer;
  server: Peer;
  /** Advances the clock, pumps the network, then receive() and flush() on both ends. */
  step(ms: number, flush?: boolean): void;
}

function peer(link: Link, options: ConnectionOptions): Peer {
  const p: Peer = {
    conn: null as unknown as Connection,
    link,
    reliable: [],
    unreliable: [],
    acked: [],
    lost: [],
    errors: [],
    arrivedSeqs: new Set(),
    handler: {
      reliable: (m) => p.reliable.push(m.slice()),
      unreliable: (m, seq) => p.unreliable.push({ message: m.slice(), seq }),
    },
  };
  p.conn = new Connection(link, { ...options, onError: (e) => p.errors.push(e) });
  p.conn.onPacketAcked = (seq) => p.acked.push(seq);
  p.conn.onPacketLost = (seq) => p.lost.push(seq);
  const deliver = link.onpacket!;
  link.onpacket = (packet) => {
    if (packet.length >= 3) p.arrivedSeqs.add(packet[1] | (packet[2] << 8));
    deliver(packet);
  };
  return p;
}

export function createPair(
  conditions: LinkPairConditions = {},
  seed = 1,
  options: Partial<ConnectionOptions> = {},
): Pair {
  const clock = createManualClock(1000);
  const net = createMemoryNetwork({ clock, seed });
  let serverLink: Link | null = null;
  net.server.onconnection = (l) => (serverLink = l);
  const clientLink = net.connect(conditions);
  const client = peer(clientLink, { clock, ...options });
  const server = peer(serverLink!, { clock, ...options });
  return {
    clock,
    net,
    client,
    server,
    step(ms: number, flush = true): void {
      clock.advance(ms);
      net.pump();
      client.conn.receive(client.handler);
      server.conn.receive(server.handler);
      if (flush) {
        client.conn.flush();
        server.conn.flush();
      }
    },
  };
}

/** Deterministic message of `size` bytes whose content depends on `tag`. */
export function makeMessage(size: number, tag: number): Uint8Array {
  const m = new Uint8Array(size);
  let x = (tag * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    m[i] = x & 0xff;
  }
  return m;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
