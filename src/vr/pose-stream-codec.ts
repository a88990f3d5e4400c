/**
 * InputPoses: the owner's tracked poses of the last few ticks, one unreliable message per send (redundancy against
 * loss). Bit-packed, MSB-first (BitWriter), after the u16 tag. Every message stands alone: the oldest tick of each
 * device is sent whole, later ticks as residuals against a prediction from the earlier ticks of the same message.
 *
 *   1. varuint  newestTick            sender's tick of the newest sample
 *   2. 3 bits   tickCount - 1         ticks newestTick - tickCount + 1 .. newestTick
 *   3. 24 bits  newestTime            capture time of the newest tick, sender clock, quarter ms modulo 2^24
 *   4. tickCount - 1 x varuint gap    quarter ms from each tick to the next older one, newest first
 *   5. 8 bits   horizon               extrapolation horizon the sender allows, 4 ms units (0..1020 ms)
 *   6. 5 bits   deviceCount           0..MAX_STREAM_DEVICES
 *   7. per device, ascending network id:
 *      a. varuint netId gap (the first is the id itself; later gaps >= 1)
 *      b. 1 bit correction active     the sender is applying a server correction to this device
 *      c. 1 bit has velocity          the newest tick's velocities follow the poses (e.)
 *      d. 3 bits skip                 oldest ticks this device has no sample for (< tickCount)
 *      e. per tick from the oldest it has:
 *         first:  position 3 x P bits (quantized), rotation 2 + 3 x B bits (smallest three)
 *         later:  1 bit changed; if 0 the quantized pose repeats the previous tick; else
 *                 position: 3 x EG(POS_EG_ORDER) zigzag residuals against the prediction,
 *                 1 bit same-largest: 1 = 3 x EG(ROT_EG_ORDER) zigzag residuals of the smallest-three codes,
 *                                     0 = a full 2 + 3 x B rotation
 *      f. if has velocity: 3 x V bits linear, 3 x A bits angular (quantized, newest tick)
 *
 * Prediction: the first later tick is predicted by the previous one; from the third tick on, linearly from the two
 * before it, scaled by their time gaps (ratio capped at 2) and clamped to the value range (both sides compute it
 * from the same integers and gaps). EG(k) is an order-k
 * Exp-Golomb code: z + 2^k written as (n - k) zero bits then its n + 1 significant bits.
 *
 * Decoding validates everything (ranges, ascending ids, skip, code lengths) and reports failure without throwing.
 */
import { Tag } from '../protocol/tags.ts';
import { beginMessage, type BitReader, type BitWriter } from '../replication/wire-bodies.ts';
import { readEg, writeEg } from './exp-golomb.ts';
import { PoseQuantizer, type PoseQuantization } from './pose-quantization.ts';

/** Most ticks in one message (3 bits). */
export const MAX_STREAM_TICKS = 8;
/** Most devices in one message: a head, two hands and up to 13 body trackers. */
export const MAX_STREAM_DEVICES = 16;
/** Time units per ms on the stream (quarter milliseconds). */
export const STREAM_TIME_UNITS_PER_MS = 4;
/** The newest time wraps at 2^24 quarter ms (~70 minutes); receivers unwrap against the previous message. */
export const STREAM_TIME_RANGE = 2 ** 24;
/** Horizon unit on the stream: 4 ms, so 8 bits reach 1,020 ms. */
export const STREAM_HORIZON_UNIT_MS = 4;
/** Exp-Golomb order of position residuals: 2 (residuals of a few mm cost 5-7 bits). */
export const POS_EG_ORDER = 2;
/** Exp-Golomb order of rotation-code residuals: 2. */
export const ROT_EG_ORDER = 2;
/** Largest gap ratio a linear prediction extrapolates by: irregular ticks must not blow a prediction up. */
const MAX_GAP_RATIO = 2;

