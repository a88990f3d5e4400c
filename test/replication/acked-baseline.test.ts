/**
 * Deltas against the client's acked baseline, at the codec level: the server's `AckedBaselines` plans and writes
 * each pose component against the newest tick the client acked, the client decodes against its `BaselineRing`.
 * Under loss, duplication, reordering and late acks a residual either decodes to exactly the value sent or is
 * reported missing (never a wrong value), and a resend loop converges on the truth. Bounds and hostile input too.
 */
import { describe, expect, it } from 'vitest';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { packQuat } from '../../src/codec/quaternion.ts';
import { createRandom } from '../../src/random.ts';
import { createProtocol, registerComponent, type RegisteredComponent } from '../../src/register.ts';
import { field } from '../../src/protocol/field-schema.ts';
import { AckedBaselines, MAX_RESIDUAL_CHAIN } from '../../src/replication/acked-baseline.ts';
import {
  BaselineRead,
  createBaselinePlan,
  planBaselineFields,
  readBaselineFields,
  writeBaselineFields,
} from '../../src/replication/baseline-fields.ts';
import { BASELINE_TICKS, BaselineRing } from '../../src/replication/baseline-ring.ts';
import { ClientBaselineDecoder } from '../../src/replication/client-baseline-decoder.ts';
import { residualLayout, type ResidualLayout } from '../../src/replication/residual-codec.ts';
import { createMotionTrace, TRACE_SAMPLE_LENGTH, TraceDevice } from '../../src/vr/motion-trace.ts';

function poseComponent(): RegisteredComponent {
  const p = createProtocol();
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
  return registerComponent(p, store, {
    name: 'Pose',
    fields: { px: q, py: q, pz: q, rot: field.quat(['qx', 'qy', 'qz', 'qw'], 10) },
  });
}

const comp = poseComponent();
const layout = residualLayout(comp) as ResidualLayout;
const FIELDS = comp.fields.length;
const ALL = comp.allFieldsMask;
const trace = createMotionTrace(7);
const sample = new Float64Array(TRACE_SAMPLE_LENGTH);
/** The client's read scratch (reference age 0: ages are coded relative to it). */
const readPlan = createBaselinePlan();

/** Wire values of the traced device `d` at tick t (60 Hz), into out[o ..]. */
function wireAt(d: number, t: number, out: Float64Array, o: number): void {
  trace.sample(
    d % 3 === 0 ? TraceDevice.head : d % 3 === 1 ? TraceDevice.left : TraceDevice.right,
    t * 16.67 + d * 997,
    sample,
  );
  for (let i = 0; i < 3; i++) out[o + i] = Math.round((sample[i] + 32) / 0.001);
  out[o + 3] = packQuat(sample[3], sample[4], sample[5], sample[6], 10);
}

function absoluteBits(): number {
  let bits = 0;
  for (const f of comp.fields) bits += f.bits;
  return bits;
}

function writeAbsolute(w: BitWriter, v: Float64Array, o: number): void {
  for (let f = 0; f < FIELDS; f++) w.writeBitsWide(v[o + f], comp.fields[f].bits);
}

function readAbsolute(r: BitReader, out: Float64Array, o: number): void {
  for (let f = 0; f < FIELDS; f++) out[o + f] = r.readBitsWide(comp.fields[f].bits);
}

