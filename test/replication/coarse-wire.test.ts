/** Coarse wire values: round trip, error bound per shift, and hostile CoarseDelta bodies. */
import { describe, expect, it } from 'vitest';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { packQuat, unpackQuat } from '../../src/codec/quaternion.ts';
import { createProtocol, createRandom, field, registerComponent } from '../../src/index.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { coarseBits, coarsened, readCoarse, writeCoarse } from '../../src/replication/coarse-wire.ts';
import {
  applyEntityUpdates,
  createPackScratch,
  type DeltaInfo,
  openDelta,
} from '../../src/replication/delta-packer.ts';
import { EntityRegistry } from '../../src/replication/entity-registry.ts';
import { ShadowStore } from '../../src/replication/shadow-store.ts';

function protocol() {
  const Pose = {
    px: new Float32Array(64),
    stamp: new Float32Array(64),
    qx: new Float32Array(64),
    qy: new Float32Array(64),
    qz: new Float32Array(64),
    qw: new Float32Array(64).fill(1),
  };
  const p = createProtocol();
  const comp = registerComponent(p, Pose, {
    name: 'Pose',
    fields: {
      px: field.quantized(-100, 100, 0.001),
      stamp: field.quantized(0, 2 ** 20, 1, { exact: true }),
      rot: field.quat(['qx', 'qy', 'qz', 'qw'], 10),
    },
  });
  return { p, comp, Pose };
}

describe('coarse wire values', () => {
  const { comp } = protocol();
  const [px, stamp, rot] = comp.fields;

  it('exact fields and other kinds are never coarsened; the rest keep at least their minimum bits', () => {
    expect(stamp.maxShift).toBe(0);
    expect(px.maxShift).toBe(px.bits - 1);
    expect(rot.maxShift).toBe(10 - 4);
    expect(coarseBits(px, 4)).toBe(px.bits - 4);
    expect(coarseBits(rot, 4)).toBe(2 + 3 * 6);
    // A shift beyond the field's cap is cut to it.
    expect(coarseBits(rot, 9)).toBe(2 + 3 * 4);
  });

  it('reads back what coarsened() predicts, within 2^(k-1) steps of the fine value', () => {
    const rnd = createRandom(5);
    const w = new BitWriter(64);
    const r = new BitReader();
    for (let k = 1; k <= 4; k++) {
      let worst = 0;
      for (let i = 0; i < 2000; i++) {
        const q = rnd.int(px.maxWire + 1);
        w.reset();
        writeCoarse(w, px, q, k);
        const bytes = w.toBytes();
        r.reset(bytes);
        const back = readCoarse(r, px, k);
        expect(r.ok).toBe(true);
        expect(back).toBe(coarsened(px, q, k));
        expect(back).toBeLessThanOrEqual(px.maxWire);
        worst = Math.max(worst, Math.abs(back - q));
      }
      expect(worst).toBeLessThanOrEqual(2 ** (k - 1));
      expect(worst).toBeGreaterThanOrEqual(2 ** (k - 1) - 1);
    }
  });

  it('coarse quaternions decode to unit rotations within about 2^k times the fine bound', () => {
    const rnd = createRandom(9);
    const w = new BitWriter(64);
    const r = new BitReader();
    const out = new Float64Array(4);
    const fine = new Float64Array(4);
    for (const k of [2, 4]) {
      let worstDeg = 0;
      for (let i = 0; i < 2000; i++) {
        const q = [rnd.gaussian(), rnd.gaussian(), rnd.gaussian(), rnd.gaussian()];
        const n = Math.hypot(...q);
        const packed = packQuat(q[0] / n, q[1] / n, q[2] / n, q[3] / n, 10);
        w.reset();
        writeCoarse(w, rot, packed, k);
        r.reset(w.toBytes());
        const back = readCoarse(r, rot, k);
        expect(back).toBe(coarsened(rot, packed, k));
        unpackQuat(back, 10, out);
        unpackQuat(packed, 10, fine);
        expect(Math.hypot(...out)).toBeCloseTo(1, 6);
        const dot = Math.abs(out[0] * fine[0] + out[1] * fine[1] + out[2] * fine[2] + out[3] * fine[3]);
        worstDeg = Math.max(worstDeg, (2 * Math.acos(Math.min(1, dot)) * 180) / Math.PI);
      }
      const bound = ((2 * Math.sqrt(6) * 2 ** k) / (2 ** 10 - 2)) * (180 / Math.PI);
      expect(worstDeg).toBeLessThanOrEqual(bound);
      expect(worstDeg).toBeGreaterThan(bound / 8);
    }
  });
});