/** One InputPoses message, decoded or to encode. Preallocated; index devices by d, ticks by i (oldest = 0). */
export class PoseStreamFrame {
  newestTick = 0;
  tickCount = 1;
  /** Newest capture time in quarter ms modulo 2^24. */
  newestTimeUnits = 0;
  /** Quarter ms from tick i to the newest tick (ageUnits[tickCount - 1] = 0). */
  readonly ageUnits = new Float64Array(MAX_STREAM_TICKS);
  horizonMs = 0;
  deviceCount = 0;
  readonly netId = new Float64Array(MAX_STREAM_DEVICES);
  readonly active = new Uint8Array(MAX_STREAM_DEVICES);
  readonly hasVelocity = new Uint8Array(MAX_STREAM_DEVICES);
  /** Oldest ticks the device has no sample for. */
  readonly skip = new Uint8Array(MAX_STREAM_DEVICES);
  /** Quantized positions: pos[(d * MAX_STREAM_TICKS + i) * 3 + axis]. */
  readonly pos = new Int32Array(MAX_STREAM_DEVICES * MAX_STREAM_TICKS * 3);
  /** Packed smallest-three rotations: rot[d * MAX_STREAM_TICKS + i]. */
  readonly rot = new Float64Array(MAX_STREAM_DEVICES * MAX_STREAM_TICKS);
  /** Quantized velocities of the newest tick: vel[d * 6 + k], k = vx, vy, vz, wx, wy, wz. */
  readonly vel = new Int32Array(MAX_STREAM_DEVICES * 6);
}

/** Splits a packed rotation into [index, a, b, c] codes (bits per component `b`). */
function splitRot(packed: number, b: number, out: Int32Array): void {
  const unit = 2 ** b;
  let rest = packed;
  out[3] = rest % unit;
  rest = (rest - out[3]) / unit;
  out[2] = rest % unit;
  rest = (rest - out[2]) / unit;
  out[1] = rest % unit;
  out[0] = (rest - out[1]) / unit;
}

function joinRot(codes: Int32Array, b: number): number {
  const unit = 2 ** b;
  return ((codes[0] * unit + codes[1]) * unit + codes[2]) * unit + codes[3];
}

/** Bits the encoder spent on poses, by kind (for measuring the wire cost). */
export interface PoseStreamCounters {
  /** Poses sent whole (the oldest tick of each device in a message) and their bits. */
  fullPoses: number;
  fullBits: number;
  /** Later poses that moved (delta-coded) and their bits. */
  movingDeltas: number;
  movingDeltaBits: number;
  /** Later poses that repeated the previous tick (1 bit each). */
  unchangedPoses: number;
}

/** Encoder and decoder of InputPoses for one pose quantization. Reuses its scratch; not reentrant. */
export class PoseStreamCodec extends PoseQuantizer {
  /** What the encoder has written so far. */
  readonly counters: PoseStreamCounters = {
    fullPoses: 0,
    fullBits: 0,
    movingDeltas: 0,
    movingDeltaBits: 0,
    unchangedPoses: 0,
  };
  /** Largest smallest-three component code. */
  private readonly maxRotCode: number;
  private readonly prev = new Int32Array(4);
  private readonly prev2 = new Int32Array(4);
  private readonly cur = new Int32Array(4);

  constructor(quantization: PoseQuantization) {
    super(quantization);
    this.maxRotCode = 2 ** quantization.quatBits - 2;
  }

  // ── encoding ─────────────────────────────────────────────────────────────────────────────────────────

  /** Writes the framed InputPoses message (tag + body) for `f` into `w` (reset first). */
  encode(w: BitWriter, f: PoseStreamFrame): void {
    const b = this.bits;
    beginMessage(w, Tag.InputPoses);
    // 1.-5. header
    w.writeVarUint(f.newestTick);
    w.writeBits(f.tickCount - 1, 3);
    w.writeBits(f.newestTimeUnits % STREAM_TIME_RANGE, 24);
    for (let i = f.tickCount - 2; i >= 0; i--) w.writeVarUint(f.ageUnits[i] - f.ageUnits[i + 1]);
    w.writeBits(Math.min(255, Math.max(0, Math.round(f.horizonMs / STREAM_HORIZON_UNIT_MS))), 8);
    w.writeBits(f.deviceCount, 5);
    // 7. devices
    let prevId = 0;
    for (let d = 0; d < f.deviceCount; d++) {
      w.writeVarUint(f.netId[d] - prevId);
      prevId = f.netId[d];
      w.writeBits(f.active[d], 1);
      w.writeBits(f.hasVelocity[d], 1);
      w.writeBits(f.skip[d], 3);
      for (let i = f.skip[d]; i < f.tickCount; i++) {
        const start = w.bitLength;
        const kind = this.writeTick(w, f, d, i);
        const c = this.counters;
        if (kind === 0) {
          c.fullPoses++;
          c.fullBits += w.bitLength - start;
        } else if (kind === 1) {
          c.movingDeltas++;
          c.movingDeltaBits += w.bitLength - start;
        } else c.unchangedPoses++;
      }
      if (f.hasVelocity[d]) {
        for (let k = 0; k < 6; k++) w.writeBits(f.vel[d * 6 + k], k < 3 ? b.velocity : b.angular);
      }
    }
  }

