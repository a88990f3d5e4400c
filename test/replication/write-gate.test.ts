/** The write gate on its own: slots, staging from wire values, verdicts, clamps back to wire form, rule order. */
import { describe, expect, it } from 'vitest';
import { packQuat } from '../../src/codec/quaternion.ts';
import { quantize } from '../../src/codec/quantize.ts';
import { WriteGate, WriteVerdict } from '../../src/replication/write-gate.ts';
import { defineFixture } from '../helpers/fixture.ts';

const NO_REFS = { toNet: (eid: number) => eid + 100, toLocal: (netId: number) => netId - 100 };

function gate() {
  const fx = defineFixture();
  const comps = fx.protocol.components;
  const pose = comps.find((c) => c.name === 'Pose')!;
  const floats = comps.find((c) => c.name === 'Floats')!;
  const link = comps.find((c) => c.name === 'Link')!;
  return { fx, g: new WriteGate(comps), pose, floats, link };
}

describe('write gate', () => {
  it('gives each store array a slot (a quaternion four) and stages current values from the arrays', () => {
    const { fx, g, pose } = gate();
    fx.Pose.px[3] = 1.5;
    fx.Pose.qw[3] = 0.5;
    const w = g.stage('action', 7, 3, pose.id, 1000);
    expect(w.slot).toEqual({ px: 0, py: 1, pz: 2, qx: 3, qy: 4, qz: 5, qw: 6 });
    expect(w.current[w.slot.px]).toBe(1.5);
    expect(w.current[w.slot.qw]).toBe(0.5);
    expect([...w.proposed]).toEqual([...w.current]);
    expect([w.writer, w.eid, w.path, w.mask, w.dtMs]).toEqual([7, 3, 'action', 0, Infinity]);
  });

  it('stages wire values in natural form and writes a clamp back to wire form', () => {
    const { g, pose, link } = gate();
    const values = new Float64Array(16);
    values[0] = quantize(12.345, -100, 100, 0.001);
    values[3] = packQuat(0, 0, 0, 1, pose.fields[3].quatBits);
    const w = g.stageWire('delta', 1, 2, pose.id, 0b1001, values, 0, NO_REFS, 0);
    expect(w.proposed[w.slot.px]).toBeCloseTo(12.345, 6);
    expect(w.proposed[w.slot.qw]).toBeCloseTo(1, 3);
    g.addRule(pose.id, (c) => {
      c.proposed[c.slot.px] = 10;
    });
    expect(g.run(w)).toBe(WriteVerdict.clamped);
    g.toWire(w, values, 0, NO_REFS);
    expect(values[0]).toBe(quantize(10, -100, 100, 0.001));
    // References are staged as local entities and go back as network ids.
    values[8] = 105;
    const r = g.stageWire('delta', 1, 2, link.id, 1, values, 8, NO_REFS, 0);
    expect(r.proposed[r.slot.target]).toBe(5);
    g.toWire(r, values, 8, NO_REFS);
    expect(values[8]).toBe(105);
  });

  it('refuses a non-finite float before any rule, and one a rule produces', () => {
    const { g, floats } = gate();
    const values = new Float64Array([NaN, 1, 0]);
    expect(g.hasNonFinite(floats.id, 0b001, values, 0)).toBe(true);
    expect(g.hasNonFinite(floats.id, 0b010, values, 0)).toBe(false);
    values[1] = -Infinity;
    expect(g.hasNonFinite(floats.id, 0b010, values, 0)).toBe(true);
    g.addRule(floats.id, (c) => {
      c.proposed[c.slot.f64] = c.proposed[c.slot.f64] / 0;
    });
    const w = g.stage('action', 1, 1, floats.id, 0);
    w.mask = 0b010;
    w.proposed[w.slot.f64] = 0;
    expect(g.run(w)).toBe(WriteVerdict.refused);
    expect(g.counters.nonFinite).toBe(1);
  });

  it('runs rules in order, stops at the first refusal, and can remove a rule', () => {
    const { g, pose } = gate();
    const ran: string[] = [];
    const removeA = g.addRule(pose.id, () => {
      ran.push('a');
      return 'no';
    });
    g.addRule(pose.id, () => {
      ran.push('b');
    });
    const w = g.stage('delta', 1, 1, pose.id, 0);
    w.mask = 1;
    expect(g.run(w)).toBe(WriteVerdict.refused);
    expect(g.reason).toBe('no');
    expect(ran).toEqual(['a']);
    removeA();
    expect(g.run(w)).toBe(WriteVerdict.accepted);
    expect(ran).toEqual(['a', 'b']);
    expect(g.counters).toMatchObject({ checked: 2, refused: 1, clamped: 0 });
  });

  it('ignores changes outside the mask and tells rules the time since the last accepted write', () => {
    const { fx, g, pose } = gate();
    g.addRule(pose.id, (c) => {
      c.proposed[c.slot.py] = 99; // not written: ignored
    });
    const w = g.stage('action', 1, 4, pose.id, 1000);
    w.mask = 1;
    w.proposed[w.slot.px] = 2;
    expect(g.run(w)).toBe(WriteVerdict.accepted);
    g.commit(w, 1000);
    expect([fx.Pose.px[4], fx.Pose.py[4]]).toEqual([2, 0]);
    expect(g.stage('action', 1, 4, pose.id, 1250).dtMs).toBe(250);
  });
});
