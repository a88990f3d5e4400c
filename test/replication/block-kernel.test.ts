/**
 * The generated Delta block writer (block-kernel.ts) against the generic `entityBlockBits` / `writeEntityBlock`
 * of entity-block.ts on random protocols (every fixed-width kind, 1..5 components of 0..9 fields), random masks
 * (none, some, all fields) and random wire values: the same bit count and the same bytes, block after block in
 * one writer (so unaligned starts are covered). Protocols the kernel does not cover get none.
 */
import { describe, expect, it } from 'vitest';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { createProtocol, field, registerComponent } from '../../src/index.ts';
import type { FieldSpec } from '../../src/protocol/field-schema.ts';
import { createRandom, type Random } from '../../src/random.ts';
import { compileBlockKernel } from '../../src/replication/block-kernel.ts';
import { entityBlockBits, writeEntityBlock } from '../../src/replication/entity-block.ts';
import { EntityRegistry } from '../../src/replication/entity-registry.ts';
import { ShadowStore } from '../../src/replication/shadow-store.ts';

const ENTITIES = 64;

const KINDS = ['quantized', 'quat', 'bool', 'u8', 'u16', 'u32', 'i8', 'i16', 'i32', 'f32', 'f64', 'enum'] as const;

function randomField(rnd: Random, f: number, store: Record<string, unknown>): [string, FieldSpec] {
  const kind = KINDS[Math.floor(rnd.next() * KINDS.length)];
  const n = ENTITIES + 1;
  switch (kind) {
    case 'quantized':
      store[`f${f}`] = new Float32Array(n);
      return [`f${f}`, field.quantized(-10, 10 + rnd.next() * 1e6, [1e-3, 0.5, 1e-2][Math.floor(rnd.next() * 3)])];
    case 'quat': {
      const keys = [0, 1, 2, 3].map((k) => `q${f}_${k}`) as [string, string, string, string];
      for (const k of keys) store[k] = new Float32Array(n);
      return [`r${f}`, field.quat(keys, 4 + Math.floor(rnd.next() * 12))];
    }
    case 'enum':
      store[`f${f}`] = new Uint16Array(n);
      return [`f${f}`, field.enum(Array.from({ length: 1 + Math.floor(rnd.next() * 300) }, (_, i) => `v${i}`))];
    case 'f64':
      store[`f${f}`] = new Float64Array(n);
      return [`f${f}`, field.f64()];
    case 'u32':
      store[`f${f}`] = new Uint32Array(n);
      return [`f${f}`, field.u32()];
    case 'i32':
      store[`f${f}`] = new Int32Array(n);
      return [`f${f}`, field.i32()];
    default:
      store[`f${f}`] = kind === 'f32' ? new Float32Array(n) : new Int32Array(n);
      return [`f${f}`, { kind }];
  }
}

/** A wire value the shadow may hold for the field: in range, signed kinds signed. */
function wireValue(rnd: Random, kind: number, bits: number, spec: FieldSpec): number {
  switch (spec.kind) {
    case 'f32':
      return Math.fround((rnd.next() - 0.5) * 1e6);
    case 'f64':
      return (rnd.next() - 0.5) * 1e300;
    case 'i8':
    case 'i16':
    case 'i32':
      return Math.floor(rnd.next() * 2 ** bits) - 2 ** (bits - 1);
    default:
      return kind >= 0 ? Math.floor(rnd.next() * 2 ** bits) : 0;
  }
}

describe('generated Delta block writer', () => {
  it('gives the generic writer bits and bytes on random protocols, masks and values', () => {
    const rnd = createRandom(4242);
    let blocks = 0;
    for (let p = 0; p < 50; p++) {
      const protocol = createProtocol();
      const count = 1 + Math.floor(rnd.next() * 5);
      for (let c = 0; c < count; c++) {
        const store: Record<string, unknown> = {};
        const fields: Record<string, FieldSpec> = {};
        const fieldCount = Math.floor(rnd.next() * 10);
        for (let f = 0; f < fieldCount; f++) {
          const [name, spec] = randomField(rnd, f, store);
          fields[name] = spec;
        }
        registerComponent(protocol, store, { name: `C${c}`, fields });
      }
      const comps = protocol.components;
      const kernel = compileBlockKernel(comps);
      expect(kernel, 'fixed-width fields only').not.toBeNull();
      const shadow = new ShadowStore(comps, new EntityRegistry(comps.length, ENTITIES + 1));
      for (const comp of comps)
        comp.fields.forEach((fd, f) => {
          for (let e = 0; e <= ENTITIES; e++) shadow.wire[comp.id][f][e] = wireValue(rnd, fd.kind, fd.bits, fd.spec);
        });
      const generic = new BitWriter(64);
      const generated = new BitWriter(64);
      const masks = new Uint32Array(comps.length);
      const present = new Uint8Array(comps.length);
      const pending = comps.map(() => new Uint32Array(ENTITIES + 1));
      for (let e = 1; e <= ENTITIES; e++) {
        comps.forEach((comp, c) => {
          const r = rnd.next();
          const all = comp.allFieldsMask >>> 0;
          pending[c][e] = r < 0.3 ? 0 : r < 0.6 ? all : Math.floor(rnd.next() * 2 ** comp.fields.length) & all;
          masks[c] = pending[c][e];
          present[c] = masks[c] !== 0 ? 1 : 0;
        });
        const loaded = new Uint32Array(comps.length).fill(7);
        expect(kernel!.load(pending, e, loaded)).toBe(masks.some((m) => m !== 0));
        expect(Array.from(loaded)).toEqual(Array.from(masks));
        expect(kernel!.bits(masks, shadow.wire, e)).toBe(entityBlockBits(comps, masks, shadow, e));
        const before = generic.bitLength;
        writeEntityBlock(generic, comps, present, masks, shadow, e);
        kernel!.write(generated, masks, shadow.wire, e);
        expect(generated.bitLength).toBe(generic.bitLength);
        expect(generic.bitLength - before).toBe(entityBlockBits(comps, masks, shadow, e));
        blocks++;
      }
      expect(Array.from(generated.finish()), `protocol ${p}`).toEqual(Array.from(generic.finish()));
    }
    expect(blocks).toBe(50 * ENTITIES);
  });

  it('leaves protocols with references or short strings to the generic writer', () => {
    const protocol = createProtocol();
    registerComponent(protocol, { x: new Float32Array(4) }, { name: 'A', fields: { x: field.f32() } });
    registerComponent(protocol, { t: new Uint32Array(4) }, { name: 'B', fields: { t: field.entity() } });
    expect(compileBlockKernel(protocol.components)).toBeNull();
  });
});
