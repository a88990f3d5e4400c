/**
 * HandInput (owner -> server) and HandFrames (server -> viewers): the tracked hands of one send, each hand body
 * delta-coded against a frame the receiver acknowledged (hand-codec.ts). Bit-packed, MSB-first, after the u16 tag:
 *
 *   1. varuint  frame          the sender's message number on this connection (baselines are named relative to it)
 *   2. 24 bits  time           quarter ms modulo 2^24: HandInput the capture time (owner clock), HandFrames the
 *                              server's send time
 *   3. varuint  handCount      <= MAX_HANDS_PER_MESSAGE
 *   4. per hand, ascending network id:
 *      a. varuint netId gap    (the first is the id itself; later gaps >= 1)
 *      b. 1 bit    tracked     0: the device is no longer a tracked hand (nothing else follows)
 *      c. HandFrames, tracked: varuint age ms (the sample's server time is time - age)
 *      d. tracked: hand body
 *
 * Decoding validates everything and never throws; a body whose baseline the receiver lacks ends the message there
 * (what came before it stands).
 */
import { Tag } from '../protocol/tags.ts';
import { beginMessage, type BitReader, type BitWriter } from '../replication/wire-bodies.ts';
import { HandBodyCodec } from './hand-codec.ts';
import { HAND_PARAM_COUNT } from './hand-skeleton.ts';

/** Most hands in one message: the owner's two plus room for extra tracked hands; viewers get 64 (32 users). */
export const MAX_HANDS_PER_MESSAGE = 64;
/** Most hands in one HandInput: a user's two plus two spare (extra tracked hands); the server refuses more. */
export const MAX_INPUT_HANDS = 4;
/** Longest sample age a HandFrames entry may carry (ms): older samples are not worth drawing. */
export const MAX_HAND_AGE_MS = 2000;
/** Quarter ms per ms of the time field; it wraps at 2^24 units (~70 min). */
export const HAND_TIME_UNITS_PER_MS = 4;
export const HAND_TIME_RANGE = 2 ** 24;

/** One message, decoded or to encode (preallocated; hands indexed by h). */
export class HandStreamFrame {
  frame = 0;
  timeUnits = 0;
  count = 0;
  readonly netId = new Float64Array(MAX_HANDS_PER_MESSAGE);
  readonly tracked = new Uint8Array(MAX_HANDS_PER_MESSAGE);
  readonly ageMs = new Float64Array(MAX_HANDS_PER_MESSAGE);
  /** Baseline distance per hand (0 = whole). */
  readonly back = new Uint8Array(MAX_HANDS_PER_MESSAGE);
  /** codes[h * HAND_PARAM_COUNT + i]. */
  readonly codes = new Int32Array(MAX_HANDS_PER_MESSAGE * HAND_PARAM_COUNT);
}

/** Where a receiver keeps the frames it got: the codes of hand `netId` from message `frame`, or null. */
export interface HandBaselineSource {
  baseline(netId: number, frame: number): Int32Array | null;
}

/** How a decode ended: whole message read, malformed, or stopped at a hand whose baseline is missing. */
export const HandDecode = { ok: 0, malformed: 1, missingBaseline: 2 } as const;
export type HandDecodeId = (typeof HandDecode)[keyof typeof HandDecode];

/** Encoder and decoder of HandInput / HandFrames. Reuses its scratch; not reentrant. */
export class HandStreamCodec {
  private readonly body = new HandBodyCodec();
  private readonly view = new Int32Array(HAND_PARAM_COUNT);

  /** Writes the framed message (tag + body) for `f`; `bases[h]` is hand h's baseline codes (null when whole). */
  encode(w: BitWriter, tag: number, f: HandStreamFrame, bases: ReadonlyArray<Int32Array | null>): void {
    beginMessage(w, tag);
    // 1.-3. header
    w.writeVarUint(f.frame);
    w.writeBits(f.timeUnits % HAND_TIME_RANGE, 24);
    w.writeVarUint(f.count);
    // 4. hands
    let prev = 0;
    for (let h = 0; h < f.count; h++) {
      w.writeVarUint(f.netId[h] - prev);
      prev = f.netId[h];
      w.writeBits(f.tracked[h], 1);
      if (!f.tracked[h]) continue;
      if (tag === Tag.HandFrames) w.writeVarUint(Math.max(0, Math.min(MAX_HAND_AGE_MS, Math.round(f.ageMs[h]))));
      const base = bases[h];
      this.view.set(f.codes.subarray(h * HAND_PARAM_COUNT, (h + 1) * HAND_PARAM_COUNT));
      this.body.encode(w, this.view, base ? f.back[h] : 0, base);
    }
  }

  /**
   * Reads a body (reader after the tag) into `f`. On missingBaseline, `f.count` is the number of hands read in full.
   * `source` answers baseline lookups (the frame named by the message's frame minus the body's distance).
   */
  decode(r: BitReader, tag: number, f: HandStreamFrame, source: HandBaselineSource, maxHands: number): HandDecodeId {
    // 1.-3. header
    f.frame = r.readVarUint();
    f.timeUnits = r.readBits(24);
    const count = r.readVarUint();
    if (!r.ok || count > maxHands || count > MAX_HANDS_PER_MESSAGE) return HandDecode.malformed;
    // 4. hands
    let prev = 0;
    f.count = 0;
    for (let h = 0; h < count; h++) {
      const gap = r.readVarUint();
      if ((gap === 0 && h > 0) || prev + gap === 0) return HandDecode.malformed;
      const netId = prev + gap;
      prev = netId;
      f.netId[h] = netId;
      f.tracked[h] = r.readBits(1);
      if (f.tracked[h]) {
        if (tag === Tag.HandFrames) {
          const age = r.readVarUint();
          if (age > MAX_HAND_AGE_MS) return HandDecode.malformed;
          f.ageMs[h] = age;
        }
        const frame = f.frame;
        const verdict = this.body.decode(r, this.view, (back) =>
          back <= frame ? source.baseline(netId, frame - back) : null,
        );
        if (verdict === 1) return HandDecode.malformed;
        if (verdict === 2) return r.ok ? HandDecode.missingBaseline : HandDecode.malformed;
        f.codes.set(this.view, h * HAND_PARAM_COUNT);
      }
      if (!r.ok) return HandDecode.malformed;
      f.count = h + 1;
    }
    return r.ok ? HandDecode.ok : HandDecode.malformed;
  }
}
