/**
 * The generated per-component detection kernels (detect-kernel.ts) against the generic per-field loops of
 * `ShadowStore.detectGeneric` on random schemas and random values, hostile ones included (NaN, -0, infinities,
 * out-of-range, zero and huge quaternions): the same changed-field masks and the same shadow values, bit for bit.
 * Also: a hostile field name never reaches the generated source, and components the kernels do not cover keep the
 * generic path.
 */
import { describe, expect, it } from 'vitest';
import { createProtocol, field, registerComponent } from '../../src/index.ts';
import type { FieldSpec } from '../../src/protocol/field-schema.ts';
import { createRandom, type Random } from '../../src/random.ts';
import { compileDetectKernel } from '../../src/replication/detect-kernel.ts';
import { EntityRegistry } from '../../src/replication/entity-registry.ts';
import { ShadowStore } from '../../src/replication/shadow-store.ts';

const ENTITIES = 200;

type Column =
  Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array;

function randomSpec(rnd: Random): FieldSpec {
  const kinds = ['quantized', 'quat', 'bool', 'u8', 'u16', 'u32', 'i8', 'i16', 'i32', 'f32', 'f64', 'enum'] as const;
  const kind = kinds[Math.floor(rnd.next() * kinds.length)];
  switch (kind) {
    case 'quantized': {
      const min = -Math.round(rnd.next() * 1000) / 8;
      const max = min + 1 + Math.round(rnd.next() * 2000) / 4;
      const precision = [0.001, 0.01, 0.37, 1, 1 / 3][Math.floor(rnd.next() * 5)];
      return field.quantized(min, max, precision);
    }
    case 'quat':
      return { kind: 'quat', keys: ['', '', '', ''], bits: 4 + Math.floor(rnd.next() * 12) };
    case 'enum':
      return field.enum(Array.from({ length: 1 + Math.floor(rnd.next() * 9) }, (_, i) => `v${i}`));
    default:
      return { kind };
  }
}

function columnFor(spec: FieldSpec, n: number): Column {
  switch (spec.kind) {
    case 'u8':
    case 'bool':
      return new Uint8Array(n);
    case 'u16':
      return new Uint16Array(n);
    case 'i8':
      return new Int8Array(n);
    case 'i16':
      return new Int16Array(n);
    case 'u32':
      return new Uint32Array(n);
    case 'i32':
      return new Int32Array(n);
    case 'f64':
      return new Float64Array(n);
    case 'f32':
      return n % 2 === 0 ? new Float64Array(n) : new Float32Array(n);
    default:
      return new Float32Array(n);
  }
}

/** A hostile or ordinary value for a column. */
function randomValue(rnd: Random, quat: boolean): number {
  const r = rnd.next();
  if (r < 0.03) return NaN;
  if (r < 0.06) return -0;
  if (r < 0.08) return rnd.next() < 0.5 ? Infinity : -Infinity;
  if (r < 0.1) return 0;
  if (r < 0.12) return (rnd.next() - 0.5) * 1e30;
  if (r < 0.14) return (rnd.next() - 0.5) * 1e-30;
  // Ties between the largest components (packQuat picks the lowest index).
  if (quat && r < 0.3) return [0.5, -0.5, Math.SQRT1_2, -Math.SQRT1_2][Math.floor(rnd.next() * 4)];
  if (quat) return rnd.next() * 2 - 1;
  return (rnd.next() - 0.5) * 2 ** (1 + Math.floor(rnd.next() * 40));
}

/** A random component of 1..8 fields, registered on a fresh protocol, with its columns. */
function randomComponent(rnd: Random, name = 'C') {
  const fieldCount = 1 + Math.floor(rnd.next() * 8);
  const store: Record<string, Column> = {};
  const fields: Record<string, FieldSpec> = {};
  const quatColumns: Column[] = [];
  for (let f = 0; f < fieldCount; f++) {
    let spec = randomSpec(rnd);
    if (spec.kind === 'quat') {
      const keys = [0, 1, 2, 3].map((k) => `q${f}${'xyzw'[k]}`) as [string, string, string, string];
      for (const k of keys) {
        store[k] = rnd.next() < 0.5 ? new Float32Array(ENTITIES + 1) : new Float64Array(ENTITIES + 1);
        quatColumns.push(store[k]);
      }
      spec = field.quat(keys, spec.bits);
      fields[`rot${f}`] = spec;
    } else {
      store[`f${f}`] = columnFor(spec, ENTITIES + 1 + (rnd.next() < 0.5 ? 1 : 0));
      fields[`f${f}`] = spec;
    }
  }
  const protocol = createProtocol();
  const comp = registerComponent(protocol, store, { name, fields });
  return { protocol, comp, columns: Object.values(store), quatColumns };
}