  /** Writes tick i of device d; returns 0 whole, 1 delta, 2 unchanged. */
  private writeTick(w: BitWriter, f: PoseStreamFrame, d: number, i: number): number {
    const b = this.bits;
    const base = d * MAX_STREAM_TICKS;
    const p = (base + i) * 3;
    if (i === f.skip[d]) {
      // first: whole
      w.writeBits(f.pos[p], b.position);
      w.writeBits(f.pos[p + 1], b.position);
      w.writeBits(f.pos[p + 2], b.position);
      w.writeBitsWide(f.rot[base + i], b.rotation);
      return 0;
    }
    const pp = p - 3;
    const changed =
      f.pos[p] !== f.pos[pp] ||
      f.pos[p + 1] !== f.pos[pp + 1] ||
      f.pos[p + 2] !== f.pos[pp + 2] ||
      f.rot[base + i] !== f.rot[base + i - 1];
    w.writeBits(changed ? 1 : 0, 1);
    if (!changed) return 2;
    const linear = i - 1 > f.skip[d];
    const scale = linear ? this.gapRatio(f, i) : 0;
    for (let a = 0; a < 3; a++) {
      const pred = linear ? predict(f.pos[pp + a], f.pos[pp - 3 + a], scale, this.positionSteps) : f.pos[pp + a];
      writeEg(w, f.pos[p + a] - pred, POS_EG_ORDER);
    }
    const qb = this.quantization.quatBits;
    splitRot(f.rot[base + i], qb, this.cur);
    splitRot(f.rot[base + i - 1], qb, this.prev);
    if (this.cur[0] !== this.prev[0]) {
      w.writeBits(0, 1);
      w.writeBitsWide(f.rot[base + i], b.rotation);
      return 1;
    }
    w.writeBits(1, 1);
    const rotLinear = linear && this.sameIndexBefore(f, base, i);
    for (let c = 1; c < 4; c++) {
      const pred = rotLinear ? predict(this.prev[c], this.prev2[c], scale, this.maxRotCode) : this.prev[c];
      writeEg(w, this.cur[c] - pred, ROT_EG_ORDER);
    }
    return 1;
  }

  /** True when tick i - 2 has the same largest index as i - 1 (fills prev2 with its codes). */
  private sameIndexBefore(f: PoseStreamFrame, base: number, i: number): boolean {
    splitRot(f.rot[base + i - 2], this.quantization.quatBits, this.prev2);
    return this.prev2[0] === this.prev[0];
  }

  /** (t[i] - t[i-1]) / (t[i-1] - t[i-2]) from the ages, within [0, MAX_GAP_RATIO]; 1 when the older gap is 0. */
  private gapRatio(f: PoseStreamFrame, i: number): number {
    const g1 = f.ageUnits[i - 1] - f.ageUnits[i];
    const g0 = f.ageUnits[i - 2] - f.ageUnits[i - 1];
    const ratio = g0 > 0 ? g1 / g0 : 1;
    return ratio > MAX_GAP_RATIO ? MAX_GAP_RATIO : ratio;
  }

