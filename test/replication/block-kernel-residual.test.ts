/**
 * BaselineDelta entity blocks (`ackedbase2`), three ways that must give the same bits: the generated block writer
 * with the fast residual planner (block-kernel.ts `bitsCoded`/`writeCoded` + `ServerBaselineCoder`), the generic
 * entity-block.ts path with the same planner, and a reference written here from residual-codec.ts's
 * `residualBits`/`writeResiduals` and baseline-reference.ts's `referenceOf` (via baseline-fields.ts's
 * `planBaselineFields`/`writeBaselineFields`) with its own `AckedBaselines`, its own widening of masks that
 * would go absolute and its own reference age. A protocol mixes residual-capable components (a pose, a
 * one-field counter, a 32-bit stamp with a 4-bit quaternion) with plain ones; ticks mix absent, partial and full
 * masks, small moves, linear motion (so the predicted reference wins), quaternion index changes, jumps too large
 * for any residual (2^31 and more), acks with delays, losses, forgotten entities, a reset, rows refused past the
 * history bound, and a chain of residuals long enough to hit `MAX_RESIDUAL_CHAIN`. Both references occur (last
 * acked and predicted), and ages below the reference age (absolute). Selection sizes each entity on its slot
 * first (some are sized and then not taken), and the blocks are written afterwards in another order, as the
 * packer does.
 */
import { describe, expect, it } from 'vitest';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { createProtocol, field, registerComponent } from '../../src/index.ts';
import type { RegisteredComponent } from '../../src/register.ts';
import { createRandom, type Random } from '../../src/random.ts';
import { AckedBaselines, MAX_RESIDUAL_CHAIN } from '../../src/replication/acked-baseline.ts';
import { ServerBaselineCoder } from '../../src/replication/baseline-block.ts';
import {
  type BaselinePlan,
  createBaselinePlan,
  planBaselineFields,
  writeBaselineFields,
} from '../../src/replication/baseline-fields.ts';
import { compileBlockKernel } from '../../src/replication/block-kernel.ts';
import { writeWireValue } from '../../src/replication/compiled-field.ts';
import { entityBlockBits, writeEntityBlock } from '../../src/replication/entity-block.ts';
import { EntityRegistry } from '../../src/replication/entity-registry.ts';
import { residualLayout, type ResidualLayout } from '../../src/replication/residual-codec.ts';
import { ShadowStore } from '../../src/replication/shadow-store.ts';

const ENTITIES = 40;
/** History rows per component: fewer than the entities, so some are refused and always go absolute. */
const ROWS = 28;
const TICKS = 400;
/** The entity whose pose moves every tick and is acked the next tick: its residual chain reaches the cap. */
const CHAINED = 1;

function protocolUnderTest(): readonly RegisteredComponent[] {
  const p = createProtocol();
  const n = ENTITIES + 1;
  const f32 = () => new Float32Array(n);
  const pos = field.quantized(-32, 32, 0.001);
  registerComponent(
    p,
    { px: f32(), py: f32(), pz: f32(), qx: f32(), qy: f32(), qz: f32(), qw: f32() },
    { name: 'Pose', fields: { px: pos, py: pos, pz: pos, rot: field.quat(['qx', 'qy', 'qz', 'qw'], 10) } },
  );
  registerComponent(
    p,
    { a: new Uint8Array(n), b: f32() },
    { name: 'Plain', fields: { a: { kind: 'u8' }, b: field.f32() } },
  );
  registerComponent(p, { c: f32() }, { name: 'Counter', fields: { c: field.quantized(0, 1000, 1) } });
  registerComponent(p, {}, { name: 'Tag', fields: {} });
  registerComponent(
    p,
    { s: new Float64Array(n), qx: f32(), qy: f32(), qz: f32(), qw: f32() },
    { name: 'Stamp', fields: { s: field.quantized(0, 2 ** 32 - 1, 1), r: field.quat(['qx', 'qy', 'qz', 'qw'], 4) } },
  );
  return p.components;
}

