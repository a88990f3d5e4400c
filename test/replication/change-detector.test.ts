/**
 * The specialized detection path (exact raw scan, one loop per field kind, the inline smallest-three) against the
 * generic per-entity path (`ShadowStore.detect`, `readWireValue`, the reference `packQuat`) on random worlds:
 * same changed-field masks, same shadow values, same entity-block bytes.
 */
import { describe, expect, it } from 'vitest';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { createRandom } from '../../src/random.ts';
import { ChangeDetector } from '../../src/replication/change-detector.ts';
import { writeEntityBlock } from '../../src/replication/entity-block.ts';
import { EntityRegistry } from '../../src/replication/entity-registry.ts';
import { ShadowStore } from '../../src/replication/shadow-store.ts';
import { defineFixture } from '../helpers/fixture.ts';

const ENTITIES = 300;

describe('change detector', () => {
  it('finds the same masks, shadow values and block bytes as the generic per-entity path', () => {
    const fx = defineFixture();
    const comps = fx.protocol.components;
    const rnd = createRandom(21);
    const reg = new EntityRegistry(comps.length, 512);
    for (let e = 1; e <= ENTITIES; e++) {
      reg.add(e);
      for (let c = 0; c < comps.length; c++) reg.has[c][e] = e % 7 === c ? 0 : 1;
    }
    const fast = new ShadowStore(comps, reg);
    const generic = new ShadowStore(comps, reg);
    const detector = new ChangeDetector(fast, reg);
    const arrays = comps.flatMap((c) => fast.sources[c.id]).filter((a) => ArrayBuffer.isView(a)) as unknown as (
      Float32Array | Float64Array | Uint8Array
    )[];
    for (let c = 0; c < comps.length; c++)
      for (let e = 1; e <= ENTITIES; e++) {
        fast.capture(c, e);
        generic.capture(c, e);
      }
    for (let c = 0; c < comps.length; c++) detector.detect(c);
    const wf = new BitWriter();
    const wg = new BitWriter();
    const present = new Uint8Array(comps.length);
    const fm = new Uint32Array(comps.length);
    const gm = new Uint32Array(comps.length);
    let changed = 0;
    for (let round = 0; round < 60; round++) {
      for (let k = 0; k < 80; k++) {
        const a = arrays[rnd.int(arrays.length)];
        const e = 1 + rnd.int(ENTITIES);
        const r = rnd.next();
        if (a instanceof Float32Array || a instanceof Float64Array)
          a[e] = r < 0.1 ? -0 : r < 0.15 ? NaN : r < 0.3 ? a[e] + 1e-7 : r < 0.35 ? 1e6 : rnd.gaussian() * 3;
        else a[e] = rnd.int(1 << 16);
      }
      // Reference: every entity, every component, the generic path.
      const expected = comps.map(() => new Uint32Array(ENTITIES + 1));
      for (let c = 0; c < comps.length; c++)
        for (let e = 1; e <= ENTITIES; e++) if (reg.has[c][e]) expected[c][e] = generic.detect(c, e);
      const got = comps.map(() => new Uint32Array(ENTITIES + 1));
      for (let c = 0; c < comps.length; c++) {
        const n = detector.detect(c);
        for (let i = 0; i < n; i++) got[c][detector.eids[i]] = detector.masks[i];
      }
      for (let c = 0; c < comps.length; c++) {
        const diff = [...got[c]]
          .map((m, e) => (m !== expected[c][e] ? `${e}:${m}/${expected[c][e]}` : ''))
          .filter(Boolean);
        expect(diff, `round ${round}, ${comps[c].name}`).toEqual([]);
        for (let f = 0; f < comps[c].fields.length; f++)
          expect([...fast.wire[c][f].subarray(0, ENTITIES + 1)]).toEqual([
            ...generic.wire[c][f].subarray(0, ENTITIES + 1),
          ]);
      }
      for (let e = 1; e <= ENTITIES; e++) {
        for (let c = 0; c < comps.length; c++) {
          fm[c] = got[c][e];
          gm[c] = expected[c][e];
          present[c] = got[c][e] !== 0 ? 1 : 0;
          if (present[c]) changed++;
        }
        wf.reset();
        wg.reset();
        writeEntityBlock(wf, comps, present, fm, fast, e);
        writeEntityBlock(wg, comps, present, gm, generic, e);
        expect([...wf.finish()]).toEqual([...wg.finish()]);
      }
    }
    expect(changed).toBeGreaterThan(1000);
  });
});
