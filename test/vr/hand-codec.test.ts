/** Hand codec: round trips, the fingertip error bound on a synthetic adult hand, body sizes, hostile bodies. */
import { describe, expect, it } from 'vitest';
import { SyntheticHand } from '../../harness/synthetic-hand.ts';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { createRandom } from '../../src/random.ts';
import { HandBodyCodec, maxHandCode, MAX_HAND_BACK } from '../../src/vr/hand-codec.ts';
import { HandFitter } from '../../src/vr/hand-fit.ts';
import { FINGERTIP_JOINTS, HAND_PARAM_COUNT, HAND_SCALE_PARAM, JOINT_POSE_LENGTH } from '../../src/vr/hand-skeleton.ts';

const body = new HandBodyCodec();

function roundTrip(codes: Int32Array, back: number, base: Int32Array | null): { out: Int32Array; bits: number } {
  const w = new BitWriter(64);
  body.encode(w, codes, back, base);
  const bits = w.bitLength;
  const r = new BitReader();
  r.reset(w.finish());
  const out = new Int32Array(HAND_PARAM_COUNT);
  expect(body.decode(r, out, (b) => (b === back ? base : null))).toBe(0);
  return { out, bits };
}

function tipErrorsMm(truth: Float64Array, rebuilt: Float64Array, into: number[]): void {
  for (const j of FINGERTIP_JOINTS) {
    const o = j * JOINT_POSE_LENGTH;
    into.push(Math.hypot(truth[o] - rebuilt[o], truth[o + 1] - rebuilt[o + 1], truth[o + 2] - rebuilt[o + 2]) * 1000);
  }
}

describe('hand body codec', () => {
  it('round-trips whole and delta bodies exactly, for any codes and baselines', () => {
    const rng = createRandom(5);
    for (let n = 0; n < 2000; n++) {
      const codes = new Int32Array(HAND_PARAM_COUNT);
      const base = new Int32Array(HAND_PARAM_COUNT);
      for (let i = 0; i < HAND_PARAM_COUNT; i++) {
        base[i] = rng.int(maxHandCode(i) + 1);
        // mostly small moves, sometimes anything
        codes[i] =
          n % 5 === 0 ? rng.int(maxHandCode(i) + 1) : Math.max(0, Math.min(maxHandCode(i), base[i] + rng.int(7) - 3));
      }
      expect([...roundTrip(codes, 0, null).out]).toEqual([...codes]);
      const back = 1 + rng.int(MAX_HAND_BACK);
      expect([...roundTrip(codes, back, base).out]).toEqual([...codes]);
      expect(roundTrip(base, back, base).bits).toBe(7);
    }
  });

  it('keeps fingertips within 5 mm (mean under 2 mm) of a synthetic adult hand, both hands', () => {
    const fitter = new HandFitter();
    for (const left of [false, true]) {
      const hand = new SyntheticHand(11, left);
      const joints = new Float64Array(25 * JOINT_POSE_LENGTH);
      const rebuilt = new Float64Array(25 * JOINT_POSE_LENGTH);
      const codes = new Int32Array(HAND_PARAM_COUNT);
      const errors: number[] = [];
      let scale = -1;
      for (let t = 0; t < 60_000; t += 1000 / 72) {
        hand.jointsAt(t, joints);
        fitter.fit(joints, JOINT_POSE_LENGTH, 0, left, codes, scale);
        scale = codes[HAND_SCALE_PARAM];
        fitter.rebuild(codes, left, rebuilt);
        tipErrorsMm(joints, rebuilt, errors);
      }
      const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
      expect(mean).toBeLessThan(2);
      expect(Math.max(...errors)).toBeLessThanOrEqual(5);
      // not trivially zero: the synthetic hand is not of the codec's shape and the codes are rounded
      expect(mean).toBeGreaterThan(0.2);
    }
  });

  it('spends under 12 bytes on a moving hand against a baseline 3 messages old (30 Hz)', () => {
    const fitter = new HandFitter();
    const hand = new SyntheticHand(2);
    const joints = new Float64Array(25 * JOINT_POSE_LENGTH);
    const history: Int32Array[] = [];
    let bits = 0;
    let moving = 0;
    for (let t = 0; t < 30_000; t += 1000 / 30) {
      const codes = new Int32Array(HAND_PARAM_COUNT);
      hand.jointsAt(t, joints);
      fitter.fit(joints, JOINT_POSE_LENGTH, 0, false, codes, history.length ? history[0][HAND_SCALE_PARAM] : -1);
      history.push(codes);
      if (history.length <= 3) continue;
      const base = history[history.length - 4];
      const { out, bits: b } = roundTrip(codes, 3, base);
      expect([...out]).toEqual([...codes]);
      if (b > 7) {
        bits += b;
        moving++;
      }
    }
    expect(moving).toBeGreaterThan(800);
    expect(bits / moving / 8).toBeLessThan(12);
  });

  it('never throws on random or truncated bodies; out-of-range codes and missing baselines are refused', () => {
    const rng = createRandom(9);
    const r = new BitReader();
    const out = new Int32Array(HAND_PARAM_COUNT);
    const base = new Int32Array(HAND_PARAM_COUNT).fill(3);
    const verdicts = [0, 0, 0];
    for (let n = 0; n < 20_000; n++) {
      const bytes = new Uint8Array(rng.int(24));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
      r.reset(bytes);
      const v = body.decode(r, out, (b) => (b % 2 === 0 ? base : null));
      verdicts[v]++;
      if (v === 0) for (let i = 0; i < HAND_PARAM_COUNT; i++) expect(out[i]).toBeGreaterThanOrEqual(0);
      if (v === 0) for (let i = 0; i < HAND_PARAM_COUNT; i++) expect(out[i]).toBeLessThanOrEqual(maxHandCode(i));
    }
    expect(verdicts[1]).toBeGreaterThan(1000);
    expect(verdicts[2]).toBeGreaterThan(1000);
    // a residual that leaves the code range is malformed: zeros coded against 3s, decoded against 1s
    const w = new BitWriter(64);
    body.encode(w, new Int32Array(HAND_PARAM_COUNT), 1, base);
    const bytes = w.finish();
    r.reset(bytes);
    expect(body.decode(r, out, () => base)).toBe(0);
    r.reset(bytes);
    expect(body.decode(r, out, () => new Int32Array(HAND_PARAM_COUNT).fill(1))).toBe(1);
    // truncated: every shorter prefix of a whole body fails
    const whole = new BitWriter(64);
    body.encode(whole, base, 0, null);
    const full = whole.finish();
    for (let n = 0; n < full.length; n++) {
      r.reset(full.subarray(0, n));
      expect(body.decode(r, out, () => base)).toBe(1);
    }
  });
});
