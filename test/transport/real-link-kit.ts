/**
 * Shared by the tests of the real-network transports: bounded waits on real timers, and a paced exchange of seeded
 * packets that checks every packet arrives once and byte-identical.
 */
import { expect } from 'vitest';
import { createRandom } from '../../src/random.ts';
import type { Random } from '../../src/random.ts';
import { MAX_PACKET_BYTES } from '../../src/transport/transport.ts';
import type { Link } from '../../src/transport/transport.ts';

/** Resolves after `ms` real milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 5 ms; throws naming `what` when it is still false after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: string | (() => string),
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await sleep(5);
  }
}

/** A packet of `size` bytes (>= 4): its index as u32, then seeded random bytes. */
export function makePacket(random: Random, index: number, size: number): Uint8Array {
  const packet = new Uint8Array(size);
  new DataView(packet.buffer).setUint32(0, index);
  for (let i = 4; i < size; i++) packet[i] = random.int(256);
  return packet;
}

/** Packet sizes for an exchange: both extremes, then seeded sizes in between. */
function sizeOf(random: Random, index: number): number {
  if (index === 0) return 4;
  if (index === 1) return MAX_PACKET_BYTES;
  return 4 + random.int(MAX_PACKET_BYTES - 3);
}

/** One direction of an exchange: what was sent, what arrived. */
interface Flow {
  name: string;
  sent: Uint8Array[];
  received: Map<number, Uint8Array>;
  duplicates: number;
}

function listen(link: Link, flow: Flow): void {
  link.onpacket = (packet) => {
    const index = new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(0);
    if (flow.received.has(index)) flow.duplicates++;
    flow.received.set(index, new Uint8Array(packet));
  };
}

/**
 * Sends `count` packets (4..MTU bytes) each way over every [client, server] pair, a few per millisecond, then checks
 * that each arrived exactly once with identical bytes.
 */
export async function exchangePackets(pairs: Array<[Link, Link]>, count: number, seed: number): Promise<void> {
  const random = createRandom(seed);
  const flows: Flow[] = [];
  const senders: Array<[Link, Flow]> = [];
  pairs.forEach(([client, server], p) => {
    const up: Flow = { name: `client ${p} -> server`, sent: [], received: new Map(), duplicates: 0 };
    const down: Flow = { name: `server -> client ${p}`, sent: [], received: new Map(), duplicates: 0 };
    listen(server, up);
    listen(client, down);
    flows.push(up, down);
    senders.push([client, up], [server, down]);
  });
  for (let i = 0; i < count; i++) {
    for (const [link, flow] of senders) {
      const packet = makePacket(random, i, sizeOf(random, i));
      flow.sent.push(packet);
      link.send(packet);
    }
    await sleep(1);
  }
  const total = (): number => flows.reduce((sum, flow) => sum + flow.received.size, 0);
  await waitFor(
    () => total() === flows.length * count,
    5000,
    () => `${flows.length * count} packets (got ${total()})`,
  );
  for (const flow of flows) {
    expect(flow.duplicates, `${flow.name}: duplicates`).toBe(0);
    for (let i = 0; i < count; i++) {
      expect(flow.received.get(i), `${flow.name}: packet ${i}`).toEqual(flow.sent[i]);
    }
  }
}
