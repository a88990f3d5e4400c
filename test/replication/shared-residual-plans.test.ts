/**
 * The residual plans a server's clients share (shared-residual-plans.ts): a memo answer is exactly what
 * `residualBits` computes, for any mix of masks, values and baselines (quaternion index changes and residuals
 * too large included), and clients coding through the shared memo write the same bits as clients that each plan
 * their own, over random sends, acks and losses, while most of their look-ups hit.
 */
import { describe, expect, it } from 'vitest';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { packQuat } from '../../src/codec/quaternion.ts';
import { createRandom, type Random } from '../../src/random.ts';
import { createProtocol, registerComponent, type RegisteredComponent } from '../../src/register.ts';
import { field } from '../../src/protocol/field-schema.ts';
import { ServerBaselineCoder } from '../../src/replication/baseline-block.ts';
import { residualBits, residualLayout, type ResidualLayout } from '../../src/replication/residual-codec.ts';
import { SharedResidualPlans } from '../../src/replication/shared-residual-plans.ts';

function protocolComponents(): RegisteredComponent[] {
  const p = createProtocol();
  const store = () => ({
    px: new Float32Array(8),
    py: new Float32Array(8),
    pz: new Float32Array(8),
    qx: new Float32Array(8),
    qy: new Float32Array(8),
    qz: new Float32Array(8),
    qw: new Float32Array(8),
  });
  const q = field.quantized(-32, 32, 0.001);
  // A component that is never residual-coded (a float field) ahead of the pose: component indices must line up.
  const other = registerComponent(p, { v: new Float32Array(8) }, { name: 'Other', fields: { v: field.f32() } });
  const pose = registerComponent(p, store(), {
    name: 'Pose',
    fields: { px: q, py: q, pz: q, rot: field.quat(['qx', 'qy', 'qz', 'qw'], 10) },
  });
  return [other, pose];
}

const comps = protocolComponents();
const POSE = 1;
const pose = comps[POSE];
const layout = residualLayout(pose) as ResidualLayout;
const FIELDS = pose.fields.length;
const MAX_Q = 64 / 0.001;

function randomQuat(rnd: Random): number {
  const x = rnd.range(-1, 1);
  const y = rnd.range(-1, 1);
  const z = rnd.range(-1, 1);
  const w = rnd.range(-1, 1);
  const n = Math.hypot(x, y, z, w) || 1;
  return packQuat(x / n, y / n, z / n, w / n, 10);
}

/** A value near `base` (small, medium or huge moves; a quaternion may change its largest component). */
function near(rnd: Random, f: number, base: number): number {
  if (f === 3) return rnd.next() < 0.3 ? randomQuat(rnd) : base;
  const r = rnd.next();
  const step = r < 0.6 ? rnd.range(-20, 20) : r < 0.9 ? rnd.range(-3000, 3000) : rnd.range(-MAX_Q, MAX_Q);
  return Math.min(MAX_Q, Math.max(0, Math.round(base + step)));
}

