/** InputPoses codec: round trips, sizes on the standard trace, and thousands of random / mutated bodies. */
import { describe, expect, it } from 'vitest';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { createRandom, type Random } from '../../src/random.ts';
import { createMotionTrace, TRACE_SAMPLE_LENGTH } from '../../src/vr/motion-trace.ts';
import { DEFAULT_POSE_QUANTIZATION } from '../../src/vr/pose-quantization.ts';
import {
  MAX_STREAM_DEVICES,
  MAX_STREAM_TICKS,
  PoseStreamCodec,
  PoseStreamFrame,
} from '../../src/vr/pose-stream-codec.ts';

const codec = new PoseStreamCodec(DEFAULT_POSE_QUANTIZATION);

function randomFrame(rng: Random, f: PoseStreamFrame): void {
  f.newestTick = rng.int(1_000_000);
  f.tickCount = 1 + rng.int(MAX_STREAM_TICKS);
  f.newestTimeUnits = rng.int(2 ** 24);
  f.ageUnits[f.tickCount - 1] = 0;
  for (let i = f.tickCount - 2; i >= 0; i--) f.ageUnits[i] = f.ageUnits[i + 1] + rng.int(400);
  f.horizonMs = 4 * rng.int(256);
  f.deviceCount = rng.int(MAX_STREAM_DEVICES + 1);
  let id = 0;
  for (let d = 0; d < f.deviceCount; d++) {
    id += 1 + rng.int(50);
    f.netId[d] = id;
    f.active[d] = rng.int(2);
    f.hasVelocity[d] = rng.int(2);
    f.skip[d] = rng.int(f.tickCount);
    // A walk, sometimes still, sometimes jumping anywhere, so every code path is taken.
    let x = rng.int(codec.positionSteps + 1);
    let y = rng.int(codec.positionSteps + 1);
    let z = rng.int(codec.positionSteps + 1);
    for (let i = f.skip[d]; i < f.tickCount; i++) {
      const mode = rng.int(4);
      const step = mode === 0 ? 0 : mode === 1 ? 5 : mode === 2 ? 200 : codec.positionSteps;
      const clamp = (v: number) => Math.max(0, Math.min(codec.positionSteps, v));
      x = clamp(x + Math.round(rng.range(-step, step)));
      y = clamp(y + Math.round(rng.range(-step, step)));
      z = clamp(z + Math.round(rng.range(-step, step)));
      const p = (d * MAX_STREAM_TICKS + i) * 3;
      f.pos[p] = x;
      f.pos[p + 1] = y;
      f.pos[p + 2] = z;
      f.rot[d * MAX_STREAM_TICKS + i] =
        mode === 0 && i > f.skip[d]
          ? f.rot[d * MAX_STREAM_TICKS + i - 1]
          : codec.packRotation(rng.gaussian(), rng.gaussian(), rng.gaussian(), rng.gaussian());
    }
    for (let k = 0; k < 6; k++) f.vel[d * 6 + k] = rng.int((k < 3 ? codec.velocitySteps : codec.angularSteps) + 1);
  }
}

function expectSame(a: PoseStreamFrame, b: PoseStreamFrame): void {
  expect(b.newestTick).toBe(a.newestTick);
  expect(b.tickCount).toBe(a.tickCount);
  expect(b.newestTimeUnits).toBe(a.newestTimeUnits);
  expect(b.horizonMs).toBe(a.horizonMs);
  expect(b.deviceCount).toBe(a.deviceCount);
  for (let i = 0; i < a.tickCount; i++) expect(b.ageUnits[i]).toBe(a.ageUnits[i]);
  for (let d = 0; d < a.deviceCount; d++) {
    expect([b.netId[d], b.active[d], b.hasVelocity[d], b.skip[d]]).toEqual([
      a.netId[d],
      a.active[d],
      a.hasVelocity[d],
      a.skip[d],
    ]);
    for (let i = a.skip[d]; i < a.tickCount; i++) {
      const p = (d * MAX_STREAM_TICKS + i) * 3;
      expect([b.pos[p], b.pos[p + 1], b.pos[p + 2]]).toEqual([a.pos[p], a.pos[p + 1], a.pos[p + 2]]);
      expect(b.rot[d * MAX_STREAM_TICKS + i]).toBe(a.rot[d * MAX_STREAM_TICKS + i]);
    }
    if (a.hasVelocity[d]) for (let k = 0; k < 6; k++) expect(b.vel[d * 6 + k]).toBe(a.vel[d * 6 + k]);
  }
}

