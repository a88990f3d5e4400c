/**
 * Delivery state of a hand stream, one per connection end. The sender remembers the codes it sent per hand in each
 * message and which messages were acked: a hand's next body is coded against the newest acked frame (or whole, when
 * there is none within reach or a periodic whole body is due). The receiver keeps the codes it got per hand per
 * frame, so any acked frame can serve as a baseline. Both are bounded; the receiver counts what it refuses.
 */
import { MAX_HAND_BACK } from './hand-codec.ts';
import { HAND_PARAM_COUNT } from './hand-skeleton.ts';
import type { HandBaselineSource } from './hand-stream-codec.ts';

/** Frames remembered per hand: every baseline distance (1..63) plus the current frame. */
export const HAND_RING_FRAMES = MAX_HAND_BACK + 1;
/**
 * A hand's body is sent whole at least every 60 messages (2 s at 30 Hz): a receiver that lost its state (a restart,
 * an eviction, a message cut short at a missing baseline) recovers within that, for ~0.3 B per message on average.
 */
export const HAND_WHOLE_INTERVAL = 60;
/** Packets whose hand message is remembered until acked (later acks of older packets are ignored). */
const PACKET_RING = 64;

/** What a sender keeps per hand. */
export interface SentHand {
  readonly netId: number;
  readonly codes: Int32Array;
  readonly frameOf: Float64Array;
  readonly trackedIn: Uint8Array;
  /** Newest acked frame that carried the hand tracked (-1: none). */
  acked: number;
  /** Frame of the last whole body. */
  lastWhole: number;
  /** Whether a message saying "not tracked" was acked since the hand was last sent tracked. */
  offAcked: boolean;
  /** Free for the owner of the state (e.g. the server's version of the sample last sent). */
  sentVersion: number;
  lastSentFrame: number;
  /** Last frame that carried the hand tracked. */
  lastTrackedFrame: number;
}

/** The sender's side of one connection's hand stream. */
export class HandSendState {
  /** Number of the next message. */
  frame = 1;
  readonly hands = new Map<number, SentHand>();
  private readonly packetSeq = new Float64Array(PACKET_RING).fill(-1);
  private readonly packetFrame = new Float64Array(PACKET_RING);

  /** The state of hand `netId` (created on first use). */
  hand(netId: number): SentHand {
    let h = this.hands.get(netId);
    if (!h) {
      h = {
        netId,
        codes: new Int32Array(HAND_RING_FRAMES * HAND_PARAM_COUNT),
        frameOf: new Float64Array(HAND_RING_FRAMES).fill(-1),
        trackedIn: new Uint8Array(HAND_RING_FRAMES),
        acked: -1,
        lastWhole: -Infinity,
        offAcked: true,
        sentVersion: -1,
        lastSentFrame: -Infinity,
        lastTrackedFrame: -Infinity,
      };
      this.hands.set(netId, h);
    }
    return h;
  }

  /** The baseline distance for hand `h` in the current message (0: send it whole). */
  backFor(h: SentHand): number {
    const f = this.frame;
    if (h.acked < 0 || f - h.lastWhole >= HAND_WHOLE_INTERVAL) return 0;
    const back = f - h.acked;
    return back >= 1 && back <= MAX_HAND_BACK && h.frameOf[h.acked % HAND_RING_FRAMES] === h.acked ? back : 0;
  }

  /** The codes hand `h` had in frame `frame` (a slice view of the ring). */
  codesAt(h: SentHand, frame: number): Int32Array {
    const s = (frame % HAND_RING_FRAMES) * HAND_PARAM_COUNT;
    return h.codes.subarray(s, s + HAND_PARAM_COUNT);
  }

  /** Records hand `h` as sent in the current message: tracked with `codes`, or not tracked. */
  record(h: SentHand, tracked: boolean, codes: ArrayLike<number> | null, whole: boolean): void {
    const f = this.frame;
    const slot = f % HAND_RING_FRAMES;
    h.frameOf[slot] = f;
    h.trackedIn[slot] = tracked ? 1 : 0;
    if (tracked && codes) {
      for (let i = 0; i < HAND_PARAM_COUNT; i++) h.codes[slot * HAND_PARAM_COUNT + i] = codes[i];
      h.offAcked = false;
      h.lastTrackedFrame = f;
    }
    if (whole) h.lastWhole = f;
    h.lastSentFrame = f;
  }

  /** The current message went out in packet `seq` (a sequence from Connection.nextPacketSeq); the next one begins. */
  sent(seq: number): void {
    const slot = seq % PACKET_RING;
    this.packetSeq[slot] = seq;
    this.packetFrame[slot] = this.frame;
    this.frame++;
  }

  /** Packet `seq` was acked: its hands' frames become baselines. */
  acked(seq: number): void {
    const slot = seq % PACKET_RING;
    if (this.packetSeq[slot] !== seq) return;
    this.packetSeq[slot] = -1;
    const f = this.packetFrame[slot];
    const ring = f % HAND_RING_FRAMES;
    for (const h of this.hands.values()) {
      if (h.frameOf[ring] !== f) continue;
      if (h.trackedIn[ring]) {
        if (f > h.acked) h.acked = f;
      } else if (f > h.lastTrackedFrame) h.offAcked = true;
    }
  }

  /** Forgets a hand (its entity left). */
  remove(netId: number): void {
    this.hands.delete(netId);
  }
}

/** What a receiver keeps per hand. */
interface ReceivedHand {
  readonly codes: Int32Array;
  readonly frameOf: Float64Array;
  lastUse: number;
}

/** The receiver's side of one connection's hand stream (at most `maxHands` hands). */
export class HandReceiveState implements HandBaselineSource {
  private readonly hands = new Map<number, ReceivedHand>();
  private readonly maxHands: number;
  private uses = 0;
  /** Hands refused or evicted because the state was full. */
  evicted = 0;

  constructor(maxHands: number) {
    this.maxHands = maxHands;
  }

  get size(): number {
    return this.hands.size;
  }

  baseline(netId: number, frame: number): Int32Array | null {
    const h = this.hands.get(netId);
    const slot = frame % HAND_RING_FRAMES;
    if (!h || h.frameOf[slot] !== frame) return null;
    return h.codes.subarray(slot * HAND_PARAM_COUNT, (slot + 1) * HAND_PARAM_COUNT);
  }

  /** Keeps hand `netId`'s codes of message `frame` (the least recently used hand makes room when full). */
  store(netId: number, frame: number, codes: ArrayLike<number>, o: number): void {
    let h = this.hands.get(netId);
    if (!h) {
      if (this.hands.size >= this.maxHands) this.evictOldest();
      h = {
        codes: new Int32Array(HAND_RING_FRAMES * HAND_PARAM_COUNT),
        frameOf: new Float64Array(HAND_RING_FRAMES).fill(-1),
        lastUse: 0,
      };
      this.hands.set(netId, h);
    }
    h.lastUse = ++this.uses;
    const slot = frame % HAND_RING_FRAMES;
    h.frameOf[slot] = frame;
    for (let i = 0; i < HAND_PARAM_COUNT; i++) h.codes[slot * HAND_PARAM_COUNT + i] = codes[o + i];
  }

  /** Forgets hand `netId`. */
  remove(netId: number): void {
    this.hands.delete(netId);
  }

  private evictOldest(): void {
    let oldest = -1;
    let min = Infinity;
    for (const [id, h] of this.hands) {
      if (h.lastUse < min) {
        min = h.lastUse;
        oldest = id;
      }
    }
    if (oldest >= 0) this.hands.delete(oldest);
    this.evicted++;
  }
}
