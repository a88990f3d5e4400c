/**
 * Per-component detection kernels generated at registration: for a component whose fields all have a fixed-width
 * numeric wire form (quantized, quaternion, bool, the integer and float kinds, enum), one straight-line loop over
 * the flagged entities reads every field, brings it to wire form, compares it with its shadow and builds the
 * entity's changed-field mask, with the field's constants (bounds, precision, bit widths) inlined as literals and
 * the smallest-three packing written out in locals (no scratch, no call, no boxed double). The result is the same
 * as `ShadowStore.detectMany`'s generic loops, bit for bit (test/replication/detect-kernel.test.ts).
 *
 * Injection safety: the generated source holds no text from the user. Identifiers are built from field indices
 * (`col0`, `quat3_2`, `sh1`: prefixes no local of the kernel starts with), and constants are numbers checked finite and printed by `Number.prototype.toString` (which
 * round-trips a double exactly). Components with entity references or short strings (which need the mapper and
 * the string codec) get no kernel, and where the platform forbids `new Function` (a strict Content Security
 * Policy) none is made either: both keep the generic loops.
 */
import { packQuat } from '../codec/quaternion.ts';
import { FieldKind } from '../protocol/field-schema.ts';
import type { RegisteredComponent } from '../register.ts';
import type { CompiledField } from './compiled-field.ts';

/**
 * Detects `count` entities `eids[0..count)` of one component: `masks[i]` gets the changed fields of `eids[i]`,
 * each changed shadow `shadows[f][eid]` takes the new wire value.
 */
export type DetectKernel = (eids: Int32Array, count: number, masks: Uint32Array, shadows: Float64Array[]) => void;

/** A generated kernel and the source it was made from (for tests and profiling). */
export interface CompiledKernel {
  readonly detect: DetectKernel;
  readonly source: string;
}

/** Range of the three smaller quaternion components (as quaternion.ts). */
const RANGE = Math.SQRT1_2;
/** The margin packQuat keeps between the rebuilt largest square and every other square. */
const LARGEST_MARGIN = 1e-6;

/** A number as a source literal; anything not finite refuses to generate (never reached for a validated schema). */
function lit(x: number): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new TypeError('kernel constant is not a finite number');
  return x < 0 || Object.is(x, -0) ? `(${x === 0 ? '-0' : x.toString()})` : x.toString();
}

/** True when every field of `comp` can be generated. */
function generatable(comp: RegisteredComponent): boolean {
  if (comp.fields.length === 0 || comp.fields.length > 32) return false;
  return comp.fields.every(
    (f) => f.kind !== FieldKind.entity && f.kind !== FieldKind.shortString && Number.isInteger(f.kind),
  );
}

/** Source of the wire-value compare: `wireDiffers(v, s)` of compiled-field.ts, inline. */
function differs(v: string, s: string): string {
  return `(${v} !== ${s} ? (${v} === ${v} || ${s} === ${s}) : (${v} === 0 && 1 / ${v} !== 1 / ${s}))`;
}

/** Source computing field `f`'s wire value into `v` (the entity is `e`), for the kinds `readWireValue` handles. */
function wireSource(fd: CompiledField, f: number): string {
  const a = `col${f}[e]`;
  switch (fd.kind) {
    case FieldKind.quantized: {
      const min = lit(fd.min);
      const max = lit(fd.max);
      return `x = ${a}; v = !(x > ${min}) ? 0 : Math.round(((x > ${max} ? ${max} : x) - ${min}) / ${lit(fd.precision)});`;
    }
    case FieldKind.bool:
      return `v = ${a} ? 1 : 0;`;
    case FieldKind.u8:
      return `v = ${a} & 0xff;`;
    case FieldKind.u16:
      return `v = ${a} & 0xffff;`;
    case FieldKind.u32:
      return `v = ${a} >>> 0;`;
    case FieldKind.i8:
      return `v = (${a} << 24) >> 24;`;
    case FieldKind.i16:
      return `v = (${a} << 16) >> 16;`;
    case FieldKind.i32:
      return `v = ${a} | 0;`;
    case FieldKind.f32:
      return `v = Math.fround(${a});`;
    case FieldKind.enum:
      return `v = ${a} | 0; v = v < 0 ? 0 : v > ${lit(fd.maxWire)} ? ${lit(fd.maxWire)} : v;`;
    default:
      return `v = ${a};`;
  }
}

/**
 * The branchless smallest-three packing of quaternion-fast.ts written out for field `f` (columns q{f}_0..3): the
 * same packed value as `packQuat`, which the rare inputs (length out of range, packQuat's nudge) still call.
 */
