/**
 * The second version of acked-baseline residuals (`ackedbase2`), at the codec level: whole-value baselines (a
 * partial mask's other fields come from its baseline on both sides), predicted references (2 B1 - B2), ages
 * relative to the Delta's reference age, and the positive Exp-Golomb code of id gaps and age offsets. Under loss,
 * duplication, reordering and late acks the client's history stays bit-identical to the server's record of what
 * it sent, and every decoded value is exactly the one sent.
 */
import { describe, expect, it } from 'vitest';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { packQuat } from '../../src/codec/quaternion.ts';
import { createRandom } from '../../src/random.ts';
import { createProtocol, registerComponent, type RegisteredComponent } from '../../src/register.ts';
import { field } from '../../src/protocol/field-schema.ts';
import { AckedBaselines } from '../../src/replication/acked-baseline.ts';
import {
  BaselineRead,
  createBaselinePlan,
  planBaselineFields,
  readBaselineFields,
  writeBaselineFields,
} from '../../src/replication/baseline-fields.ts';
import { referenceOf } from '../../src/replication/baseline-reference.ts';
import { BASELINE_TICKS, BaselineRing } from '../../src/replication/baseline-ring.ts';
import { serverBaselinesFor } from '../../src/replication/baseline-block.ts';
import { clientBaselinesFor } from '../../src/replication/client-baseline-decoder.ts';
import { MAX_DIRECT_POSITIVE, positiveBits, readPositive, writePositive } from '../../src/replication/positive-code.ts';
import { residualLayout, type ResidualLayout } from '../../src/replication/residual-codec.ts';
import { createMotionTrace, TRACE_SAMPLE_LENGTH, TraceDevice } from '../../src/vr/motion-trace.ts';

function poseComponent(): RegisteredComponent {
  const store = {
    px: new Float32Array(8),
    py: new Float32Array(8),
    pz: new Float32Array(8),
    qx: new Float32Array(8),
    qy: new Float32Array(8),
    qz: new Float32Array(8),
    qw: new Float32Array(8),
  };
  const q = field.quantized(-32, 32, 0.001);
  return registerComponent(createProtocol(), store, {
    name: 'Pose',
    fields: { px: q, py: q, pz: q, rot: field.quat(['qx', 'qy', 'qz', 'qw'], 10) },
  });
}

const comp = poseComponent();
const layout = residualLayout(comp) as ResidualLayout;
const FIELDS = comp.fields.length;
const ALL = comp.allFieldsMask;
const trace = createMotionTrace(11);
const sample = new Float64Array(TRACE_SAMPLE_LENGTH);

/** Wire values of traced device `d` at tick t (60 Hz), into out[o ..]. */
function wireAt(d: number, t: number, out: Float64Array, o: number): void {
  trace.sample([TraceDevice.head, TraceDevice.left, TraceDevice.right][d % 3], t * 16.67 + d * 997, sample);
  for (let i = 0; i < 3; i++) out[o + i] = Math.round((sample[i] + 32) / 0.001);
  out[o + 3] = packQuat(sample[3], sample[4], sample[5], sample[6], 10);
}

function absoluteBits(mask: number): number {
  let bits = 0;
  for (let f = 0; f < FIELDS; f++) if ((mask & (1 << f)) !== 0) bits += comp.fields[f].bits;
  return bits;
}