describe('pose stream codec', () => {
  it('round-trips 2,000 random messages exactly', () => {
    const rng = createRandom(101);
    const w = new BitWriter();
    const r = new BitReader();
    const a = new PoseStreamFrame();
    const b = new PoseStreamFrame();
    for (let n = 0; n < 2000; n++) {
      randomFrame(rng, a);
      codec.encode(w, a);
      r.reset(w.finish(), 2);
      expect(codec.decode(r, b)).toBe(true);
      expectSame(a, b);
    }
  });

  it('sends a whole pose in 10 bytes and a moving pose of the standard trace in <= 6 bytes on average', () => {
    const c = new PoseStreamCodec(DEFAULT_POSE_QUANTIZATION);
    const trace = createMotionTrace(3);
    const s = new Float64Array(TRACE_SAMPLE_LENGTH);
    const f = new PoseStreamFrame();
    const w = new BitWriter();
    const intervalMs = 1000 / 30;
    for (let k = 3; k < 900; k++) {
      f.newestTick = k;
      f.tickCount = 3;
      f.newestTimeUnits = Math.round(k * intervalMs * 4);
      for (let i = 0; i < 3; i++) f.ageUnits[i] = f.newestTimeUnits - Math.round((k - 2 + i) * intervalMs * 4);
      f.deviceCount = 3;
      for (let d = 0; d < 3; d++) {
        f.netId[d] = d + 1;
        f.skip[d] = 0;
        f.hasVelocity[d] = 0;
        for (let i = 0; i < 3; i++) {
          trace.sample(d as 0 | 1 | 2, (k - 2 + i) * intervalMs, s);
          const p = (d * MAX_STREAM_TICKS + i) * 3;
          for (let a = 0; a < 3; a++) f.pos[p + a] = c.quantizePosition(s[a]);
          f.rot[d * MAX_STREAM_TICKS + i] = c.packRotation(s[3], s[4], s[5], s[6]);
        }
      }
      c.encode(w, f);
    }
    const k = c.counters;
    expect(k.fullBits / k.fullPoses).toBe(80);
    expect(k.movingDeltas).toBeGreaterThan(1000);
    expect(k.movingDeltaBits / k.movingDeltas / 8).toBeLessThanOrEqual(6);
  });

  it('refuses truncated messages and out-of-range values without throwing', () => {
    const rng = createRandom(7);
    const w = new BitWriter();
    const r = new BitReader();
    const a = new PoseStreamFrame();
    const b = new PoseStreamFrame();
    let refused = 0;
    for (let n = 0; n < 300; n++) {
      randomFrame(rng, a);
      if (a.deviceCount === 0) continue;
      codec.encode(w, a);
      const bytes = w.toBytes();
      const cut = 2 + rng.int(bytes.length - 3);
      r.reset(bytes.subarray(0, cut), 2);
      if (!codec.decode(r, b)) refused++;
    }
    expect(refused).toBeGreaterThan(250);
    // A device count above the maximum.
    const bad = new BitWriter();
    bad.writeU16(0);
    bad.writeVarUint(5);
    bad.writeBits(0, 3);
    bad.writeBits(0, 24);
    bad.writeBits(0, 8);
    bad.writeBits(31, 5);
    r.reset(bad.finish(), 2);
    expect(codec.decode(r, b)).toBe(false);
  });

  it('never throws on 5,000 random and 5,000 mutated bodies, and accepted ones stay in range', () => {
    const rng = createRandom(99);
    const w = new BitWriter();
    const r = new BitReader();
    const a = new PoseStreamFrame();
    const b = new PoseStreamFrame();
    const check = () => {
      for (let d = 0; d < b.deviceCount; d++) {
        expect(b.skip[d]).toBeLessThan(b.tickCount);
        for (let i = b.skip[d]; i < b.tickCount; i++) {
          const p = (d * MAX_STREAM_TICKS + i) * 3;
          for (let k = 0; k < 3; k++) {
            expect(b.pos[p + k]).toBeGreaterThanOrEqual(0);
            expect(b.pos[p + k]).toBeLessThanOrEqual(codec.positionSteps);
          }
        }
      }
    };
    for (let n = 0; n < 5000; n++) {
      const bytes = new Uint8Array(2 + rng.int(200));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
      r.reset(bytes, 2);
      if (codec.decode(r, b)) check();
    }
    for (let n = 0; n < 5000; n++) {
      randomFrame(rng, a);
      codec.encode(w, a);
      const bytes = w.toBytes();
      const flips = 1 + rng.int(4);
      for (let k = 0; k < flips; k++) bytes[2 + rng.int(bytes.length - 2)] ^= 1 << rng.int(8);
      r.reset(bytes, 2);
      if (codec.decode(r, b)) check();
    }
  });
});