function quatSource(fd: CompiledField, f: number): string {
  const bits = fd.quatBits;
  const maxQ = 2 ** bits - 2;
  const unit = lit(2 ** bits);
  const scale = lit(maxQ / (2 * RANGE));
  const step = lit((2 * RANGE) / maxQ);
  const range = lit(RANGE);
  const q = (k: number) => `quat${f}_${k}[e]`;
  const quant = (t: string) => `Math.min(${maxQ}, Math.max(0, Math.round((${t} * sg + ${range}) * ${scale})))`;
  return [
    `x = ${q(0)}; y = ${q(1)}; z = ${q(2)}; w = ${q(3)}; v = -1;`,
    `n2 = x * x + y * y + z * z + w * w;`,
    `if (n2 > 1e-150 && n2 < 1e150) {`,
    `  inv = 1 / Math.sqrt(n2); nx = x * inv; ny = y * inv; nz = z * inv; nw = w * inv;`,
    `  ax = Math.abs(nx); ay = Math.abs(ny); az = Math.abs(nz); aw = Math.abs(nw);`,
    // Largest magnitude, ties to the lowest index; the other three in x, y, z, w order.
    `  b01 = +(ay > ax); b23 = +(aw > az); hi = +((b23 ? aw : az) > (b01 ? ay : ax));`,
    `  ix = (hi << 1) | (b01 ^ ((b01 ^ b23) & -hi));`,
    `  big = ix === 0 ? nx : ix === 1 ? ny : ix === 2 ? nz : nw;`,
    `  sg = 1 - 2 * +(big < 0);`,
    `  ta = ix === 0 ? ny : nx; tb = ix <= 1 ? nz : ny; tc = ix === 3 ? nz : nw;`,
    `  qa = ${quant('ta')}; qb = ${quant('tb')}; qc = ${quant('tc')};`,
    `  da = qa * ${step} - ${range}; db = qb * ${step} - ${range}; dc = qc * ${step} - ${range};`,
    `  a2 = da * da; b2 = db * db; c2 = dc * dc; rest = 1 - a2 - b2 - c2 - ${lit(LARGEST_MARGIN)};`,
    `  if ((+(a2 < rest) & +(b2 < rest) & +(c2 < rest)) !== 0) v = ((ix * ${unit} + qa) * ${unit} + qb) * ${unit} + qc;`,
    `}`,
    `if (v < 0) v = packQuat(x, y, z, w, ${bits});`,
  ].join('\n      ');
}

/** Generates the detection kernel of `comp`, or null when it has a field no kernel handles (or codegen is off). */
export function compileDetectKernel(comp: RegisteredComponent): CompiledKernel | null {
  if (!generatable(comp)) return null;
  const params: string[] = [];
  const args: unknown[] = [];
  const prologue: string[] = [];
  const body: string[] = [];
  comp.fields.forEach((fd, f) => {
    if (fd.kind === FieldKind.quat) {
      for (let k = 0; k < 4; k++) {
        params.push(`quat${f}_${k}`);
        args.push(fd.quat![k]);
      }
    } else {
      params.push(`col${f}`);
      args.push(fd.array);
    }
    prologue.push(`const sh${f} = shadows[${f}];`);
    const bit = f === 31 ? '(1 << 31)' : `${1 << f}`;
    const compute = fd.kind === FieldKind.quat ? quatSource(fd, f) : wireSource(fd, f);
    // Quantized and quaternion wire values are non-negative integers: a plain compare is exact for them.
    const plain = fd.kind === FieldKind.quat || fd.kind === FieldKind.quantized;
    const test = plain ? `v !== sh${f}[e]` : differs('v', `sh${f}[e]`);
    body.push(`      ${compute}`, `      if (${test}) { sh${f}[e] = v; m |= ${bit}; }`);
  });
  params.push('packQuat');
  args.push(packQuat);
  const source = [
    `'use strict';`,
    `return function detectKernel(eids, count, masks, shadows) {`,
    `  ${prologue.join('\n  ')}`,
    `  let v = 0, x = 0, y = 0, z = 0, w = 0, n2 = 0, inv = 0, nx = 0, ny = 0, nz = 0, nw = 0;`,
    `  let ax = 0, ay = 0, az = 0, aw = 0, b01 = 0, b23 = 0, hi = 0, ix = 0, big = 0, sg = 0;`,
    `  let ta = 0, tb = 0, tc = 0, qa = 0, qb = 0, qc = 0, da = 0, db = 0, dc = 0, a2 = 0, b2 = 0, c2 = 0, rest = 0;`,
    `  for (let i = 0; i < count; i++) {`,
    `    const e = eids[i];`,
    `    let m = 0;`,
    ...body,
    `    masks[i] = m;`,
    `  }`,
    `};`,
  ].join('\n');
  let detect: DetectKernel;
  try {
    // Generated from field indices and checked numbers only (see the file comment).
    const factory = new Function(...params, source) as (...a: unknown[]) => DetectKernel;
    detect = factory(...args);
  } catch {
    return null; // no eval here (Content Security Policy): the generic loops stay
  }
  return { detect, source };
}

/** Kernels of every component (null entries keep the generic path). */
export function compileDetectKernels(components: readonly RegisteredComponent[]): (CompiledKernel | null)[] {
  return components.map(compileDetectKernel);
}
