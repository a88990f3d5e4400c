/** Correction codec: round trips and random / mutated bodies. */
import { describe, expect, it } from 'vitest';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { createRandom } from '../../src/random.ts';
import { CorrectionFrame, decodeCorrection, encodeCorrection, MAX_CORRECTIONS } from '../../src/vr/correction-codec.ts';
import { DEFAULT_POSE_QUANTIZATION } from '../../src/vr/pose-quantization.ts';
import { PoseStreamCodec } from '../../src/vr/pose-stream-codec.ts';

const codec = new PoseStreamCodec(DEFAULT_POSE_QUANTIZATION);

describe('correction codec', () => {
  it('round-trips 1,000 random corrections', () => {
    const rng = createRandom(5);
    const w = new BitWriter();
    const r = new BitReader();
    const a = new CorrectionFrame();
    const b = new CorrectionFrame();
    for (let n = 0; n < 1000; n++) {
      a.count = 1 + rng.int(MAX_CORRECTIONS);
      for (let j = 0; j < a.count; j++) {
        a.netId[j] = 1 + rng.int(100_000);
        a.tick[j] = rng.int(10_000_000);
        for (let k = 0; k < 3; k++) a.pos[j * 3 + k] = rng.int(codec.positionSteps + 1);
        a.rot[j] = codec.packRotation(rng.gaussian(), rng.gaussian(), rng.gaussian(), rng.gaussian());
      }
      encodeCorrection(w, codec, a);
      r.reset(w.finish(), 2);
      expect(decodeCorrection(r, codec, b)).toBe(true);
      expect(b.count).toBe(a.count);
      for (let j = 0; j < a.count; j++) {
        expect([b.netId[j], b.tick[j], b.rot[j]]).toEqual([a.netId[j], a.tick[j], a.rot[j]]);
        expect(Array.from(b.pos.subarray(j * 3, j * 3 + 3))).toEqual(Array.from(a.pos.subarray(j * 3, j * 3 + 3)));
      }
    }
  });

  it('never throws on 5,000 random and mutated bodies; an empty correction is refused', () => {
    const rng = createRandom(6);
    const w = new BitWriter();
    const r = new BitReader();
    const a = new CorrectionFrame();
    const b = new CorrectionFrame();
    for (let n = 0; n < 5000; n++) {
      let bytes: Uint8Array;
      if (n % 2 === 0) {
        bytes = new Uint8Array(2 + rng.int(80));
        for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
      } else {
        a.count = 1 + rng.int(3);
        for (let j = 0; j < a.count; j++) {
          a.netId[j] = 1 + rng.int(1000);
          a.tick[j] = rng.int(1000);
          for (let k = 0; k < 3; k++) a.pos[j * 3 + k] = rng.int(codec.positionSteps + 1);
          a.rot[j] = codec.packRotation(0, 0, 0, 1);
        }
        encodeCorrection(w, codec, a);
        bytes = w.toBytes();
        bytes[2 + rng.int(bytes.length - 2)] ^= 1 << rng.int(8);
      }
      r.reset(bytes, 2);
      if (decodeCorrection(r, codec, b)) {
        expect(b.count).toBeGreaterThan(0);
        for (let j = 0; j < b.count * 3; j++) expect(b.pos[j]).toBeLessThanOrEqual(codec.positionSteps);
      }
    }
    const empty = new BitWriter();
    empty.writeU16(0);
    empty.writeBits(0, 5);
    r.reset(empty.finish(), 2);
    expect(decodeCorrection(r, codec, b)).toBe(false);
  });
});