/** A field's next wire value: mostly a small move, sometimes a jump (quaternion: a new largest-component index). */
function moved(rnd: Random, comp: RegisteredComponent, f: number, v: number, calm: boolean): number {
  const fd = comp.fields[f];
  const layout = residualLayout(comp);
  const qb = layout === null ? 0 : layout.quatBits[f];
  if (qb > 0) {
    const unit = 2 ** qb;
    let index = Math.floor(v / unit ** 3);
    if (!calm && rnd.next() < 0.05) index = rnd.int(4);
    let out = index * unit ** 3;
    for (let s = 2; s >= 0; s--) {
      const part = (Math.floor(v / unit ** s) % unit) + rnd.int(7) - 3;
      out += Math.min(unit - 1, Math.max(0, part)) * unit ** s;
    }
    return out;
  }
  if (fd.spec.kind === 'f32') return Math.fround((rnd.next() - 0.5) * 1000);
  const max = fd.maxWire > 0 ? fd.maxWire : 2 ** fd.bits - 1;
  const step =
    !calm && rnd.next() < 0.04 ? (rnd.next() < 0.5 ? 2 ** 31 + rnd.int(1000) : max * rnd.next()) : rnd.int(81) - 40;
  return Math.min(max, Math.max(0, Math.round(v + (rnd.next() < 0.5 ? step : -step))));
}

/** Absolute bits of the fields `mask` of `comp`. */
function absoluteBitsOf(comp: RegisteredComponent, mask: number): number {
  let abs = 0;
  comp.fields.forEach((fd, f) => (abs += (mask & (1 << f)) !== 0 ? fd.bits : 0));
  return abs;
}

/**
 * The reference block of one entity: entity-block.ts's layout with residual-codec.ts's reference planner; a
 * partial mask that would go absolute goes with every field. `plan.refAge` is the Delta's reference age.
 */
function writeReference(
  w: BitWriter,
  comps: readonly RegisteredComponent[],
  masks: Uint32Array,
  shadow: ShadowStore,
  refs: (AckedBaselines | null)[],
  plan: BaselinePlan,
  eid: number,
  tick: number,
  ats: Int32Array,
  preds: Int32Array,
): number {
  const start = w.bitLength;
  for (let c = 0; c < comps.length; c++) w.writeBits(masks[c] !== 0 ? 1 : 0, 1);
  for (let c = 0; c < comps.length; c++) {
    const comp = comps[c];
    let mask = masks[c];
    if (mask === 0 || comp.fields.length === 0) continue;
    const values = Float64Array.from(comp.fields, (_, f) => shadow.wire[c][f][eid]);
    const ref = refs[c];
    const layout = residualLayout(comp) as ResidualLayout;
    if (ref !== null) {
      planBaselineFields(plan, layout, ref, eid, mask, values, 0, tick, absoluteBitsOf(comp, mask));
      if (plan.at < 0 && mask !== comp.allFieldsMask) {
        mask = comp.allFieldsMask;
        planBaselineFields(plan, layout, ref, eid, mask, values, 0, tick, absoluteBitsOf(comp, mask));
      }
    }
    if (comp.fields.length > 1) {
      if (mask === comp.allFieldsMask) w.writeBits(1, 1);
      else w.writeBits(mask, comp.fields.length + 1);
    }
    if (ref !== null) {
      const absolute = writeBaselineFields(w, plan, layout, ref, mask, values, 0);
      ref.recordSent(eid, tick, mask, values, 0, plan.at, plan.at2);
      ats[c] = plan.at;
      preds[c] = plan.at2;
      if (!absolute) continue;
    }
    comp.fields.forEach((fd, f) => {
      if ((mask & (1 << f)) !== 0) writeWireValue(w, fd, values[f]);
    });
  }
  return w.bitLength - start;
}

