/**
 * Packet-level acknowledgement bookkeeping (Gaffer-style): which packet sequences we received from the peer
 * (to write ack + 32 ack bits), and what became of each packet we sent (pending, acked, lost).
 */
import { seqAdd, seqDiff, seqGreaterThan } from './packet-header.ts';

/**
 * Packets remembered on each side: ~2 s of traffic at 8 packets per 60 Hz tick. Packets received further back
 * than this are dropped as stale; sent packets still pending this far back are declared lost.
 */
export const SEQUENCE_WINDOW_PACKETS = 1024;
const MASK = SEQUENCE_WINDOW_PACKETS - 1;

/** Bits of the ack field after `ack` itself. */
export const ACK_BITS = 32;

/** How a received sequence number relates to what came before. */
export const ReceivedKind = {
  New: 0,
  Duplicate: 1,
  /** Older than the window: cannot be told apart from a duplicate, so it is dropped. */
  Stale: 2,
} as const;

/** Tracks received packet sequences to answer "seen before?" and to produce the ack header fields. */
export class ReceivedPacketWindow {
  private readonly seqs = new Int32Array(SEQUENCE_WINDOW_PACKETS).fill(-1);
  private newest = 0;
  private any = false;

  /** True once any packet has been recorded, i.e. the ack fields mean something. */
  get hasAny(): boolean {
    return this.any;
  }

  /** Newest sequence received (the header's `ack`). */
  get ack(): number {
    return this.newest;
  }

  /** Classifies `seq` without recording it. */
  classify(seq: number): number {
    if (!this.any) return ReceivedKind.New;
    if (seqDiff(seq, this.newest) <= -SEQUENCE_WINDOW_PACKETS) return ReceivedKind.Stale;
    return this.seqs[seq & MASK] === seq ? ReceivedKind.Duplicate : ReceivedKind.New;
  }

  /** Records `seq` as received (call only for packets accepted whole). */
  record(seq: number): void {
    if (!this.any) {
      this.any = true;
      this.newest = seq;
    } else if (seqGreaterThan(seq, this.newest)) {
      const gap = seqDiff(seq, this.newest);
      if (gap >= SEQUENCE_WINDOW_PACKETS) this.seqs.fill(-1);
      else for (let i = 1; i < gap; i++) this.seqs[(this.newest + i) & MASK] = -1;
      this.newest = seq;
    }
    this.seqs[seq & MASK] = seq;
  }

  /** Bit i set when packet (ack - 1 - i) was received. */
  ackBits(): number {
    let bits = 0;
    for (let i = 0; i < ACK_BITS; i++) {
      const s = seqAdd(this.newest, -1 - i);
      if (this.seqs[s & MASK] === s) bits |= 1 << i;
    }
    return bits >>> 0;
  }
}

/** Fate of a sent packet. */
export const SentState = {
  Free: 0,
  Pending: 1,
  Acked: 2,
  Lost: 3,
  /** Declared lost, then acked after all: its data arrived, but `onPacketAcked` does not fire. */
  AckedAfterLost: 4,
} as const;

/** A pending packet is lost once this many later packets were acked: tolerates mild reordering (as TCP's 3 dupacks). */
export const REORDER_TOLERANCE_PACKETS = 3;

/** Ring buffer of sent packets: send time, size, fate and a payload (what reliable data it carried). */
export class SentPacketWindow<T> {
  readonly seqs = new Int32Array(SEQUENCE_WINDOW_PACKETS).fill(-1);
  readonly sentAtMs = new Float64Array(SEQUENCE_WINDOW_PACKETS);
  readonly bytes = new Int32Array(SEQUENCE_WINDOW_PACKETS);
  readonly state = new Uint8Array(SEQUENCE_WINDOW_PACKETS);
  readonly payload: (T | null)[] = new Array<T | null>(SEQUENCE_WINDOW_PACKETS).fill(null);
  private nextSeq = 0;
  private oldestUnresolved = 0;
  private highestAckField = 0;
  private anyAck = false;

