/**
 * The receiving half of reliable-ordered messages: checks reliable entries against the receive window,
 * reassembles fragments and hands messages over exactly once, in id order.
 *
 * A packet is checked whole (`beginPacket` + `check` per entry + `fits`) before any entry is applied, so a bad
 * packet changes nothing.
 *
 * Memory follows what arrived, never what a peer claims: each fragment is kept as its own copy until the message
 * is complete, so a first fragment claiming 8,192 fragments costs one fragment, not 8 MiB. Every byte held
 * (fragments, bookkeeping, out-of-order whole messages, the next-in-order message included) counts against the
 * buffer limit, which the session lowers before the handshake completes (`setLimits`).
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

/**
 * Bytes charged per stored fragment on top of its payload: V8 spends about this much on the copy's ArrayBuffer,
 * its view and the map entry, so the limit bounds real memory, not just payload.
 */
export const FRAGMENT_BOOKKEEPING_BYTES = 128;
/** Bytes charged per message being reassembled (its record and map). */
export const ASSEMBLY_BOOKKEEPING_BYTES = 256;

interface Assembly {
  id: number;
  /** Fragment count, 0 for a whole message. */
  count: number;
  /** Fragments received so far by index (null for a whole message). */
  parts: Map<number, Uint8Array> | null;
  /** The whole message once complete. */
  buffer: Uint8Array | null;
  /** Final length, known once the last fragment arrived. */
  length: number;
  /** Bytes charged to `bufferedBytes` for this message. */
  charged: number;
  complete: boolean;
}

const MASK = RELIABLE_ID_WINDOW - 1;

/** Receiver state of reliable-ordered messages. */
export class ReliableReceiver {
  /** Id of the next message to deliver. */
  private nextId = 0;
  // Allocated at the first message that must be held (4,096 slots): a link that only ever sends small messages in
  // order, such as a Hello, never pays for it.
  private slots: (Assembly | null)[] | null = null;
  /** Bytes held (payload plus bookkeeping) for messages received but not yet delivered. */
  bufferedBytes = 0;
  private maxMessageBytes: number;
  private maxBufferedBytes: number;
  private maxFragments: number;
  // Per-packet check state: new ids claimed by earlier entries of the packet being checked (id, count pairs).
  private readonly claims: number[] = [];
  private claimedBytes = 0;

  constructor(maxMessageBytes: number, maxBufferedBytes: number) {
    this.maxMessageBytes = maxMessageBytes;
    this.maxBufferedBytes = maxBufferedBytes;
    this.maxFragments = Math.ceil(maxMessageBytes / RELIABLE_FRAGMENT_BYTES);
  }

  /**
   * Changes the largest message and the buffer limit for entries checked from now on (what is held stays). The
   * server keeps both small until the handshake completes.
   */
  setLimits(maxMessageBytes: number, maxBufferedBytes: number): void {
    this.maxMessageBytes = maxMessageBytes;
    this.maxBufferedBytes = maxBufferedBytes;
    this.maxFragments = Math.ceil(maxMessageBytes / RELIABLE_FRAGMENT_BYTES);
  }

  /** Drops every message held (the connection closed). */
  release(): void {
    this.slots = null;
    this.bufferedBytes = 0;
  }

  /** Bytes a message of `bytes` would need to be held whole by this receiver, bookkeeping included. */
  static heldBytes(bytes: number): number {
    const fragments = Math.ceil(bytes / RELIABLE_FRAGMENT_BYTES);
    return bytes + ASSEMBLY_BOOKKEEPING_BYTES + fragments * FRAGMENT_BOOKKEEPING_BYTES;
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
    const existing = this.slots === null ? null : this.slots[e.id & MASK];
    if (existing !== null) {
      if (existing.count !== count) return EntryCheck.Bad;
      if (whole || existing.complete || existing.parts!.has(e.index)) return EntryCheck.Duplicate;
      this.claimedBytes += e.length + FRAGMENT_BOOKKEEPING_BYTES;
      return EntryCheck.Ok;
    }
    const claims = this.claims;
    let claimed = false;
    for (let i = 0; i < claims.length; i += 2) {
      if (claims[i] !== e.id) continue;
      if (claims[i + 1] !== count) return EntryCheck.Bad;
      claimed = true;
      break;
    }
    if (!claimed) {
      claims.push(e.id, count);
      // A whole message delivered at once is never held; anything else is, the next-in-order message included.
      if (whole) {
        if (ahead > 0) this.claimedBytes += e.length + ASSEMBLY_BOOKKEEPING_BYTES;
        return EntryCheck.Ok;
      }
      this.claimedBytes += ASSEMBLY_BOOKKEEPING_BYTES;
    } else if (whole) {
      return EntryCheck.Ok; // a second copy within the packet: applied once
    }
    // Fragments of one id repeated within a packet are charged twice: a harmless overestimate.
    this.claimedBytes += e.length + FRAGMENT_BOOKKEEPING_BYTES;
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
      if (this.slots !== null && this.slots[slot] !== null) return;
      if (ahead === 0) {
        this.nextId = seqAdd(this.nextId, 1);
        deliver(payload);
      } else {
        const charged = e.length + ASSEMBLY_BOOKKEEPING_BYTES;
        this.bufferedBytes += charged;
        this.heldSlots()[slot] = {
          id: e.id,
          count: 0,
          parts: null,
          buffer: payload.slice(),
          length: e.length,
          charged,
          complete: true,
        };
      }
    } else {
      const slots = this.heldSlots();
      let a = slots[slot];
      if (a !== null && a.complete) return;
      if (a === null) {
        this.bufferedBytes += ASSEMBLY_BOOKKEEPING_BYTES;
        a = {
          id: e.id,
          count: e.count,
          parts: new Map(),
          buffer: null,
          length: 0,
          charged: ASSEMBLY_BOOKKEEPING_BYTES,
          complete: false,
        };
        slots[slot] = a;
      }
      const parts = a.parts!;
      if (parts.has(e.index)) return;
      parts.set(e.index, payload.slice());
      const charge = e.length + FRAGMENT_BOOKKEEPING_BYTES;
      a.charged += charge;
      this.bufferedBytes += charge;
      if (e.index === e.count - 1) a.length = e.index * RELIABLE_FRAGMENT_BYTES + e.length;
      if (parts.size === a.count) {
        // Complete: one copy of the whole message replaces the fragments.
        const buffer = new Uint8Array(a.length);
        for (let i = 0; i < a.count; i++) buffer.set(parts.get(i)!, i * RELIABLE_FRAGMENT_BYTES);
        a.buffer = buffer;
        a.parts = null;
        a.complete = true;
      }
    }
    this.drain(deliver);
  }

  private heldSlots(): (Assembly | null)[] {
    return (this.slots ??= new Array<Assembly | null>(RELIABLE_ID_WINDOW).fill(null));
  }

  // Delivers every complete message at the head of the order.
  private drain(deliver: (message: Uint8Array) => void): void {
    const slots = this.slots;
    if (slots === null) return;
    for (;;) {
      const slot = this.nextId & MASK;
      const a = slots[slot];
      if (a === null || !a.complete) return;
      slots[slot] = null;
      this.bufferedBytes -= a.charged;
      this.nextId = seqAdd(this.nextId, 1);
      deliver(a.buffer!.subarray(0, a.length));
    }
  }
}