describe('acked-baseline deltas', () => {
  it('round-trips residuals exactly and falls back to absolute without a baseline', () => {
    const server = new AckedBaselines(FIELDS, 16);
    const ring = new BaselineRing(FIELDS, 16);
    const plan = createBaselinePlan();
    const v = new Float64Array(FIELDS);
    const out = new Float64Array(FIELDS);
    const w = new BitWriter();
    const r = new BitReader();
    const eid = 3;
    let residuals = 0;
    for (let t = 1; t < 200; t++) {
      wireAt(0, t, v, 0);
      planBaselineFields(plan, layout, server, eid, ALL, v, 0, t, absoluteBits());
      w.reset();
      if (writeBaselineFields(w, plan, layout, server, ALL, v, 0)) writeAbsolute(w, v, 0);
      const bits = w.bitLength;
      expect(bits).toBe(plan.bits);
      server.recordSent(eid, t, ALL, v, 0, plan.at);
      r.reset(w.finish());
      const got = readBaselineFields(r, layout, ring, eid, ALL, t, out, 0, readPlan);
      if (got === BaselineRead.absolute) readAbsolute(r, out, 0);
      else residuals++;
      expect(got === BaselineRead.absolute || got === BaselineRead.decoded).toBe(true);
      expect(Array.from(out)).toEqual(Array.from(v));
      ring.record(eid, t, ALL, out, 0);
      // The ack of tick t arrives 6 ticks later (100 ms RTT at 60 Hz).
      if (t > 6) server.ackedTick(eid, t - 6);
    }
    expect(residuals).toBeGreaterThan(150);
  });

  it('never decodes a wrong value and converges under 10-30 % loss, duplication, reordering and late acks', () => {
    for (const loss of [0.1, 0.3]) {
      const rnd = createRandom(Math.round(loss * 1000));
      const ENTITIES = 12;
      const server = new AckedBaselines(FIELDS, ENTITIES + 1);
      const ring = new BaselineRing(FIELDS, ENTITIES + 1);
      const plan = createBaselinePlan();
      const truth = new Float64Array((ENTITIES + 1) * FIELDS);
      const held = new Float64Array((ENTITIES + 1) * FIELDS);
      const heldTick = new Int32Array(ENTITIES + 1).fill(-1);
      const pending = new Uint8Array(ENTITIES + 1);
      const out = new Float64Array(FIELDS);
      const w = new BitWriter();
      const r = new BitReader();
      // In flight: packet bytes with the tick they carry, the eids, and when they arrive; acks likewise.
      let inFlight: { at: number; tick: number; eids: number[]; bytes: Uint8Array }[] = [];
      let acks: { at: number; tick: number; eids: number[] }[] = [];
      let missing = 0;
      let decoded = 0;
      const END = 600;
      for (let t = 1; t < END + 80; t++) {
        const moving = t < END;
        // 1. the server sends every changed or re-marked entity
        w.reset();
        const eids: number[] = [];
        for (let e = 1; e <= ENTITIES; e++) {
          if (moving) {
            const before = truth.slice(e * FIELDS, (e + 1) * FIELDS).join();
            wireAt(e, t, truth, e * FIELDS);
            if (truth.slice(e * FIELDS, (e + 1) * FIELDS).join() !== before) pending[e] = 1;
          }
          if (pending[e] === 0) continue;
          pending[e] = 0;
          eids.push(e);
          planBaselineFields(plan, layout, server, e, ALL, truth, e * FIELDS, t, absoluteBits());
          if (writeBaselineFields(w, plan, layout, server, ALL, truth, e * FIELDS)) writeAbsolute(w, truth, e * FIELDS);
          server.recordSent(e, t, ALL, truth, e * FIELDS, plan.at);
        }
        if (eids.length > 0) {
          const bytes = w.finish().slice();
          const copies = rnd.next() < 0.1 ? 2 : 1;
          for (let k = 0; k < copies; k++) {
            if (rnd.next() < loss) {
              // Lost: the server learns it after an RTT and re-marks the entities (the resend path).
              acks.push({ at: t + 6 + rnd.int(4), tick: -2, eids });
              continue;
            }
            inFlight.push({ at: t + 3 + rnd.int(5), tick: t, eids, bytes });
          }
        }
        // The client sometimes loses an entity's history (evicted, or cleared by a resync) while the server
        // still holds an acked baseline for it: residuals against it must come back missing, then resent.
        if (rnd.next() < 0.05) ring.forget(1 + rnd.int(ENTITIES));
        // 2. the client receives what arrives now, in any order
        const now = inFlight.filter((p) => p.at === t);
        inFlight = inFlight.filter((p) => p.at !== t);
        for (const p of now) {
          r.reset(p.bytes);
          const dropped: number[] = [];
          for (const e of p.eids) {
            const got = readBaselineFields(r, layout, ring, e, ALL, p.tick, out, 0, readPlan);
            expect(got).not.toBe(BaselineRead.malformed);
            if (got === BaselineRead.absolute) readAbsolute(r, out, 0);
            if (got === BaselineRead.missing) {
              missing++;
              dropped.push(e);
              continue;
            }
            if (got === BaselineRead.decoded) decoded++;
            // Exactly what the server sent at that tick (its record of it).
            const at = server.sent.find(e, p.tick, ALL, p.tick);
            if (at >= 0) expect(Array.from(out)).toEqual(Array.from(server.sent.values.subarray(at, at + FIELDS)));
            ring.record(e, p.tick, ALL, out, 0);
            if (p.tick > heldTick[e]) {
              heldTick[e] = p.tick;
              held.set(out, e * FIELDS);
            }
          }
          expect(r.ok).toBe(true);
          // The client acks the packet (a duplicate acks again); entities it could not decode are NACKed.
          acks.push({ at: t + 3, tick: p.tick, eids: p.eids.filter((e) => !dropped.includes(e)) });
          if (dropped.length > 0) acks.push({ at: t + 3, tick: -1, eids: dropped });
        }
        // 3. the server learns acks and losses
        for (const a of acks.filter((x) => x.at === t)) {
          for (const e of a.eids) {
            if (a.tick >= 0) server.ackedTick(e, a.tick);
            else pending[e] = 1;
            // A NACK for a missing baseline: the server drops that baseline, so the resend goes absolute.
            if (a.tick === -1) server.forget(e);
          }
        }
        acks = acks.filter((x) => x.at !== t);
      }
      expect(decoded).toBeGreaterThan(1000);
      expect(missing).toBeGreaterThan(0);
      // Converged: what the client holds is the final truth for every entity.
      expect(Array.from(held)).toEqual(Array.from(truth));
    }
  });

  it('a link the client lost (its packet acked, its value dropped) heals within MAX_RESIDUAL_CHAIN sends', () => {
    const server = new AckedBaselines(FIELDS, 4);
    const ring = new BaselineRing(FIELDS, 4);
    const plan = createBaselinePlan();
    const v = new Float64Array(FIELDS);
    const out = new Float64Array(FIELDS);
    const w = new BitWriter();
    const r = new BitReader();
    let lastMissing = -1;
    let firstMissing = -1;
    for (let t = 1; t < 200; t++) {
      wireAt(1, t, v, 0);
      planBaselineFields(plan, layout, server, 1, ALL, v, 0, t, absoluteBits());
      w.reset();
      if (writeBaselineFields(w, plan, layout, server, ALL, v, 0)) writeAbsolute(w, v, 0);
      server.recordSent(1, t, ALL, v, 0, plan.at);
      r.reset(w.finish());
      const got = readBaselineFields(r, layout, ring, 1, ALL, t, out, 0, readPlan);
      if (got === BaselineRead.absolute) readAbsolute(r, out, 0);
      // Tick 50's value is acked but never kept by the client (e.g. a dropped held delta).
      if (got === BaselineRead.missing) {
        if (firstMissing < 0) firstMissing = t;
        lastMissing = t;
      } else if (t !== 50) {
        expect(Array.from(out)).toEqual(Array.from(v));
        ring.record(1, t, ALL, out, 0);
      }
      server.ackedTick(1, t);
    }
    expect(firstMissing).toBe(51);
    expect(lastMissing - firstMissing).toBeLessThan(MAX_RESIDUAL_CHAIN + 1);
  });

  it('a residual too large for the reader (a 30-bit stamp jump) goes absolute instead', () => {
    const p = createProtocol();
    const u = field.quantized(0, 65535, 1);
    const store: Record<string, Float64Array> = {};
    const fields: Record<string, ReturnType<typeof field.quantized>> = { s: field.quantized(0, 2 ** 30 - 1, 1) };
    store.s = new Float64Array(4);
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) {
      store[k] = new Float64Array(4);
      fields[k] = u;
    }
    const wide = registerComponent(p, store, { name: 'Wide', fields });
    const n = wide.fields.length;
    const all = wide.allFieldsMask;
    const sl = residualLayout(wide) as ResidualLayout;
    const server = new AckedBaselines(n, 4);
    const ring = new BaselineRing(n, 4);
    const plan = createBaselinePlan();
    const out = new Float64Array(n);
    const w = new BitWriter();
    const r = new BitReader();
    // The small fields stay put (residuals of 1 bit), the stamp jumps by 2^22 and more: past MAX_EG_ZEROS.
    const steps = [0, 5, 2 ** 22, 2 ** 22 + 3, 7, 2 ** 29, 2 ** 30 - 1, 2 ** 30 - 40];
    let absolutes = 0;
    for (let t = 1; t <= steps.length; t++) {
      const v = new Float64Array(n).fill(1000);
      v[0] = steps[t - 1];
      planBaselineFields(plan, sl, server, 1, all, v, 0, t, 30 + 16 * (n - 1));
      w.reset();
      if (writeBaselineFields(w, plan, sl, server, all, v, 0)) {
        absolutes++;
        for (let f = 0; f < n; f++) w.writeBits(v[f], wide.fields[f].bits);
      }
      server.recordSent(1, t, all, v, 0, plan.at);
      r.reset(w.finish());
      const got = readBaselineFields(r, sl, ring, 1, all, t, out, 0, readPlan);
      if (got === BaselineRead.absolute) for (let f = 0; f < n; f++) out[f] = r.readBits(wide.fields[f].bits);
      expect(r.ok).toBe(true);
      expect(Array.from(out)).toEqual(Array.from(v));
      ring.record(1, t, all, out, 0);
      server.ackedTick(1, t);
    }
    expect(absolutes).toBeGreaterThan(1);
  });

  it('bounds the history: rows past maxRows are refused and counted, old ticks and other fields do not answer', () => {
    const ring = new BaselineRing(FIELDS, 2);
    const v = new Float64Array([1, 2, 3, 4]);
    expect(ring.record(1, 5, ALL, v, 0)).toBe(true);
    expect(ring.record(2, 5, ALL, v, 0)).toBe(true);
    expect(ring.record(3, 5, ALL, v, 0)).toBe(false);
    expect(ring.refused).toBe(1);
    expect(ring.rows).toBe(2);
    expect(ring.find(1, 5, ALL, 5)).toBeGreaterThanOrEqual(0);
    expect(ring.find(1, 5, ALL, 5 + BASELINE_TICKS - 1)).toBeGreaterThanOrEqual(0);
    expect(ring.find(1, 5, ALL, 5 + BASELINE_TICKS)).toBe(-1);
    expect(ring.find(1, 4, ALL, 5)).toBe(-1);
    // The slot of tick 5 reused by tick 5 + BASELINE_TICKS answers for the new tick only.
    const later = 5 + BASELINE_TICKS;
    ring.record(1, later, 1, v, 0);
    expect(ring.find(1, 5, 1, later)).toBe(-1);
    expect(ring.find(1, later, 1, later)).toBeGreaterThanOrEqual(0);
    expect(ring.find(1, later, ALL, later)).toBe(-1);
    // A late value never takes the slot of a newer one (the server no longer holds it either).
    expect(ring.record(1, 5, ALL, v, 0)).toBe(false);
    expect(ring.find(1, later, 1, later)).toBeGreaterThanOrEqual(0);
    expect(ring.find(1, 5, ALL, later)).toBe(-1);
    ring.forget(2);
    expect(ring.rows).toBe(1);
    expect(ring.record(3, 6, ALL, v, 0)).toBe(true);
    expect(ring.find(3, 6, ALL, 6)).toBeGreaterThanOrEqual(0);
    expect(ring.find(2, 5, ALL, 6)).toBe(-1);
    const server = new AckedBaselines(FIELDS, 1);
    server.recordSent(1, 10, ALL, v, 0);
    server.recordSent(2, 10, ALL, v, 0);
    expect(server.sent.refused).toBe(1);
    server.ackedTick(2, 10);
    expect(server.baseline(2, ALL, 11, new Int32Array(1))).toBe(-1);
    server.ackedTick(1, 10);
    expect(server.baseline(1, ALL, 11, new Int32Array(1))).toBeGreaterThanOrEqual(0);
    expect(server.baseline(1, ALL, 10 + BASELINE_TICKS, new Int32Array(1))).toBe(-1);
    // Two sends of one entity in the same tick: that tick names two values, so it never serves as a baseline.
    const twice = new AckedBaselines(FIELDS, 2);
    twice.recordSent(1, 20, ALL, v, 0);
    twice.recordSent(1, 20, ALL, new Float64Array([9, 9, 9, 9]), 0);
    twice.ackedTick(1, 20);
    expect(twice.baseline(1, ALL, 21, new Int32Array(1))).toBe(-1);
    twice.recordSent(1, 21, ALL, v, 0);
    twice.ackedTick(1, 21);
    expect(twice.baseline(1, ALL, 22, new Int32Array(1))).toBeGreaterThanOrEqual(0);
  });

  it("the client's decoder keeps history for at most its entities and counts the ones refused", () => {
    const decoder = new ClientBaselineDecoder([comp], 2);
    const v = new Float64Array([1, 2, 3, 4]);
    for (const eid of [1, 2, 3, 4]) decoder.record(0, eid, 7, ALL, v, 0);
    expect(decoder.refused).toBe(2);
    decoder.forget(1);
    decoder.record(0, 5, 8, ALL, v, 0);
    expect(decoder.refused).toBe(2);
  });

  it('hostile bodies never throw and never yield an out-of-range value', () => {
    const rnd = createRandom(42);
    const ring = new BaselineRing(FIELDS, 4);
    const v = new Float64Array(FIELDS);
    for (let t = 90; t < 100; t++) {
      wireAt(1, t, v, 0);
      ring.record(1, t, ALL, v, 0);
    }
    const out = new Float64Array(FIELDS);
    const r = new BitReader();
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) {
      const bytes = new Uint8Array(1 + rnd.int(24));
      for (let b = 0; b < bytes.length; b++) bytes[b] = rnd.int(256);
      // Mode 1 with a small age most of the time, so decoding against a held baseline is exercised.
      if (rnd.next() < 0.7) bytes[0] = 0x80 | (rnd.int(10) << 2) | (bytes[0] & 3);
      r.reset(bytes);
      out.fill(-1);
      const got = readBaselineFields(
        r,
        layout,
        ring,
        1,
        rnd.next() < 0.5 ? ALL : 1 + rnd.int(ALL),
        100,
        out,
        0,
        readPlan,
      );
      counts[got]++;
      if (got === BaselineRead.decoded) {
        for (let f = 0; f < 3; f++)
          if (out[f] !== -1) expect(out[f] >= 0 && out[f] <= comp.fields[f].maxWire).toBe(true);
        if (out[3] !== -1) expect(out[3] >= 0 && out[3] < 2 ** comp.fields[3].bits).toBe(true);
      }
    }
    expect(counts[BaselineRead.decoded]).toBeGreaterThan(100);
    expect(counts[BaselineRead.malformed]).toBeGreaterThan(100);
    expect(counts[BaselineRead.missing]).toBeGreaterThan(100);
  });

  it('a pose with a held baseline costs well under its absolute bits on the motion trace', () => {
    const server = new AckedBaselines(FIELDS, 4);
    const plan = createBaselinePlan();
    const v = new Float64Array(FIELDS);
    let bits = 0;
    let n = 0;
    for (let t = 1; t < 2000; t++) {
      wireAt(2, t, v, 0);
      bits += planBaselineFields(plan, layout, server, 1, ALL, v, 0, t, absoluteBits());
      server.recordSent(1, t, ALL, v, 0, plan.at);
      if (t > 6) server.ackedTick(1, t - 6);
      n++;
    }
    // Absolute: 3 x 16 + 32 = 80 bits; against a 6-tick-old baseline the trace's hand costs far less.
    expect(bits / n).toBeLessThan(0.75 * (1 + absoluteBits()));
  });
});