function fill(rnd: Random, columns: readonly Column[], quatColumns: readonly Column[], share: number): void {
  for (const col of columns) {
    const quat = quatColumns.includes(col);
    for (let e = 1; e <= ENTITIES; e++) if (rnd.next() < share) col[e] = randomValue(rnd, quat);
  }
}

describe('generated detection kernels', () => {
  it('give the generic loops masks and shadow values, bit for bit, on random schemas and values', () => {
    const rnd = createRandom(1313);
    let changedFields = 0;
    for (let schema = 0; schema < 60; schema++) {
      const { protocol, comp, columns, quatColumns } = randomComponent(rnd);
      const reg = new EntityRegistry(1, ENTITIES + 1);
      const kernelStore = new ShadowStore(protocol.components, reg);
      const genericStore = new ShadowStore(protocol.components, reg);
      expect(kernelStore.kernels[0], 'every kind here is generated').not.toBeNull();
      fill(rnd, columns, quatColumns, 1);
      for (let e = 1; e <= ENTITIES; e++) {
        kernelStore.capture(0, e);
        genericStore.capture(0, e);
      }
      const eids = Int32Array.from({ length: ENTITIES }, (_, i) => i + 1);
      const kernelMasks = new Uint32Array(ENTITIES);
      const genericMasks = new Uint32Array(ENTITIES);
      for (let round = 0; round < 4; round++) {
        fill(rnd, columns, quatColumns, 0.3);
        kernelMasks.fill(0xdead); // the kernel must write every mask, not OR into stale ones
        kernelStore.detectMany(0, eids, ENTITIES, kernelMasks);
        genericStore.detectGeneric(0, eids, ENTITIES, genericMasks);
        expect(Array.from(kernelMasks)).toEqual(Array.from(genericMasks));
        for (let f = 0; f < comp.fields.length; f++) {
          const k = new Uint32Array(kernelStore.wire[0][f].buffer, 0, 2 * (ENTITIES + 1));
          const g = new Uint32Array(genericStore.wire[0][f].buffer, 0, 2 * (ENTITIES + 1));
          expect(Array.from(k), `schema ${schema} field ${f}`).toEqual(Array.from(g));
        }
        for (const m of genericMasks) changedFields += m === 0 ? 0 : 1;
      }
    }
    expect(changedFields).toBeGreaterThan(1000); // the comparison saw real changes
  });

  it('keeps user text out of the generated source (a hostile field name cannot inject code)', () => {
    const hostile = "x'); globalThis.__pwned = 1; (function(){//";
    const store = { [hostile]: new Float32Array(8), qx: new Float32Array(8) };
    const protocol = createProtocol();
    const comp = registerComponent(protocol, store, {
      name: '*/ globalThis.__pwned = 1; /*',
      fields: { [hostile]: field.quantized(-1, 1, 0.01) },
    });
    const kernel = compileDetectKernel(comp);
    expect(kernel).not.toBeNull();
    expect(kernel!.source).not.toContain('pwned');
    expect(kernel!.source).not.toMatch(/[^\x20-\x7e\n]/);
    const shadows = [new Float64Array(8)];
    const masks = new Uint32Array(1);
    store[hostile][3] = 0.5;
    kernel!.detect(Int32Array.of(3), 1, masks, shadows);
    expect(masks[0]).toBe(1);
    expect(shadows[0][3]).toBe(150);
    expect((globalThis as Record<string, unknown>).__pwned).toBeUndefined();
  });

  it('falls back to the generic loops where code generation is forbidden (a strict Content Security Policy)', () => {
    const protocol = createProtocol();
    const store = { x: new Float32Array(8) };
    registerComponent(protocol, store, { name: 'P', fields: { x: field.quantized(-1, 1, 0.01) } });
    const original = globalThis.Function;
    globalThis.Function = function forbidden() {
      throw new EvalError('code generation from strings disallowed for this context');
    } as unknown as FunctionConstructor;
    let shadow: ShadowStore;
    try {
      shadow = new ShadowStore(protocol.components, new EntityRegistry(1, 8));
    } finally {
      globalThis.Function = original;
    }
    expect(shadow.kernels[0]).toBeNull();
    shadow.capture(0, 2);
    store.x[2] = 0.5;
    const masks = new Uint32Array(1);
    shadow.detectMany(0, Int32Array.of(2), 1, masks);
    expect(masks[0]).toBe(1);
    expect(shadow.wire[0][0][2]).toBe(150);
  });

  it('leaves components with references or short strings to the generic path', () => {
    const protocol = createProtocol();
    const a = registerComponent(protocol, { t: new Uint32Array(4) }, { name: 'A', fields: { t: field.entity() } });
    const b = registerComponent(protocol, { s: [] as string[] }, { name: 'B', fields: { s: field.shortString(8) } });
    expect(compileDetectKernel(a)).toBeNull();
    expect(compileDetectKernel(b)).toBeNull();
  });
});
