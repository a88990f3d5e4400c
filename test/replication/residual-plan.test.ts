/**
 * The server's fast residual planner (residual-plan.ts) against residual-codec.ts's reference: on random
 * components of quantized fields and quaternions, random masks and residuals of every size (small, at the edge
 * of what the reader takes, past it, 2^31 and more), the same verdict (residual form or not), the same bits and
 * order, and the same bytes. And a jump of 2^31 in a 32-bit field never yields a residual the reader decodes
 * to a wrong value (the reference's Exp-Golomb size once wrapped at 2^32). The integer prediction of the server's
 * fast path (baseline-reference.ts's `predictWire`) gives `referenceOf`'s predicted reference, clamps and
 * quaternion index changes included.
 */
import { describe, expect, it } from 'vitest';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { createProtocol, field, registerComponent } from '../../src/index.ts';
import type { FieldSpec } from '../../src/protocol/field-schema.ts';
import { createRandom } from '../../src/random.ts';
import { predictWire, referenceOf } from '../../src/replication/baseline-reference.ts';
import {
  readResiduals,
  residualBits,
  residualLayout,
  type ResidualLayout,
  writeResiduals,
} from '../../src/replication/residual-codec.ts';
import {
  maxResidualCodes,
  planBits,
  planCount,
  planResidual,
  planSelector,
  writeResidualCodes,
} from '../../src/replication/residual-plan.ts';

/** Residual magnitudes to try: small, around the reader's limit at each order, and far past it. */
const SPANS = [0, 1, 3, 40, 2 ** 12, 2 ** 20, 2 ** 21 - 1, 2 ** 21, 2 ** 26 + 1, 2 ** 27, 2 ** 31 + 7, 2 ** 32 - 2];