  /** Sequence number the next `add` must use. */
  get next(): number {
    return this.nextSeq;
  }

  /** Slot of `seq`, or -1 when it is not (or no longer) remembered. */
  find(seq: number): number {
    const slot = seq & MASK;
    return this.seqs[slot] === seq ? slot : -1;
  }

  /**
   * Records the packet numbered `this.next`; returns its slot. A packet still pending in the reused slot is
   * declared lost first, through `onLost`.
   */
  add(nowMs: number, bytes: number, payload: T | null, onLost: (seq: number, slot: number) => void): number {
    const seq = this.nextSeq;
    const slot = seq & MASK;
    if (this.seqs[slot] !== -1 && this.state[slot] === SentState.Pending) {
      this.state[slot] = SentState.Lost;
      onLost(this.seqs[slot], slot);
    }
    this.seqs[slot] = seq;
    this.sentAtMs[slot] = nowMs;
    this.bytes[slot] = bytes;
    this.state[slot] = SentState.Pending;
    this.payload[slot] = payload;
    this.nextSeq = seqAdd(seq, 1);
    if (seqDiff(this.nextSeq, this.oldestUnresolved) > SEQUENCE_WINDOW_PACKETS) {
      this.oldestUnresolved = seqAdd(this.nextSeq, -SEQUENCE_WINDOW_PACKETS);
    }
    return slot;
  }

  /** Notes the `ack` field of a valid incoming header (for the "fell out of the ack bits" loss rule). */
  noteAckField(ack: number): void {
    if (!this.anyAck || seqGreaterThan(ack, this.highestAckField)) this.highestAckField = ack;
    this.anyAck = true;
  }

  /**
   * Applies an ack of `seq`: returns its slot with the state changed to Acked (was Pending) or AckedAfterLost
   * (was Lost), or -1 when the ack is not news (unknown sequence, or already acked).
   */
  ack(seq: number): number {
    const slot = this.find(seq);
    if (slot < 0) return -1;
    const s = this.state[slot];
    if (s === SentState.Pending) this.state[slot] = SentState.Acked;
    else if (s === SentState.Lost) this.state[slot] = SentState.AckedAfterLost;
    else return -1;
    return slot;
  }

  private isAcked(slot: number): boolean {
    const s = this.state[slot];
    return s === SentState.Acked || s === SentState.AckedAfterLost;
  }

  /**
   * Declares lost every pending packet that is (a) followed by REORDER_TOLERANCE_PACKETS acked packets,
   * (b) older than the newest ack field minus ACK_BITS (no future header can ack it), or (c) older than
   * `timeoutMs`. Calls `onLost` for each, oldest first.
   */
  sweep(nowMs: number, timeoutMs: number, onLost: (seq: number, slot: number) => void): void {
    const span = seqDiff(this.nextSeq, this.oldestUnresolved);
    let ackedAfter = 0;
    for (let i = 0; i < span; i++) {
      const slot = this.find(seqAdd(this.oldestUnresolved, i));
      if (slot >= 0 && this.isAcked(slot)) ackedAfter++;
    }
    for (let i = 0; i < span; i++) {
      const seq = seqAdd(this.oldestUnresolved, i);
      const slot = this.find(seq);
      if (slot < 0) continue;
      if (this.isAcked(slot)) ackedAfter--;
      else if (
        this.state[slot] === SentState.Pending &&
        (ackedAfter >= REORDER_TOLERANCE_PACKETS ||
          (this.anyAck && seqDiff(this.highestAckField, seq) > ACK_BITS) ||
          nowMs - this.sentAtMs[slot] > timeoutMs)
      ) {
        this.state[slot] = SentState.Lost;
        onLost(seq, slot);
      }
    }
    while (this.oldestUnresolved !== this.nextSeq) {
      const slot = this.find(this.oldestUnresolved);
      if (slot >= 0 && this.state[slot] === SentState.Pending) break;
      this.oldestUnresolved = seqAdd(this.oldestUnresolved, 1);
    }
  }
}
