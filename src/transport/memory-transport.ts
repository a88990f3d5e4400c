/**
 * An in-memory network: a server transport plus any number of client links, each direction passing through a
 * seeded link conditioner. Nothing happens on its own: packets (and close events) are delivered only inside
 * `pump()`, which a deterministic stepper calls once per step after advancing the manual clock.
 */
import type { Clock } from '../clock.ts';
import { usageError } from '../errors.ts';
import { createRandom } from '../random.ts';
import { createLinkConditioner } from './link-conditioner.ts';
import type { LinkConditioner, LinkConditions, LinkConditionerStats } from './link-conditioner.ts';
import { MAX_PACKET_BYTES } from './transport.ts';
import type { ClientTransport, CloseReason, Link, ServerTransport } from './transport.ts';

/** Conditions of both directions of one link: `up` is client to server, `down` is server to client. */
export interface LinkPairConditions {
  /** Conditions from client to server (default none: a perfect link). */
  up?: LinkConditions;
  /** Conditions from server to client (default none: a perfect link). */
  down?: LinkConditions;
}

/** Options of `createMemoryNetwork`. */
export interface MemoryNetworkOptions {
  /** Drives every delay; use a manual clock in tests. */
  clock: Clock;
  /** Seed of every random decision; each link derives its own generator from it and its index. */
  seed?: number;
  /** Largest packet a link accepts (default `MAX_PACKET_BYTES`); larger ones are counted and dropped. */
  mtuBytes?: number;
}

/** Counters of one link, both directions. */
export interface MemoryLinkStats {
  /** Counters of the client-to-server direction. */
  up: LinkConditionerStats;
  /** Counters of the server-to-client direction. */
  down: LinkConditionerStats;
  /** Packets larger than the MTU that either end tried to send (dropped). */
  oversizeDropped: number;
  /** Packets dropped because the link was cut. */
  cutDropped: number;
}

/** The in-memory network returned by `createMemoryNetwork`. */
export interface MemoryNetwork {
  /** The server side; `onconnection` fires synchronously inside `connect()`. */
  readonly server: ServerTransport;
  /**
   * Opens a link at once and returns its client end (the server end goes to `server.onconnection`);
   * `remoteAddress` is what the server end reports as the client's address (default none, like geckos.io).
   */
  connect(conditions?: LinkPairConditions, options?: { remoteAddress?: string }): Link;
  /** A client transport whose `connect()` resolves to `network.connect(conditions)`. */
  clientTransport(conditions?: LinkPairConditions): ClientTransport;
  /** Delivers every packet and close event due at `clock.now()`, link by link in creation order. */
  pump(): void;
  /** Changes the conditions of a link (either end may be passed) for packets sent from now on. */
  setConditions(link: Link, conditions: LinkPairConditions): void;
  /** Silently drops everything both ways (in flight too) until `restore`; the link stays open. */
  cut(link: Link): void;
  /** Ends a `cut`. */
  restore(link: Link): void;
  /** Counters of a link (either end may be passed). */
  linkStats(link: Link): MemoryLinkStats;
  /** Packets larger than the MTU dropped on any link. */
  readonly oversizeDropped: number;
}

/** Mixes the network seed with a stream index into an independent 32-bit seed (murmur3 finalizer). */
function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

interface Pair {
  up: LinkConditioner;
  down: LinkConditioner;
  client: MemoryLink;
  server: MemoryLink;
  isCut: boolean;
  closeReason: CloseReason | null;
  closeFired: boolean;
  oversizeDropped: number;
  cutDropped: number;
}

class MemoryLink implements Link {
  onpacket: ((packet: Uint8Array) => void) | null = null;
  onclose: ((reason: CloseReason) => void) | null = null;
  pair!: Pair;
  remoteAddress: string | undefined = undefined;

  constructor(
    readonly mtuBytes: number,
    private readonly outgoing: 'up' | 'down',
    private readonly network: { oversizeDropped: number },
  ) {}

  get isOpen(): boolean {
    return this.pair.closeReason === null;
  }

  send(packet: Uint8Array): void {
    const pair = this.pair;
    if (pair.closeReason !== null) return;
    if (packet.length > this.mtuBytes) {
      pair.oversizeDropped++;
      this.network.oversizeDropped++;
      return;
    }
    if (pair.isCut) {
      pair.cutDropped++;
      return;
    }
    pair[this.outgoing].push(packet);
  }

  close(reason: CloseReason = 'closed'): void {
    const pair = this.pair;
    if (pair.closeReason !== null) return;
    pair.closeReason = reason;
    pair.up.clear();
    pair.down.clear();
  }
}

