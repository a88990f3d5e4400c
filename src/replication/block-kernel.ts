/**
 * Entity blocks of a Delta written by code generated once per protocol: the same bits as entity-block.ts's
 * `entityBlockBits` / `writeEntityBlock` for a block whose presence is its masks (a Delta's), without per-field
 * dispatch: the presence bits go out as one write, a component with every field changed writes its all-fields bit
 * and its values packed into as few 32-bit writes as fit, and each field's width and writer are fixed in the
 * source. Generated for protocols whose every field has a fixed width and no short string (so no reliable-only
 * component); others keep the generic writer. Tested bit-identical in test/replication/block-kernel.test.ts.
 *
 * `bitsCoded` / `writeCoded` are the same block in a BaselineDelta (a client under `ackedbase2`): each
 * residual-capable component (residual-codec.ts's `residualLayout`) asks the client's `ServerBaselineCoder` for
 * its fields (`widen`: a partial mask that would go absolute goes whole), writes its generated all-fields bit or
 * mask for them, then the coder's mode bit and residual (planned once in `bitsCoded`, written from the plan), and
 * only a component the coder sends absolute writes its values with the generated writes. Tested bit-identical
 * against the generic entity-block.ts path in test/replication/block-kernel-residual.test.ts.
 *
 * Injection safety: the source holds no user text, only indices and integer widths.
 */
import type { BitWriter } from '../codec/bit-writer.ts';
import { FieldKind } from '../protocol/field-schema.ts';
import type { RegisteredComponent } from '../register.ts';
import type { ServerBaselineCoder } from './baseline-block.ts';
import { residualLayout } from './residual-codec.ts';

/** Generated Delta block functions of one protocol. */
export interface BlockKernel {
  /** Copies the pending masks of `eid` into `masks` (one per component); true when any is non-zero. */
  load(pending: readonly Uint32Array[], eid: number, masks: Uint32Array): boolean;
  /** Exact bits of the block of `eid` for `masks` (presence bits included). */
  bits(masks: Uint32Array, wire: readonly (readonly Float64Array[])[], eid: number): number;
  /** Writes the block of `eid` for `masks`, values from the shadow `wire`. */
  write(w: BitWriter, masks: Uint32Array, wire: readonly (readonly Float64Array[])[], eid: number): void;
  /** `bits` with `coder`'s mode bits and residuals, planned on `slot` (the entity's place in the selection). */
  bitsCoded(
    masks: Uint32Array,
    wire: readonly (readonly Float64Array[])[],
    eid: number,
    coder: ServerBaselineCoder,
    slot: number,
  ): number;
  /** `write` with `coder`'s mode bits and residuals, as `bitsCoded` planned them on `slot`. */
  writeCoded(
    w: BitWriter,
    masks: Uint32Array,
    wire: readonly (readonly Float64Array[])[],
    eid: number,
    coder: ServerBaselineCoder,
    slot: number,
  ): void;
  /** The generated source (for tests and profiling). */
  readonly source: string;
}

/** How one field goes out: a plain unsigned write of `bits` (<= 32), or its own writer call. */
function writerOf(kind: number, bits: number): 'plain' | 'wide' | 'f32' | 'f64' {
  if (kind === FieldKind.f32) return 'f32';
  if (kind === FieldKind.f64) return 'f64';
  return bits > 32 ? 'wide' : 'plain';
}

function generatable(comps: readonly RegisteredComponent[]): boolean {
  if (comps.length === 0) return false;
  return comps.every(
    (c) =>
      !c.reliable &&
      c.fields.length <= 31 &&
      c.fields.every(
        (f) =>
          f.kind === FieldKind.f32 ||
          f.kind === FieldKind.f64 ||
          (f.kind !== FieldKind.entity && f.kind !== FieldKind.shortString && f.bits > 0 && f.bits <= 53),
      ),
  );
}

/** `value` masked to `bits` (< 32) for packing next to others. */
function masked(value: string, bits: number): string {
  return bits === 32 ? value : `(${value} & ${2 ** bits - 1})`;
}

