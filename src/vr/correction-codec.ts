/**
 * Correction: the server's verdict on an owner's pose, sent back to the owner only (unreliable; the server repeats
 * it while the owner's stream still disagrees). Bit-packed after the u16 tag:
 *
 *   1. 5 bits count                 1..MAX_CORRECTIONS
 *   2. per correction:
 *      a. varuint netId             the corrected device
 *      b. varuint tick              the owner's tick the pose applies to
 *      c. 3 x P bits position, 2 + 3 x B bits rotation (quantized like the pose stream)
 */
import { Tag } from '../protocol/tags.ts';
import { beginMessage, type BitReader, type BitWriter } from '../replication/wire-bodies.ts';
import type { PoseStreamCodec } from './pose-stream-codec.ts';

/** Most corrections in one message (5 bits; an owner streams at most MAX_STREAM_DEVICES = 16 devices). */
export const MAX_CORRECTIONS = 16;

/** A Correction message, decoded or to encode. Preallocated. */
export class CorrectionFrame {
  count = 0;
  readonly netId = new Float64Array(MAX_CORRECTIONS);
  readonly tick = new Float64Array(MAX_CORRECTIONS);
  /** Quantized positions pos[j * 3 + axis]. */
  readonly pos = new Int32Array(MAX_CORRECTIONS * 3);
  /** Packed rotations. */
  readonly rot = new Float64Array(MAX_CORRECTIONS);
}

/** Writes the framed Correction message for `f` into `w` (reset first). */
export function encodeCorrection(w: BitWriter, codec: PoseStreamCodec, f: CorrectionFrame): void {
  const b = codec.bits;
  beginMessage(w, Tag.Correction);
  w.writeBits(f.count, 5);
  for (let j = 0; j < f.count; j++) {
    w.writeVarUint(f.netId[j]);
    w.writeVarUint(f.tick[j]);
    for (let a = 0; a < 3; a++) w.writeBits(f.pos[j * 3 + a], b.position);
    w.writeBitsWide(f.rot[j], b.rotation);
  }
}

/** Reads a Correction body (reader after the tag) into `f`; false when malformed or out of range. */
export function decodeCorrection(r: BitReader, codec: PoseStreamCodec, f: CorrectionFrame): boolean {
  const b = codec.bits;
  f.count = r.readBits(5);
  if (f.count === 0 || f.count > MAX_CORRECTIONS) return false;
  const maxCode = 2 ** codec.quantization.quatBits - 2;
  const unit = 2 ** codec.quantization.quatBits;
  for (let j = 0; j < f.count; j++) {
    f.netId[j] = r.readVarUint();
    f.tick[j] = r.readVarUint();
    for (let a = 0; a < 3; a++) {
      const v = r.readBits(b.position);
      if (v > codec.positionSteps) return false;
      f.pos[j * 3 + a] = v;
    }
    const rot = r.readBitsWide(b.rotation);
    // every smallest-three code must be a valid level (the top code is never produced)
    if (
      rot % unit > maxCode ||
      Math.floor(rot / unit) % unit > maxCode ||
      Math.floor(rot / unit / unit) % unit > maxCode
    )
      return false;
    f.rot[j] = rot;
    if (!r.ok) return false;
  }
  return r.ok;
}