/**
 * Creates an in-memory network. Closing a link from either side makes `isOpen` false on both ends at once,
 * drops what is in flight, and fires `onclose` on both ends (client end first) at the next `pump()`.
 * @example
 * const clock = createManualClock();
 * const net = createMemoryNetwork({ clock, seed: 1 });
 * net.server.onconnection = (link) => { link.onpacket = (p) => link.send(p); };
 * const link = net.connect({ up: { latencyMs: 20 }, down: { latencyMs: 20, loss: 0.1 } });
 */
export function createMemoryNetwork(options: MemoryNetworkOptions): MemoryNetwork {
  const clock = options?.clock;
  if (typeof clock?.now !== 'function')
    usageError(
      'createMemoryNetwork needs a clock: it delivers packets by clock time',
      'pass { clock: createManualClock() } in tests, or { clock: systemClock }',
    );
  const seed = options.seed ?? 0;
  const mtuBytes = options.mtuBytes ?? MAX_PACKET_BYTES;
  if (!(mtuBytes > 0)) usageError(`mtuBytes must be positive, got ${mtuBytes}`, 'pass a positive mtuBytes');
  const pairs: Pair[] = [];
  const counters = { oversizeDropped: 0 };
  let linkCount = 0;
  let serverClosed = false;

  const server: ServerTransport = {
    onconnection: null,
    close(): void {
      serverClosed = true;
      for (const pair of pairs) pair.client.close('server closed');
    },
  };

  function pairOf(link: Link): Pair {
    if (!(link instanceof MemoryLink)) {
      return usageError('link does not belong to this memory network', 'pass a link returned by this network');
    }
    return link.pair;
  }

  function connect(conditions: LinkPairConditions = {}, options: { remoteAddress?: string } = {}): Link {
    const index = linkCount++;
    const client = new MemoryLink(mtuBytes, 'up', counters);
    const serverEnd = new MemoryLink(mtuBytes, 'down', counters);
    serverEnd.remoteAddress = options.remoteAddress;
    const pair: Pair = {
      up: createLinkConditioner(conditions.up ?? {}, createRandom(deriveSeed(seed, 2 * index)), clock),
      down: createLinkConditioner(conditions.down ?? {}, createRandom(deriveSeed(seed, 2 * index + 1)), clock),
      client,
      server: serverEnd,
      isCut: false,
      closeReason: serverClosed ? 'server closed' : null,
      closeFired: false,
      oversizeDropped: 0,
      cutDropped: 0,
    };
    client.pair = pair;
    serverEnd.pair = pair;
    pairs.push(pair);
    if (!serverClosed) server.onconnection?.(serverEnd);
    return client;
  }

  function pump(): void {
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i];
      if (pair.closeReason !== null) {
        if (!pair.closeFired) {
          pair.closeFired = true;
          pair.client.onclose?.(pair.closeReason);
          pair.server.onclose?.(pair.closeReason);
        }
        continue;
      }
      if (pair.isCut) {
        pair.cutDropped += pair.up.pendingCount + pair.down.pendingCount;
        pair.up.clear();
        pair.down.clear();
        continue;
      }
      // A callback may close the link mid-delivery; the closed check drops the rest.
      pair.up.pollDue((p) => {
        if (pair.closeReason === null) pair.server.onpacket?.(p);
      });
      pair.down.pollDue((p) => {
        if (pair.closeReason === null) pair.client.onpacket?.(p);
      });
    }
    // Forget links whose close has been reported.
    let w = 0;
    for (let i = 0; i < pairs.length; i++) if (!pairs[i].closeFired) pairs[w++] = pairs[i];
    pairs.length = w;
  }

  return {
    server,
    connect,
    clientTransport(conditions?: LinkPairConditions): ClientTransport {
      return { connect: () => Promise.resolve(connect(conditions)) };
    },
    pump,
    setConditions(link: Link, conditions: LinkPairConditions): void {
      const pair = pairOf(link);
      if (conditions.up) pair.up.setConditions(conditions.up);
      if (conditions.down) pair.down.setConditions(conditions.down);
    },
    cut(link: Link): void {
      pairOf(link).isCut = true;
    },
    restore(link: Link): void {
      pairOf(link).isCut = false;
    },
    linkStats(link: Link): MemoryLinkStats {
      const pair = pairOf(link);
      return {
        up: { ...pair.up.stats },
        down: { ...pair.down.stats },
        oversizeDropped: pair.oversizeDropped,
        cutDropped: pair.cutDropped,
      };
    },
    get oversizeDropped() {
      return counters.oversizeDropped;
    },
  };
}