describe('generated BaselineDelta block writer under ackedbase2', () => {
  it('gives the generic path and the reference residual coder the same bits and bytes', () => {
    const comps = protocolUnderTest();
    const n = comps.length;
    const kernel = compileBlockKernel(comps);
    expect(kernel).not.toBeNull();
    const rnd = createRandom(1313);
    const shadow = new ShadowStore(comps, new EntityRegistry(n, ENTITIES + 1));
    for (let e = 0; e <= ENTITIES; e++) shadow.ensure(e);
    const generic = new ServerBaselineCoder(comps, ROWS);
    const generated = new ServerBaselineCoder(comps, ROWS);
    const refs = comps.map((c) => (residualLayout(c) === null ? null : new AckedBaselines(c.fields.length, ROWS)));
    const plan = createBaselinePlan();
    const ats = new Int32Array(n);
    const preds = new Int32Array(n);
    let newestAcked = -1;
    let refPredicted = 0;
    let refAged = 0;
    const wG = new BitWriter(64);
    const wK = new BitWriter(64);
    const wR = new BitWriter(64);
    const masks = new Uint32Array(n);
    const present = new Uint8Array(n);
    const selMasks: Uint32Array[] = [];
    const selEids: number[] = [];
    const selBits: number[] = [];
    let acks: { at: number; eid: number; c: number; tick: number }[] = [];
    let chainedAbsolutes = 0;
    let chainedResiduals = 0;
    let blocks = 0;
    for (let t = 1; t <= TICKS; t++) {
      if (t === 200) {
        // a full snapshot: every side forgets every baseline
        generic.reset();
        generated.reset();
        for (const r of refs) r?.clear();
        newestAcked = -1;
      }
      for (const cd of [generic, generated]) cd.begin(t);
      // The reference age: of the newest value acked, clamped to the header's range.
      plan.refAge = newestAcked < 0 ? 0 : Math.min(t - newestAcked, 31);
      expect(generated.refAge).toBe(plan.refAge);
      expect(generic.refAge).toBe(plan.refAge);
      if (plan.refAge > 1) refAged++;
      // 1. select: size each dirty entity on its slot; some are sized, then left out (the slot is reused)
      selEids.length = 0;
      let slot = 0;
      for (let e = 1; e <= ENTITIES; e++) {
        let any = false;
        comps.forEach((comp, c) => {
          const all = comp.allFieldsMask >>> 0;
          const r = rnd.next();
          let m = r < 0.4 ? 0 : r < 0.8 ? all : (1 + rnd.int(all)) & all;
          if (e === CHAINED && c === 0) m = all;
          masks[c] = m;
          present[c] = m !== 0 ? 1 : 0;
          for (let f = 0; f < comp.fields.length; f++) {
            if ((m & (1 << f)) === 0) continue;
            // Every third entity's position moves linearly: its predicted reference is exact.
            if (c === 0 && f < 3 && e % 3 === 0) shadow.wire[c][f][e] = 20000 + (5 + e + 3 * f) * t;
            else shadow.wire[c][f][e] = moved(rnd, comp, f, shadow.wire[c][f][e], e === CHAINED);
          }
          if (m !== 0) any = true;
        });
        if (!any) continue;
        const bits = entityBlockBits(comps, masks, shadow, e, 0, generic, slot);
        expect(kernel!.bitsCoded(masks, shadow.wire, e, generated, slot)).toBe(bits);
        if (e !== CHAINED && rnd.next() < 0.1) continue; // did not fit: not taken, its slot goes to the next one
        selMasks[slot] = Uint32Array.from(masks);
        selEids[slot] = e;
        selBits[slot] = bits;
        slot++;
      }
      // 2. write in another order (the packer's netId order), each block from its slot's plan
      const order = selEids.map((_, i) => i).sort(() => rnd.next() - 0.5);
      for (const s of order) {
        const e = selEids[s];
        const m = selMasks[s];
        for (let c = 0; c < n; c++) present[c] = m[c] !== 0 ? 1 : 0;
        const g0 = wG.bitLength;
        writeEntityBlock(wG, comps, present, m, shadow, e, 0, generic, s);
        kernel!.writeCoded(wK, m, shadow.wire, e, generated, s);
        ats.fill(-1);
        preds.fill(-1);
        const refBits = writeReference(wR, comps, m, shadow, refs, plan, e, t, ats, preds);
        for (let c = 0; c < n; c++) if (ats[c] >= 0 && preds[c] >= 0) refPredicted++;
        expect(wG.bitLength - g0).toBe(selBits[s]);
        expect(refBits).toBe(selBits[s]);
        expect(wK.bitLength).toBe(wG.bitLength);
        expect(wR.bitLength).toBe(wG.bitLength);
        if (e === CHAINED && t > 40) {
          if (ats[0] < 0) chainedAbsolutes++;
          else chainedResiduals++;
        }
        blocks++;
        // acks: most sends are acked 1-8 ticks later (the chained pose the next tick), the rest are lost
        for (let c = 0; c < n; c++) {
          if (m[c] === 0) continue;
          if (e === CHAINED && c === 0) acks.push({ at: t + 1, eid: e, c, tick: t });
          else if (rnd.next() < 0.8) acks.push({ at: t + 1 + rnd.int(8), eid: e, c, tick: t });
        }
      }
      expect(Array.from(wK.finish()), `tick ${t}`).toEqual(Array.from(wG.finish()));
      expect(Array.from(wR.finish()), `tick ${t}`).toEqual(Array.from(wG.finish()));
      wG.reset();
      wK.reset();
      wR.reset();
      // 3. acks arrive; now and then an entity is forgotten (despawn, interest) on every side
      // Now and then no ack gets through for a few ticks (they arrive late together): the reference age grows.
      const stalled = t % 50 >= 10 && t % 50 < 16;
      for (const a of stalled ? [] : acks.filter((x) => x.at <= t + 1)) {
        generic.acked(a.eid, a.c, a.tick);
        generated.acked(a.eid, a.c, a.tick);
        refs[a.c]?.ackedTick(a.eid, a.tick);
        if (refs[a.c] !== null && a.tick > newestAcked) newestAcked = a.tick;
      }
      if (!stalled) acks = acks.filter((x) => x.at > t + 1);
      if (rnd.next() < 0.05) {
        const e = 2 + rnd.int(ENTITIES - 1);
        generic.forget(e, -1);
        generated.forget(e, -1);
        for (const r of refs) r?.forget(e);
      }
    }
    expect(blocks).toBeGreaterThan(TICKS * 20);
    expect(generated.residuals).toBe(generic.residuals);
    expect(generated.absolutes).toBe(generic.absolutes);
    expect(generic.residuals).toBeGreaterThan(2000);
    expect(generic.absolutes).toBeGreaterThan(2000);
    // Both references were taken, the same number of times on every path, and the reference age moved.
    expect(generated.predicted).toBe(generic.predicted);
    expect(generic.predicted).toBe(refPredicted);
    expect(refPredicted).toBeGreaterThan(1000);
    expect(generic.residuals - generic.predicted).toBeGreaterThan(1000);
    expect(refAged).toBeGreaterThan(10);
    // Rows past the bound were refused (those entities always went absolute).
    expect(refs[0]!.sent.refused).toBeGreaterThan(0);
    // The chained pose went absolute about once per MAX_RESIDUAL_CHAIN sends, and residual otherwise.
    expect(chainedResiduals).toBeGreaterThan(10 * chainedAbsolutes);
    expect(chainedAbsolutes).toBeGreaterThanOrEqual(Math.floor((TICKS - 41) / (MAX_RESIDUAL_CHAIN + 1)) - 2);
  });
});
