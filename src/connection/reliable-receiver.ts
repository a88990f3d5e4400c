/**
 * The receiving half of reliable-ordered messages: checks reliable entries against the receive window,
 * reassembles fragments and hands messages over exactly once, in id order.
 *
 * A packet is checked whole (`beginPacket` + `check` per entry + `fits`) before any entry is applied, so a bad
 * packet changes nothing.
 */
import { seqAdd, seqDiff } from './packet-header.ts';
import { EntryKind, RELIABLE_FRAGMENT_BYTES } from './packet-entries.ts';
import type { ParsedEntry } from './packet-entries.ts';
import { RELIABLE_ID_WINDOW } from './reliable-sender.ts';

/** Verdict of `check` on one reliable entry. */
export const EntryCheck = {
  /** Apply it. */
  Ok: 0,
  /** Already have it (or already delivered): harmless, nothing to apply. */
  Duplicate: 1,
  /** Malformed or contradicting what came before: drop the packet as a decode error. */
  Bad: 2,
  /** Claims a message larger than allowed: drop the packet, report `Oversize`. */
  Oversize: 3,
} as const;

interface Assembly {
  id: number;
  /** Fragment count, 0 for a whole message. */
  count: number;
  received: Uint8Array | null;
  receivedCount: number;
  buffer: Uint8Array;
  /** Final length, known once the last fragment arrived. */
  length: number;
  complete: boolean;
}

const MASK = RELIABLE_ID_WINDOW - 1;

/** Receiver state of reliable-ordered messages. */
export class ReliableReceiver {
  /** Id of the next message to deliver. */
  private nextId = 0;
  private readonly slots: (Assembly | null)[] = new Array<Assembly | null>(RELIABLE_ID_WINDOW).fill(null);
  /** Bytes allocated for messages received but not yet delivered. */
  bufferedBytes = 0;
  private readonly maxFragments: number;
  // Per-packet check state: new ids claimed by earlier entries of the packet being checked (id, count pairs).
  private readonly claims: number[] = [];
  private claimedBytes = 0;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly maxBufferedBytes: number,
  ) {
    this.maxFragments = Math.ceil(maxMessageBytes / RELIABLE_FRAGMENT_BYTES);
  }

  /** Id of the last message delivered; 0xffff before the first (ids start at 0). */
  get lastDelivered(): number {
    return seqAdd(this.nextId, -1);
  }

  /** True when message `id` was delivered (ids up to 32,767 behind `lastDelivered` count as delivered). */
  isDelivered(id: number): boolean {
    return seqDiff(id & 0xffff, this.lastDelivered) <= 0;
  }

  /** Starts checking a new packet. */
  beginPacket(): void {
    this.claims.length = 0;
    this.claimedBytes = 0;
  }

  /** Checks one reliable entry of the packet being checked, without changing any delivered state. */
  check(e: ParsedEntry): number {
    const whole = e.kind === EntryKind.Reliable;
    if (whole) {
      if (e.length > this.maxMessageBytes) return EntryCheck.Oversize;
    } else {
      if (e.count < 2 || e.index >= e.count) return EntryCheck.Bad;
      if (e.count > this.maxFragments) return EntryCheck.Oversize;
      if (e.index < e.count - 1) {
        if (e.length !== RELIABLE_FRAGMENT_BYTES) return EntryCheck.Bad;
      } else {
        if (e.length < 1 || e.length > RELIABLE_FRAGMENT_BYTES) return EntryCheck.Bad;
        if ((e.count - 1) * RELIABLE_FRAGMENT_BYTES + e.length > this.maxMessageBytes) return EntryCheck.Oversize;
      }
    }
    const ahead = seqDiff(e.id, this.nextId);
    if (ahead < 0) return EntryCheck.Duplicate;
    if (ahead >= RELIABLE_ID_WINDOW) return EntryCheck.Bad;
    const count = whole ? 0 : e.count;
    const existing = this.slots[e.id & MASK];
    if (existing !== null) {
      if (existing.count !== count) return EntryCheck.Bad;
      if (whole || existing.received![e.index] === 1) return EntryCheck.Duplicate;
      return EntryCheck.Ok;
    }
    const claims = this.claims;
    for (let i = 0; i < claims.length; i += 2) {
      if (claims[i] === e.id) return claims[i + 1] === count ? EntryCheck.Ok : EntryCheck.Bad;
    }
    claims.push(e.id, count);
    // The message delivered next never counts against the buffer limit, so progress is always possible.
    if (ahead > 0) this.claimedBytes += whole ? e.length : count * RELIABLE_FRAGMENT_BYTES;
    return EntryCheck.Ok;
  }

  /** True when the messages the checked packet would start fit the receive buffer limit. */
  fits(): boolean {
    return this.bufferedBytes + this.claimedBytes <= this.maxBufferedBytes;
  }

  /** Applies an entry that `check` passed as Ok or Duplicate; hands completed messages to `deliver` in order. */
  apply(e: ParsedEntry, packet: Uint8Array, deliver: (message: Uint8Array) => void): void {
    const ahead = seqDiff(e.id, this.nextId);
    if (ahead < 0) return;
    const slot = e.id & MASK;
    const payload = packet.subarray(e.start, e.start + e.length);
    if (e.kind === EntryKind.Reliable) {
      if (this.slots[slot] !== null) return;
      if (ahead === 0) {
        this.nextId = seqAdd(this.nextId, 1);
        deliver(payload);
      } else {
        this.bufferedBytes += e.length;
        this.slots[slot] = {
          id: e.id,
          count: 0,
          received: null,
          receivedCount: 1,
          buffer: payload.slice(),
          length: e.length,
          complete: true,
        };
      }
    } else {
      let a = this.slots[slot];
      if (a === null) {
        const bytes = e.count * RELIABLE_FRAGMENT_BYTES;
        this.bufferedBytes += bytes;
        a = {
          id: e.id,
          count: e.count,
          received: new Uint8Array(e.count),
          receivedCount: 0,
          buffer: new Uint8Array(bytes),
          length: 0,
          complete: false,
        };
        this.slots[slot] = a;
      }
      const received = a.received!;
      if (received[e.index] === 1) return;
      received[e.index] = 1;
      a.receivedCount++;
      a.buffer.set(payload, e.index * RELIABLE_FRAGMENT_BYTES);
      if (e.index === e.count - 1) a.length = e.index * RELIABLE_FRAGMENT_BYTES + e.length;
      if (a.receivedCount === a.count) a.complete = true;
    }
    this.drain(deliver);
  }

  // Delivers every complete message at the head of the order.
  private drain(deliver: (message: Uint8Array) => void): void {
    for (;;) {
      const slot = this.nextId & MASK;
      const a = this.slots[slot];
      if (a === null || !a.complete) return;
      this.slots[slot] = null;
      this.bufferedBytes -= a.buffer.length;
      this.nextId = seqAdd(this.nextId, 1);
      deliver(a.buffer.subarray(0, a.length));
    }
  }
}