describe('shared residual plans', () => {
  it('answer exactly what residualBits computes, through repeats, replacements and every mask', () => {
    const rnd = createRandom(11);
    const plans = new SharedResidualPlans(comps);
    const ENTITIES = 40;
    // A few candidate (values, baseline) pairs per entity, so look-ups repeat, miss and replace entries.
    const pairs: Float64Array[][] = [];
    for (let e = 0; e < ENTITIES; e++) {
      const list: Float64Array[] = [];
      for (let k = 0; k < 4; k++) {
        const base = new Float64Array(FIELDS);
        const vals = new Float64Array(FIELDS);
        for (let f = 0; f < FIELDS; f++) {
          base[f] = f === 3 ? randomQuat(rnd) : rnd.int(MAX_Q);
          vals[f] = near(rnd, f, base[f]);
        }
        list.push(base, vals);
      }
      // The same values as the first pair against another baseline (a client that acked another tick).
      const other = new Float64Array(FIELDS);
      for (let f = 0; f < FIELDS; f++) other[f] = near(rnd, f, list[1][f]);
      list.push(other, list[1]);
      pairs.push(list);
    }
    const want = new Int32Array(1);
    const got = new Int32Array(1);
    let negative = 0;
    for (let i = 0; i < 20_000; i++) {
      const eid = 1 + rnd.int(ENTITIES);
      const k = [0, 1, 4][rnd.int(3)];
      const base = pairs[eid - 1][2 * k];
      const vals = pairs[eid - 1][2 * k + 1];
      const mask = rnd.next() < 0.8 ? pose.allFieldsMask : 1 + rnd.int(pose.allFieldsMask);
      want[0] = got[0] = 7;
      const w = residualBits(layout, mask, vals, 0, base, 0, want);
      const g = plans.residualBits(POSE, eid, mask, vals, 0, base, 0, got);
      expect(g).toBe(w);
      expect(got[0]).toBe(want[0]);
      if (w < 0) negative++;
    }
    // The run covered the residual form's refusals, hits and misses.
    expect(negative).toBeGreaterThan(100);
    expect(plans.hits).toBeGreaterThan(1000);
    expect(plans.misses).toBeGreaterThan(1000);
  });

  it('clients coding through the shared memo write the same bits as clients planning alone', () => {
    const rnd = createRandom(5);
    const CLIENTS = 12;
    const ENTITIES = 64;
    const TICKS = 200;
    const plans = new SharedResidualPlans(comps);
    const shared = Array.from({ length: CLIENTS }, () => new ServerBaselineCoder(comps, plans));
    const alone = Array.from({ length: CLIENTS }, () => new ServerBaselineCoder(comps));
    const wires = [
      [new Float64Array(ENTITIES + 1)],
      Array.from({ length: FIELDS }, () => new Float64Array(ENTITIES + 1)),
    ];
    for (let e = 1; e <= ENTITIES; e++) {
      for (let f = 0; f < FIELDS; f++) wires[POSE][f][e] = f === 3 ? randomQuat(rnd) : rnd.int(MAX_Q);
    }
    const ws = new BitWriter(64);
    const wa = new BitWriter(64);
    // Sends not yet acked or lost, per client: (eid, tick).
    const inflight: [number, number][][] = Array.from({ length: CLIENTS }, () => []);
    let residuals = 0;
    for (let tick = 1; tick <= TICKS; tick++) {
      // 1. a fifth of the entities move
      for (let e = 1; e <= ENTITIES; e++) {
        if (rnd.next() >= 0.2) continue;
        for (let f = 0; f < FIELDS; f++) wires[POSE][f][e] = near(rnd, f, wires[POSE][f][e]);
      }
      for (let c = 0; c < CLIENTS; c++) {
        // 2. acks (and losses) of earlier sends arrive, some late: the clients' baselines drift apart
        const keep: [number, number][] = [];
        for (const [eid, t] of inflight[c]) {
          const r = rnd.next();
          if (r < 0.1) continue; // lost
          if (r < 0.3 && tick - t < 6) keep.push([eid, t]);
          else {
            shared[c].acked(eid, POSE, t);
            alone[c].acked(eid, POSE, t);
          }
        }
        inflight[c] = keep;
        if (rnd.next() < 0.01) {
          const gone = 1 + rnd.int(ENTITIES);
          shared[c].forget(gone, -1);
          alone[c].forget(gone, -1);
        }
        // 3. a send of some entities, field masks varying
        shared[c].tick = alone[c].tick = tick;
        ws.reset();
        wa.reset();
        for (let e = 1; e <= ENTITIES; e++) {
          if (rnd.next() >= 0.3) continue;
          const mask = rnd.next() < 0.7 ? pose.allFieldsMask : 1 + rnd.int(pose.allFieldsMask);
          expect(shared[c].bits(POSE, e, mask, wires[POSE])).toBe(alone[c].bits(POSE, e, mask, wires[POSE]));
          const absS = shared[c].write(ws, POSE, e, mask, wires[POSE]);
          const absA = alone[c].write(wa, POSE, e, mask, wires[POSE]);
          expect(absS).toBe(absA);
          if (!absS) residuals++;
          inflight[c].push([e, tick]);
        }
        expect(ws.finish()).toEqual(wa.finish());
      }
    }
    expect(residuals).toBeGreaterThan(5000);
    // Each client's second look-up (write after bits) hits, and clients that acked the same tick share a plan
    // (here the masks vary and the acks drift apart: steady rooms hit far more, see bench/interest-scale).
    expect(plans.hits).toBeGreaterThan(plans.misses / 2);
  });
});