/** Statements writing `items` (plain ones packed greedily into <= 32-bit writes). */
function emitWrites(items: { expr: string; bits: number; writer: string }[], indent: string): string[] {
  const out: string[] = [];
  let run: { expr: string; bits: number }[] = [];
  let runBits = 0;
  const flush = () => {
    if (run.length === 0) return;
    let expr = masked(run[0].expr, run[0].bits);
    for (let i = 1; i < run.length; i++) expr = `((${expr} << ${run[i].bits}) | ${masked(run[i].expr, run[i].bits)})`;
    out.push(`${indent}w.writeBits(${run.length === 1 ? run[0].expr : expr}, ${runBits});`);
    run = [];
    runBits = 0;
  };
  for (const it of items) {
    if (it.writer !== 'plain') {
      flush();
      if (it.writer === 'wide') out.push(`${indent}w.writeBitsWide(${it.expr}, ${it.bits});`);
      else out.push(`${indent}w.write${it.writer === 'f32' ? 'F32' : 'F64'}(${it.expr});`);
      continue;
    }
    if (runBits + it.bits > 32) flush();
    run.push({ expr: it.expr, bits: it.bits });
    runBits += it.bits;
  }
  flush();
  return out;
}

/** Generates the block functions of `comps`, or null when a field needs the generic writer (or no eval here). */
export function compileBlockKernel(comps: readonly RegisteredComponent[]): BlockKernel | null {
  if (!generatable(comps)) return null;
  const n = comps.length;
  const load: string[] = ['let any = 0;'];
  const bits: string[] = [`let b = ${n};`];
  const write: string[] = [];
  const bitsCoded: string[] = [`let b = ${n};`];
  const writeCoded: string[] = [];
  const fetch: string[] = [];
  comps.forEach((comp, c) => {
    load.push(`{ const m = pending[${c}][eid]; masks[${c}] = m; any |= m; }`);
    const fc = comp.fields.length;
    fetch.push(`const m${c} = masks[${c}];`);
    if (fc === 0) return;
    const coded = residualLayout(comp) !== null;
    const all = comp.allFieldsMask >>> 0;
    const header = fc > 1 ? 1 : 0;
    const full = header + comp.fields.reduce((s, f) => s + f.bits, 0);
    const partial = comp.fields.map((f, i) => `((m${c} & ${1 << i}) !== 0 ? ${f.bits} : 0)`).join(' + ');
    const bitsLine =
      fc > 1
        ? `if (m${c} !== 0) b += m${c} === ${all} ? ${full} : ${1 + fc} + ${partial};`
        : `if (m${c} !== 0) b += ${full};`;
    bits.push(bitsLine);
    const item = (f: number) => {
      const fd = comp.fields[f];
      return { expr: `wire[${c}][${f}][eid]`, bits: fd.bits, writer: writerOf(fd.kind, fd.bits) };
    };
    const everyField = comp.fields.map((_, f) => item(f));
    const fieldByField = (indent: string): string[] => {
      const out: string[] = [];
      for (let f = 0; f < fc; f++) {
        out.push(`${indent}if ((m${c} & ${1 << f}) !== 0) {`);
        out.push(...emitWrites([item(f)], `${indent}  `));
        out.push(`${indent}}`);
      }
      return out;
    };
    const block: string[] = [];
    block.push(`if (m${c} !== 0) {`);
    if (fc === 1) block.push(...emitWrites(everyField, '  '));
    else {
      block.push(`  if (m${c} === ${all}) {`);
      block.push(...emitWrites([{ expr: '1', bits: 1, writer: 'plain' }, ...everyField], '    '));
      block.push(`  } else {`);
      // The all-fields bit (0) and the mask, in one write: the mask is below 2^fc.
      block.push(`    w.writeBits(m${c}, ${fc + 1});`);
      block.push(...fieldByField('    '));
      block.push(`  }`);
    }
    block.push(`}`);
    write.push(...block);
    if (!coded) {
      bitsCoded.push(bitsLine);
      writeCoded.push(...block);
      return;
    }
    // Under a coder: the all-fields bit or mask, then the coder's mode bit and residual, else the values. A
    // partial mask the coder would send absolute goes whole (`widen`: the mask asked, or every field).
    if (fc === 1) bitsCoded.push(`if (m${c} !== 0) b += coder.bits(${c}, eid, m${c}, wire[${c}], slot);`);
    else {
      bitsCoded.push(`if (m${c} !== 0) {`);
      bitsCoded.push(`  const x${c} = coder.widen(${c}, eid, m${c}, wire[${c}], slot);`);
      bitsCoded.push(`  b += (x${c} === ${all} ? 1 : ${1 + fc}) + coder.bits(${c}, eid, x${c}, wire[${c}], slot);`);
      bitsCoded.push(`}`);
    }
    writeCoded.push(`if (m${c} !== 0) {`);
    if (fc === 1) {
      writeCoded.push(`  if (coder.write(w, ${c}, eid, m${c}, wire[${c}], slot)) {`);
      writeCoded.push(...emitWrites(everyField, '    '));
      writeCoded.push(`  }`);
    } else {
      writeCoded.push(`  const x${c} = coder.widen(${c}, eid, m${c}, wire[${c}], slot);`);
      writeCoded.push(`  if (x${c} === ${all}) {`);
      writeCoded.push(`    w.writeBits(1, 1);`);
      writeCoded.push(`    if (coder.write(w, ${c}, eid, ${all}, wire[${c}], slot)) {`);
      writeCoded.push(...emitWrites(everyField, '      '));
      writeCoded.push(`    }`);
      writeCoded.push(`  } else {`);
      writeCoded.push(`    w.writeBits(m${c}, ${fc + 1});`);
      writeCoded.push(`    if (coder.write(w, ${c}, eid, m${c}, wire[${c}], slot)) {`);
      writeCoded.push(...fieldByField('      '));
      writeCoded.push(`    }`);
      writeCoded.push(`  }`);
    }
    writeCoded.push(`}`);
  });
  // Presence bits, most significant first, at most 32 per write.
  const presence: string[] = [];
  for (let start = 0; start < n; start += 32) {
    const end = Math.min(n, start + 32);
    const terms = [];
    for (let c = start; c < end; c++) terms.push(`((m${c} !== 0 ? 1 : 0) << ${end - 1 - c})`);
    presence.push(`w.writeBits(${terms.join(' | ')}, ${end - start});`);
  }
  const source = [
    `'use strict';`,
    `return {`,
    `  load(pending, eid, masks) {`,
    ...load.map((s) => `    ${s}`),
    `    return any !== 0;`,
    `  },`,
    `  bits(masks, wire, eid) {`,
    ...fetch.map((s) => `    ${s}`),
    ...bits.map((s) => `    ${s}`),
    `    return b;`,
    `  },`,
    `  write(w, masks, wire, eid) {`,
    ...fetch.map((s) => `    ${s}`),
    ...presence.map((s) => `    ${s}`),
    ...write.map((s) => `    ${s}`),
    `  },`,
    `  bitsCoded(masks, wire, eid, coder, slot) {`,
    ...fetch.map((s) => `    ${s}`),
    ...bitsCoded.map((s) => `    ${s}`),
    `    return b;`,
    `  },`,
    `  writeCoded(w, masks, wire, eid, coder, slot) {`,
    ...fetch.map((s) => `    ${s}`),
    ...presence.map((s) => `    ${s}`),
    ...writeCoded.map((s) => `    ${s}`),
    `  },`,
    `};`,
  ].join('\n');
  try {
    // Generated from indices and integer widths only (see the file comment).
    const made = new Function(source)() as Omit<BlockKernel, 'source'>;
    return { ...made, source };
  } catch {
    return null; // no eval here (Content Security Policy): the generic writer stays
  }
}