describe('ackedbase2 residuals', () => {
  it('keeps the client history bit-identical to the server record under partial masks, loss, duplication and reordering', () => {
    for (const loss of [0.1, 0.3]) {
      const rnd = createRandom(Math.round(loss * 977));
      const ENTITIES = 9;
      const server = new AckedBaselines(FIELDS, ENTITIES + 1);
      const ring = new BaselineRing(FIELDS, ENTITIES + 1);
      const plan = createBaselinePlan();
      const readPlan = createBaselinePlan();
      const truth = new Float64Array((ENTITIES + 1) * FIELDS);
      const pending = new Uint32Array(ENTITIES + 1);
      const out = new Float64Array(FIELDS);
      const w = new BitWriter();
      const r = new BitReader();
      let inFlight: { at: number; tick: number; sends: [number, number][]; bytes: Uint8Array; refAge: number }[] = [];
      let acks: { at: number; tick: number; eids: number[] }[] = [];
      let newestAcked = -1;
      const counts = { predicted: 0, partial: 0, decoded: 0, compared: 0, missing: 0 };
      /** newest[e]: the newest tick of a value of e the client recorded. */
      const newest = new Float64Array(ENTITIES + 1).fill(-1);
      for (let t = 1; t < 700; t++) {
        // 1. each entity moves some of its fields (a random subset each tick): those are pending
        w.reset();
        const sends: [number, number][] = [];
        plan.refAge = newestAcked < 0 ? 0 : Math.min(BASELINE_TICKS - 1, t - newestAcked);
        w.writeBits(plan.refAge, 5);
        for (let e = 1; e <= ENTITIES; e++) {
          const next = new Float64Array(FIELDS);
          wireAt(e, t, next, 0);
          const moved = rnd.next() < 0.5 ? ALL : 1 + rnd.int(ALL);
          for (let f = 0; f < FIELDS; f++) {
            if ((moved & (1 << f)) === 0 || next[f] === truth[e * FIELDS + f]) continue;
            truth[e * FIELDS + f] = next[f];
            pending[e] |= 1 << f;
          }
          if (pending[e] === 0) continue;
          let mask = pending[e];
          pending[e] = 0;
          // As the block writer does (`widen`): an absolute value goes whole.
          planBaselineFields(plan, layout, server, e, mask, truth, e * FIELDS, t, absoluteBits(mask));
          if (plan.at < 0 && mask !== ALL) {
            mask = ALL;
            planBaselineFields(plan, layout, server, e, mask, truth, e * FIELDS, t, absoluteBits(mask));
          }
          if (plan.at >= 0 && plan.at2 >= 0) counts.predicted++;
          if (plan.at >= 0 && mask !== ALL) counts.partial++;
          const before = w.bitLength;
          w.writeBits(mask, FIELDS);
          if (writeBaselineFields(w, plan, layout, server, mask, truth, e * FIELDS)) {
            for (let f = 0; f < FIELDS; f++)
              if ((mask & (1 << f)) !== 0) w.writeBitsWide(truth[e * FIELDS + f], comp.fields[f].bits);
          }
          // The planned size is exact.
          expect(w.bitLength - before - FIELDS).toBe(plan.bits);
          server.recordSent(e, t, mask, truth, e * FIELDS, plan.at, plan.at2);
          sends.push([e, mask]);
        }
        if (sends.length > 0) {
          const bytes = w.finish().slice();
          const copies = rnd.next() < 0.1 ? 2 : 1;
          for (let k = 0; k < copies; k++) {
            if (rnd.next() < loss) {
              // Lost: learnt an RTT later; the fields it carried are pending again (the resend path).
              acks.push({ at: t + 6 + rnd.int(4), tick: -2, eids: sends.map(([e]) => e) });
              for (const [e, m] of sends) pending[e] |= m;
              continue;
            }
            // Reordering: arrival 3..9 ticks later, in any order; now and then 16..39 ticks late, behind newer
            // values of the same slot (the server's, or the client's).
            const delay = rnd.next() < 0.05 ? 16 + rnd.int(24) : 3 + rnd.int(7);
            inFlight.push({ at: t + delay, tick: t, sends, bytes, refAge: plan.refAge });
          }
        }
        // 2. the client reads what arrives now
        const now = inFlight.filter((p) => p.at === t);
        inFlight = inFlight.filter((p) => p.at !== t);
        for (const p of now) {
          r.reset(p.bytes);
          readPlan.refAge = r.readBits(5);
          expect(readPlan.refAge).toBe(p.refAge);
          const dropped: number[] = [];
          for (const [e] of p.sends) {
            const mask = r.readBits(FIELDS);
            const got = readBaselineFields(r, layout, ring, e, mask, p.tick, out, 0, readPlan);
            expect(got).not.toBe(BaselineRead.malformed);
            if (got === BaselineRead.absolute)
              for (let f = 0; f < FIELDS; f++)
                if ((mask & (1 << f)) !== 0) out[f] = r.readBitsWide(comp.fields[f].bits);
            if (got === BaselineRead.missing) {
              // Only a late or duplicated value can miss its baseline (a value of that entity as new or newer took
              // the slot first): the client holds that value, so this one is not needed.
              expect(p.tick).toBeLessThanOrEqual(newest[e]);
              counts.missing++;
              dropped.push(e);
              continue;
            }
            if (got === BaselineRead.decoded) counts.decoded++;
            ring.record(e, p.tick, mask, out, 0, readPlan.at);
            newest[e] = Math.max(newest[e], p.tick);
            // The whole value (fields outside the mask included, as the slot's fields say) is what the server
            // recorded for that tick, whenever the server still holds it.
            const mine = ring.find(e, p.tick, 0, p.tick);
            const theirs = server.sent.find(e, p.tick, 0, p.tick);
            if (theirs >= 0 && p.tick > t - BASELINE_TICKS) {
              counts.compared++;
              expect(mine).toBeGreaterThanOrEqual(0);
              const held = server.sent.fieldsAt(theirs);
              expect(ring.fieldsAt(mine)).toBe(held);
              const value = (values: Uint32Array, at: number) =>
                Array.from({ length: FIELDS }, (_, f) => ((held & (1 << f)) !== 0 ? values[at + f] : -1));
              expect(value(ring.values, mine)).toEqual(value(server.sent.values, theirs));
            }
          }
          expect(r.ok).toBe(true);
          acks.push({ at: t + 3, tick: p.tick, eids: p.sends.map(([e]) => e).filter((e) => !dropped.includes(e)) });
          if (dropped.length > 0) acks.push({ at: t + 3, tick: -1, eids: dropped });
        }
        // 3. the server learns acks (a NACK for a missing baseline forgets it and resends whole)
        for (const a of acks.filter((x) => x.at === t)) {
          for (const e of a.eids) {
            if (a.tick >= 0) {
              server.ackedTick(e, a.tick);
              newestAcked = Math.max(newestAcked, a.tick);
            } else if (a.tick === -1) {
              server.forget(e);
              pending[e] = ALL;
            }
          }
        }
        acks = acks.filter((x) => x.at !== t);
      }
      expect(counts.decoded).toBeGreaterThan(1500);
      expect(counts.predicted).toBeGreaterThan(200);
      expect(counts.partial).toBeGreaterThan(300);
      expect(counts.compared).toBeGreaterThan(2000);
      // Late values are few: the server names only values the client acked.
      expect(counts.missing).toBeLessThan(counts.decoded / 20);
    }
  });

  it('predicts in integers, clamped to each field, and falls back to the baseline quaternion on an index change', () => {
    const unit = 2 ** 10;
    const span = unit ** 3;
    const quat = (index: number, a: number, b: number, c: number) => index * span + a * unit * unit + b * unit + c;
    const max = comp.fields[1].maxWire;
    const values = new Float64Array(2 * FIELDS);
    values.set([1000, max - 3, 2, quat(2, 500, 1023, 0)], 0); // B1
    values.set([900, max - 9, 4, quat(2, 490, 1000, 5)], FIELDS); // B2
    const ref = new Float64Array(FIELDS);
    referenceOf(layout, ALL, values, 0, FIELDS, ref);
    expect(Array.from(ref)).toEqual([1100, max, 0, quat(2, 510, 1023, 0)]);
    // Only the fields of the mask are written.
    ref.fill(-1);
    referenceOf(layout, 0b0101, values, 0, FIELDS, ref);
    expect(Array.from(ref)).toEqual([1100, -1, 0, -1]);
    values[FIELDS + 3] = quat(1, 490, 1000, 5);
    referenceOf(layout, ALL, values, 0, FIELDS, ref);
    expect(ref[3]).toBe(values[3]);
    // No second value: the baseline itself.
    referenceOf(layout, ALL, values, 0, -1, ref);
    expect(Array.from(ref)).toEqual(Array.from(values.subarray(0, FIELDS)));
  });

  it('rejects hostile ages: below 1, at or past the history window, or a prefix past the escape', () => {
    const ring = new BaselineRing(FIELDS, 2);
    const v = new Float64Array(FIELDS);
    for (let t = 70; t < 100; t++) {
      wireAt(0, t, v, 0);
      ring.record(1, t, ALL, v, 0);
    }
    const readPlan = createBaselinePlan();
    const out = new Float64Array(FIELDS);
    const w = new BitWriter();
    const r = new BitReader();
    const bodyWithAge = (offset: number) => {
      w.reset();
      w.writeBits(1, 1);
      writePositive(w, offset);
      w.writeBits(0, 1);
      w.writeBits(0, 2);
      for (let i = 0; i < 6; i++) w.writeBits(1, 1);
      return w.finish().slice();
    };
    // refAge 3: offset 1 is age 3 (decoded), offset 30 is age 32 (outside the window: malformed).
    readPlan.refAge = 3;
    r.reset(bodyWithAge(1));
    expect(readBaselineFields(r, layout, ring, 1, ALL, 100, out, 0, readPlan)).toBe(BaselineRead.decoded);
    expect(readPlan.at).toBe(ring.find(1, 97, ALL, 100));
    r.reset(bodyWithAge(30));
    expect(readBaselineFields(r, layout, ring, 1, ALL, 100, out, 0, readPlan)).toBe(BaselineRead.malformed);
    expect(readPlan.at).toBe(-1);
    readPlan.refAge = 0;
    r.reset(bodyWithAge(1));
    expect(readBaselineFields(r, layout, ring, 1, ALL, 100, out, 0, readPlan)).toBe(BaselineRead.malformed);
    r.reset(bodyWithAge(MAX_DIRECT_POSITIVE + 5));
    expect(readBaselineFields(r, layout, ring, 1, ALL, 100, out, 0, readPlan)).toBe(BaselineRead.malformed);
    // 17 zero bits: past the escape prefix.
    r.reset(new Uint8Array([0x80, 0, 0, 0x7f, 0xff]));
    expect(readBaselineFields(r, layout, ring, 1, ALL, 100, out, 0, readPlan)).toBe(BaselineRead.malformed);
    expect(r.ok).toBe(false);
  });

  it('codes positive integers in Exp-Golomb with an escape, and fails hostile or truncated codes', () => {
    const w = new BitWriter();
    const r = new BitReader();
    const values = [1, 2, 3, 4, 7, 8, 255, 65535, 65536, 65537, 2 ** 31, 2 ** 40 + 3];
    for (const v of values) writePositive(w, v);
    const bits = w.bitLength;
    expect(bits).toBe(values.reduce((s, v) => s + positiveBits(v), 0));
    expect(positiveBits(1)).toBe(1);
    expect(positiveBits(2)).toBe(3);
    expect(positiveBits(7)).toBe(5);
    r.reset(w.finish());
    for (const v of values) expect(readPositive(r)).toBe(v);
    expect(r.ok).toBe(true);
    // 17 zeros: malformed, no long loop.
    r.reset(new Uint8Array([0, 0, 0, 0xff]));
    expect(readPositive(r)).toBe(0);
    expect(r.ok).toBe(false);
    // The escape prefix with other bits than the escape's: malformed.
    w.reset();
    w.writeBits(0, 16);
    w.writeBits(MAX_DIRECT_POSITIVE + 2, 17);
    w.writeBits(0, 8);
    r.reset(w.finish());
    expect(readPositive(r)).toBe(0);
    expect(r.ok).toBe(false);
    // Truncated.
    w.reset();
    writePositive(w, 1000);
    const bytes = w.finish();
    r.reset(bytes.subarray(0, 1));
    expect(readPositive(r)).toBe(0);
    expect(r.ok).toBe(false);
  });

  it('takes no ack as a baseline until armed, and then only acks of sends from the arming tick on', () => {
    const coder = serverBaselinesFor(['ackedbase2'], [comp])!;
    const wires = Array.from({ length: FIELDS }, () => new Float64Array(4));
    const set = (t: number) => {
      const v = new Float64Array(FIELDS);
      wireAt(1, t, v, 0);
      for (let f = 0; f < FIELDS; f++) wires[f][1] = v[f];
    };
    const w = new BitWriter();
    let welcomed = false;
    coder.armWhen(() => welcomed);
    const send = (t: number): boolean => {
      coder.begin(t);
      set(t);
      w.reset();
      return coder.write(w, 0, 1, ALL, wires);
    };
    for (let t = 1; t <= 5; t++) {
      expect(send(t)).toBe(true);
      coder.acked(1, 0, t);
    }
    // Still unarmed: every send absolute, and the refAge has nothing to go by.
    expect(coder.refAge).toBe(0);
    welcomed = true;
    expect(send(6)).toBe(true);
    // Acks of sends before the arming tick (6) do not count; the ack of tick 6 does.
    coder.acked(1, 0, 5);
    expect(send(7)).toBe(true);
    coder.acked(1, 0, 6);
    expect(send(8)).toBe(false);
    // A resumed client (armWhen(null)) keeps an armed coder armed.
    coder.armWhen(null);
    coder.acked(1, 0, 8);
    expect(send(9)).toBe(false);
  });

  it('a peer offering only the first version (`ackedbase`) is not given residuals', () => {
    expect(serverBaselinesFor(['deflate', 'ackedbase'], [comp])).toBeUndefined();
    expect(clientBaselinesFor(['ackedbase'], [comp], undefined)).toBeUndefined();
    expect(serverBaselinesFor(['ackedbase2'], [comp])).toBeDefined();
    expect(clientBaselinesFor(['ackedbase2'], [comp], undefined)).toBeDefined();
  });
});
