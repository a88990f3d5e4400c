/**
 * The sending half of reliable-ordered messages: ids, fragmentation, flow control and resend timing.
 * Which packet carries which fragment, and acks of those packets, are the connection's business; this class
 * only answers "what is due now?" and learns "this fragment was sent / acked / its packet was lost".
 */
import { NetError } from '../errors.ts';
import { seqAdd, seqDiff } from './packet-header.ts';
import { RELIABLE_FRAGMENT_BYTES, fragmentEntryBytes, reliableEntryBytes } from './packet-entries.ts';

/**
 * Reliable messages that may be in flight (sent, not yet acked in order) at once. The receiver accepts ids up to
 * this far ahead of the next one it delivers; well under half the u16 id space, so old and new ids never mix.
 */
export const RELIABLE_ID_WINDOW = 4096;

/** One unit of reliable data on the wire: a whole small message or one fragment of a large one. */
export interface OutgoingFragment {
  readonly message: OutgoingMessage;
  /** Fragment index (0 for a whole message). */
  readonly index: number;
  /** Payload bytes (a view into the message copy). */
  readonly data: Uint8Array;
  /** Bytes of its packet entry, framing included. */
  readonly entryBytes: number;
  acked: boolean;
  sendCount: number;
  /** Time at which it is due again if still not acked. */
  resendAtMs: number;
  /** Sequence of the packet that carried it last. */
  lastSentSeq: number;
}

/** A queued reliable message. */
export interface OutgoingMessage {
  readonly id: number;
  readonly byteLength: number;
  /** Fragment count on the wire, 0 when sent whole. */
  readonly count: number;
  readonly fragments: OutgoingFragment[];
  ackedCount: number;
  started: boolean;
}

/** Sender state of reliable-ordered messages. */
export class ReliableSender {
  private readonly queue: OutgoingMessage[] = [];
  private head = 0;
  /** Id the last `enqueue` returned; 0xffff before the first, so the first message is id 0. */
  lastId = 0xffff;
  /** Bytes of messages that started sending and are not yet released (acked in order). */
  startedBytes = 0;
  /** Bytes of every message not yet released. */
  pendingBytes = 0;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly windowBytes: number,
  ) {}

  /** Copies and queues a message; returns its id. Throws `Oversize` above the limit (a programmer mistake). */
  enqueue(message: Uint8Array): number {
    const length = message.length;
    if (length > this.maxMessageBytes) {
      throw new NetError('Oversize', `reliable message of ${length} bytes exceeds ${this.maxMessageBytes}`, {
        fix: 'split the payload, or raise maxReliableMessageBytes on both peers',
      });
    }
    const id = seqAdd(this.lastId, 1);
    this.lastId = id;
    const data = message.slice();
    const count = length <= RELIABLE_FRAGMENT_BYTES ? 0 : Math.ceil(length / RELIABLE_FRAGMENT_BYTES);
    const fragments: OutgoingFragment[] = [];
    const msg: OutgoingMessage = { id, byteLength: length, count, fragments, ackedCount: 0, started: false };
    if (count === 0) {
      fragments.push(this.fragment(msg, 0, data, reliableEntryBytes(length)));
    } else {
      for (let i = 0; i < count; i++) {
        const part = data.subarray(i * RELIABLE_FRAGMENT_BYTES, Math.min(length, (i + 1) * RELIABLE_FRAGMENT_BYTES));
        fragments.push(this.fragment(msg, i, part, fragmentEntryBytes(part.length, i, count)));
      }
    }
    this.queue.push(msg);
    this.pendingBytes += length;
    return id;
  }

  private fragment(message: OutgoingMessage, index: number, data: Uint8Array, entryBytes: number): OutgoingFragment {
    return { message, index, data, entryBytes, acked: false, sendCount: 0, resendAtMs: 0, lastSentSeq: -1 };
  }

  /** Messages queued or in flight and not yet released. */
  get pendingMessages(): number {
    return this.queue.length - this.head;
  }

  /** True when nothing is waiting to be acked. */
  get isIdle(): boolean {
    return this.head === this.queue.length;
  }

  /**
   * True when message `id` (an id `enqueue` returned) is released: it and every message before it were acked.
   * Ids are compared within half the 16-bit id space behind the oldest message not yet released.
   */
  isReleased(id: number): boolean {
    if (this.head === this.queue.length) return true;
    const behind = (this.queue[this.head].id - id) & 0xffff;
    return behind !== 0 && behind < 0x8000;
  }

  /**
   * Offers every fragment due at `nowMs` to `take`, oldest message first: unacked fragments whose resend time
   * has come, then new ones while the flow-control window and the id window allow. Stops when `take` says
   * there is no room. A message counts against the window from its first taken fragment.
   */
  collectDue(nowMs: number, take: (fragment: OutgoingFragment) => boolean): void {
    const headId = this.head < this.queue.length ? this.queue[this.head].id : 0;
    for (let m = this.head; m < this.queue.length; m++) {
      const msg = this.queue[m];
      if (!msg.started) {
        if (seqDiff(msg.id, headId) >= RELIABLE_ID_WINDOW) return;
        if (this.startedBytes > 0 && this.startedBytes + msg.byteLength > this.windowBytes) return;
      }
      const fragments = msg.fragments;
      for (let i = 0; i < fragments.length; i++) {
        const f = fragments[i];
        if (f.acked || (f.sendCount > 0 && nowMs < f.resendAtMs)) continue;
        if (!take(f)) return;
        if (!msg.started) {
          msg.started = true;
          this.startedBytes += msg.byteLength;
        }
      }
    }
  }

  /** Drops every queued message (the connection closed): a closed connection kept by a session holds nothing. */
  release(): void {
    this.queue.length = 0;
    this.head = 0;
    this.startedBytes = 0;
    this.pendingBytes = 0;
  }

  /** Notes that `fragment` left in packet `seq`; it is due again after `rtoMs` unless acked. */
  onSent(fragment: OutgoingFragment, seq: number, nowMs: number, rtoMs: number): void {
    fragment.sendCount++;
    fragment.lastSentSeq = seq;
    fragment.resendAtMs = nowMs + rtoMs;
  }

  /** Notes that a packet carrying `fragment` was acked; releases fully acked messages at the head. */
  onAcked(fragment: OutgoingFragment): void {
    if (fragment.acked) return;
    fragment.acked = true;
    fragment.message.ackedCount++;
    const queue = this.queue;
    while (this.head < queue.length && queue[this.head].ackedCount === queue[this.head].fragments.length) {
      const msg = queue[this.head];
      this.startedBytes -= msg.byteLength;
      this.pendingBytes -= msg.byteLength;
      this.head++;
    }
    if (this.head > 256 && this.head * 2 > queue.length) {
      queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Notes that packet `seq` was declared lost: fragments it carried last are due again at once. */
  onPacketLost(fragments: readonly OutgoingFragment[], seq: number, nowMs: number): void {
    for (let i = 0; i < fragments.length; i++) {
      const f = fragments[i];
      if (!f.acked && f.lastSentSeq === seq) f.resendAtMs = nowMs;
    }
  }
}