describe('fast residual planner', () => {
  it('gives the reference verdict, bits, order and bytes', () => {
    const rnd = createRandom(77);
    let residuals = 0;
    let refused = 0;
    for (let p = 0; p < 200; p++) {
      const protocol = createProtocol();
      const store: Record<string, Float64Array> = {};
      const fields: Record<string, FieldSpec> = {};
      const count = 1 + rnd.int(5);
      for (let f = 0; f < count; f++) {
        if (rnd.next() < 0.35) {
          const keys = [0, 1, 2, 3].map((k) => `q${f}_${k}`) as [string, string, string, string];
          for (const k of keys) store[k] = new Float64Array(2);
          fields[`r${f}`] = field.quat(keys, 4 + rnd.int(7));
        } else {
          store[`f${f}`] = new Float64Array(2);
          fields[`f${f}`] = field.quantized(0, 2 ** (1 + rnd.int(32)) - 1, 1);
        }
      }
      const comp = registerComponent(protocol, store, { name: 'C', fields });
      const layout = residualLayout(comp) as ResidualLayout;
      expect(layout).not.toBeNull();
      const n = comp.fields.length;
      const codes = new Int32Array(3 + maxResidualCodes(layout));
      const order = new Int32Array(1);
      const wires = comp.fields.map(() => new Float64Array(2));
      const base = new Uint32Array(n + 1);
      const values = new Float64Array(n);
      const refW = new BitWriter(16);
      const fastW = new BitWriter(16);
      for (let trial = 0; trial < 50; trial++) {
        const mask = 1 + rnd.int(comp.allFieldsMask);
        for (let f = 0; f < n; f++) {
          const fd = comp.fields[f];
          const max = fd.quat ? 2 ** fd.bits - 1 : fd.maxWire;
          const b = rnd.int(max + 1);
          const span = SPANS[rnd.int(SPANS.length)];
          const v = Math.min(max, Math.max(0, b + (rnd.next() < 0.5 ? -1 : 1) * rnd.int(span + 1)));
          base[1 + f] = b;
          values[f] = v;
          wires[f][1] = v;
        }
        const refBits = residualBits(layout, mask, values, 0, base, 1, order);
        const plan = planResidual(layout, mask, wires, 1, base, 1, codes, 3);
        if (refBits < 0) {
          expect(plan, `trial ${trial} of protocol ${p}`).toBe(-1);
          refused++;
          continue;
        }
        expect(plan).toBeGreaterThanOrEqual(0);
        expect(planBits(plan) + 2).toBe(refBits);
        expect(planSelector(plan)).toBe(order[0]);
        refW.reset();
        fastW.reset();
        writeResiduals(refW, layout, mask, values, 0, base, 1, order[0]);
        writeResidualCodes(fastW, order[0], 2, codes, 3, planCount(plan), order[0]);
        expect(fastW.bitLength).toBe(refBits);
        expect(Array.from(fastW.finish())).toEqual(Array.from(refW.finish()));
        residuals++;
      }
    }
    expect(residuals).toBeGreaterThan(3000);
    expect(refused).toBeGreaterThan(1000);
  });

  it('a 2^31 jump of a 32-bit field is never a residual the reader gets wrong', () => {
    const protocol = createProtocol();
    const comp = registerComponent(
      protocol,
      { s: new Float64Array(2) },
      { name: 'Stamp', fields: { s: field.quantized(0, 2 ** 32 - 1, 1) } },
    );
    const layout = residualLayout(comp) as ResidualLayout;
    const order = new Int32Array(1);
    const w = new BitWriter();
    const r = new BitReader();
    const out = new Float64Array(1);
    for (const [b, v] of [
      [0, 2 ** 31 + 5],
      [2 ** 32 - 1, 2 ** 31 - 9],
      [3, 2 ** 32 - 2],
      [100, 2 ** 26 + 100],
    ]) {
      const bits = residualBits(layout, 1, [v], 0, [b], 0, order);
      if (bits < 0) continue; // absolute: fine
      w.reset();
      writeResiduals(w, layout, 1, [v], 0, [b], 0, order[0]);
      r.reset(w.finish());
      expect(readResiduals(r, layout, 1, [b], 0, out, 0) && out[0]).toBe(v);
    }
    expect(residualBits(layout, 1, [2 ** 31 + 5], 0, [0], 0, order)).toBe(-1);
  });

  it('predicts the reference referenceOf gives, in integer math', () => {
    const rnd = createRandom(4242);
    let clamped = 0;
    let indexKept = 0;
    for (let p = 0; p < 200; p++) {
      const protocol = createProtocol();
      const store: Record<string, Float64Array> = {};
      const fields: Record<string, FieldSpec> = {};
      const count = 1 + rnd.int(5);
      for (let f = 0; f < count; f++) {
        if (rnd.next() < 0.5) {
          const keys = [0, 1, 2, 3].map((k) => `q${f}_${k}`) as [string, string, string, string];
          for (const k of keys) store[k] = new Float64Array(2);
          fields[`r${f}`] = field.quat(keys, 4 + rnd.int(7));
        } else {
          store[`f${f}`] = new Float64Array(2);
          fields[`f${f}`] = field.quantized(0, 2 ** (1 + rnd.int(32)) - 1, 1);
        }
      }
      const comp = registerComponent(protocol, store, { name: 'C', fields });
      const layout = residualLayout(comp) as ResidualLayout;
      const n = comp.fields.length;
      // Two slots of a ring's words, at offsets 2 and 2 + n + 3.
      const words = new Uint32Array(2 * n + 8);
      const at1 = 2;
      const at2 = 2 + n + 3;
      const want = new Float64Array(n);
      const got = new Uint32Array(n);
      for (let trial = 0; trial < 50; trial++) {
        const mask = 1 + rnd.int(comp.allFieldsMask);
        for (let f = 0; f < n; f++) {
          const fd = comp.fields[f];
          const max = fd.quat ? 2 ** fd.bits - 1 : fd.maxWire;
          const b1 = rnd.int(max + 1);
          // Near B1 (same quaternion index, mostly), or anywhere, or at the ends (clamps).
          const r = rnd.next();
          const b2 =
            r < 0.5
              ? Math.min(max, Math.max(0, b1 + rnd.int(201) - 100))
              : r < 0.8
                ? rnd.int(max + 1)
                : rnd.next() < 0.5
                  ? 0
                  : max;
          words[at1 + f] = b1;
          words[at2 + f] = b2;
        }
        want.fill(-1);
        got.fill(0);
        referenceOf(layout, mask, words, at1, at2, want);
        predictWire(layout, mask, words, at1, at2, got);
        for (let f = 0; f < n; f++) {
          if ((mask & (1 << f)) === 0) continue;
          expect(got[f], `field ${f} of protocol ${p}`).toBe(want[f]);
          const fd = comp.fields[f];
          const b1 = words[at1 + f];
          const b2 = words[at2 + f];
          if (!fd.quat && (2 * b1 - b2 < 0 || 2 * b1 - b2 > fd.maxWire)) clamped++;
          if (fd.quat && want[f] !== b1) indexKept++;
        }
      }
    }
    expect(clamped).toBeGreaterThan(500);
    expect(indexKept).toBeGreaterThan(500);
  });
});