describe('hostile CoarseDelta bodies', () => {
  function receiver() {
    const { p, Pose } = protocol();
    const comps = p.components;
    const reg = new EntityRegistry(comps.length, 64);
    const shadow = new ShadowStore(comps, reg);
    const eid = 5;
    reg.add(eid, 1);
    reg.has[0][eid] = 1;
    shadow.ensure(eid);
    return { comps, reg, shadow, scratch: createPackScratch(comps), Pose, eid };
  }

  function coarseDelta(write: (w: BitWriter) => void): Uint8Array {
    const w = new BitWriter(64);
    w.writeBits(Tag.CoarseDelta & 0xff, 8);
    w.writeBits(Tag.CoarseDelta >>> 8, 8);
    w.writeVarUint(10); // tick
    w.writeBits(0, 16); // dependsOn
    write(w);
    return w.toBytes();
  }

  function apply(msg: Uint8Array) {
    const rx = receiver();
    const r = new BitReader();
    const info: DeltaInfo = { tick: 0, dependsOn: 0, count: 0 };
    const result = { ok: true, applied: 0, forbidden: 0, unknown: 0 };
    if (!openDelta(r, msg, info)) return { ok: false, rx, info };
    applyEntityUpdates(
      r,
      info,
      rx.scratch,
      rx.comps,
      rx.shadow,
      rx.reg,
      rx.reg,
      { canWrite: () => true, updateShadow: true },
      result,
    );
    return { ok: result.ok, rx, info, result };
  }

  it('a well-formed body applies at its level; a truncated one changes nothing', () => {
    const good = coarseDelta((w) => {
      w.writeVarUint(1); // count
      w.writeVarUint(1); // netId
      w.writeBits(0b111, 3); // level code: shift 4
      w.writeBits(1, 1); // presence
      w.writeBits(0, 1); // not all fields
      w.writeBits(0b001, 3); // px only
      w.writeBits(1000, 18 - 4);
    });
    const a = apply(good);
    expect(a.info.coarse).toBe(true);
    expect(a.ok).toBe(true);
    expect(a.rx.shadow.wire[0][0][a.rx.eid]).toBe(1000 * 16 + 8);
    for (let cut = 3; cut < good.length; cut++) {
      const b = apply(good.subarray(0, cut));
      expect(b.ok).toBe(false);
      expect(b.rx.shadow.wire[0][0][b.rx.eid]).toBe(0);
    }
  });

  it('random bodies never throw and never write past a field range', () => {
    const rnd = createRandom(77);
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const body = new Uint8Array(4 + rnd.int(24));
      for (let j = 0; j < body.length; j++) body[j] = rnd.int(256);
      const msg = new Uint8Array(2 + body.length);
      msg[0] = Tag.CoarseDelta & 0xff;
      msg[1] = Tag.CoarseDelta >>> 8;
      msg.set(body, 2);
      const a = apply(msg);
      if (a.ok) accepted++;
      const f = a.rx.comps[0].fields;
      expect(a.rx.shadow.wire[0][0][a.rx.eid]).toBeLessThanOrEqual(f[0].maxWire);
      expect(a.rx.shadow.wire[0][1][a.rx.eid]).toBeLessThanOrEqual(f[1].maxWire);
    }
    // Some random bodies are valid (a count of 0, or a short one): the decoder was reached, not just refused.
    expect(accepted).toBeGreaterThan(0);
  });
});