  // ── decoding ─────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Reads an InputPoses body (the reader positioned after the tag) into `f`. Returns false, with `f` unspecified,
   * when anything is malformed or out of range.
   */
  decode(r: BitReader, f: PoseStreamFrame): boolean {
    const b = this.bits;
    // 1.-5. header
    f.newestTick = r.readVarUint();
    f.tickCount = r.readBits(3) + 1;
    f.newestTimeUnits = r.readBits(24);
    f.ageUnits[f.tickCount - 1] = 0;
    for (let i = f.tickCount - 2; i >= 0; i--) {
      const gap = r.readVarUint();
      // A gap above ~4.6 hours cannot be a tick spacing: refuse it rather than carry huge numbers around.
      if (gap > STREAM_TIME_RANGE) return false;
      f.ageUnits[i] = f.ageUnits[i + 1] + gap;
    }
    f.horizonMs = r.readBits(8) * STREAM_HORIZON_UNIT_MS;
    f.deviceCount = r.readBits(5);
    if (!r.ok || f.deviceCount > MAX_STREAM_DEVICES) return false;
    // 7. devices
    let prevId = 0;
    for (let d = 0; d < f.deviceCount; d++) {
      const gap = r.readVarUint();
      if (gap === 0 && d > 0) return false;
      f.netId[d] = prevId + gap;
      prevId = f.netId[d];
      f.active[d] = r.readBits(1);
      f.hasVelocity[d] = r.readBits(1);
      f.skip[d] = r.readBits(3);
      if (f.skip[d] >= f.tickCount || f.netId[d] === 0) return false;
      for (let i = f.skip[d]; i < f.tickCount; i++) if (!this.readTick(r, f, d, i)) return false;
      if (f.hasVelocity[d]) {
        for (let k = 0; k < 6; k++) {
          const v = r.readBits(k < 3 ? b.velocity : b.angular);
          if (v > (k < 3 ? this.velocitySteps : this.angularSteps)) return false;
          f.vel[d * 6 + k] = v;
        }
      }
      if (!r.ok) return false;
    }
    return r.ok;
  }

  private readTick(r: BitReader, f: PoseStreamFrame, d: number, i: number): boolean {
    const b = this.bits;
    const base = d * MAX_STREAM_TICKS;
    const p = (base + i) * 3;
    const steps = this.positionSteps;
    if (i === f.skip[d]) {
      for (let a = 0; a < 3; a++) {
        const v = r.readBits(b.position);
        if (v > steps) return false;
        f.pos[p + a] = v;
      }
      const rot = r.readBitsWide(b.rotation);
      if (!this.validRotation(rot)) return false;
      f.rot[base + i] = rot;
      return r.ok;
    }
    const pp = p - 3;
    if (r.readBits(1) === 0) {
      f.pos[p] = f.pos[pp];
      f.pos[p + 1] = f.pos[pp + 1];
      f.pos[p + 2] = f.pos[pp + 2];
      f.rot[base + i] = f.rot[base + i - 1];
      return r.ok;
    }
    const linear = i - 1 > f.skip[d];
    const scale = linear ? this.gapRatio(f, i) : 0;
    for (let a = 0; a < 3; a++) {
      const pred = linear ? predict(f.pos[pp + a], f.pos[pp - 3 + a], scale, steps) : f.pos[pp + a];
      const v = pred + readEg(r, POS_EG_ORDER);
      if (!(v >= 0 && v <= steps)) return false;
      f.pos[p + a] = v;
    }
    const qb = this.quantization.quatBits;
    if (r.readBits(1) === 0) {
      const rot = r.readBitsWide(b.rotation);
      if (!this.validRotation(rot)) return false;
      f.rot[base + i] = rot;
      return r.ok;
    }
    splitRot(f.rot[base + i - 1], qb, this.prev);
    const rotLinear = linear && this.sameIndexBefore(f, base, i);
    this.cur[0] = this.prev[0];
    for (let c = 1; c < 4; c++) {
      const pred = rotLinear ? predict(this.prev[c], this.prev2[c], scale, this.maxRotCode) : this.prev[c];
      const v = pred + readEg(r, ROT_EG_ORDER);
      if (!(v >= 0 && v <= this.maxRotCode)) return false;
      this.cur[c] = v;
    }
    f.rot[base + i] = joinRot(this.cur, qb);
    return r.ok;
  }

  private validRotation(packed: number): boolean {
    splitRot(packed, this.quantization.quatBits, this.cur);
    return this.cur[1] <= this.maxRotCode && this.cur[2] <= this.maxRotCode && this.cur[3] <= this.maxRotCode;
  }
}

/** Linear prediction from the two previous values (the newer gap `scale` times the older one), within [0, max]. */
function predict(prev: number, prev2: number, scale: number, max: number): number {
  const p = prev + Math.round((prev - prev2) * scale);
  return p < 0 ? 0 : p > max ? max : p;
}
