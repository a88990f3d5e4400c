/**
 * The bit-packed state of one entity, shared by Spawn, Snapshot, ComponentAdd and Delta bodies.
 *
 * Layout (bits, in order):
 *   1. presence: one bit per registered component, in registration order (set = this block carries it);
 *   2. for each present component that has fields:
 *      a. if it has more than one field: 1 bit "all fields"; if 0, a mask of `fieldCount` bits (bit f = field f);
 *      b. the value of each field in the mask, in field order, at the field's wire width.
 * A full-state block (spawn, snapshot) sets presence for every component the entity has and all fields.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import type { RegisteredComponent } from '../register.ts';
import { readWire, writeWireValue } from './compiled-field.ts';
import { FieldKind } from '../protocol/field-schema.ts';

const fullBitsCache = new WeakMap<RegisteredComponent, number>();

/** Bits of a component's block part with every field (all-fields bit included), or -1 if it has references. */
function fullBits(comp: RegisteredComponent): number {
  let bits = fullBitsCache.get(comp);
  if (bits === undefined) {
    bits = comp.fields.length > 1 ? 1 : 0;
    for (const f of comp.fields) {
      if (f.kind === FieldKind.entity) {
        bits = -1;
        break;
      }
      bits += f.bits;
    }
    fullBitsCache.set(comp, bits);
  }
  return bits;
}

/** Bits a varuint of `v` takes in the bit writer (8-bit groups). */
export function varUintBits(v: number): number {
  let bits = 8;
  while (v >= 128) {
    v = Math.floor(v / 128);
    bits += 8;
  }
  return bits;
}

/** Exact size in bits of the block for `masks` (values from the shadow, needed only for entity references). */
export function entityBlockBits(
  components: readonly RegisteredComponent[],
  masks: Uint32Array,
  wire: Float64Array[][],
  eid: number,
): number {
  let bits = components.length;
  for (let c = 0; c < components.length; c++) {
    const mask = masks[c];
    if (mask === 0) continue;
    const comp = components[c];
    const full = fullBits(comp);
    // Common case: every field, no reference: a constant.
    if (mask === comp.allFieldsMask && full >= 0) {
      bits += full;
      continue;
    }
    const fields = comp.fields;
    if (fields.length > 1) bits += mask === comp.allFieldsMask ? 1 : 1 + fields.length;
    for (let f = 0; f < fields.length; f++) {
      if ((mask & (1 << f)) === 0) continue;
      const fd = fields[f];
      bits += fd.kind === FieldKind.entity ? varUintBits(wire[c][f][eid]) : fd.bits;
    }
  }
  return bits;
}

/**
 * Writes the block of `eid`: `present` has one entry per component (nonzero = carried), `masks` the fields.
 * For tag components (no fields) presence alone is the information.
 */
export function writeEntityBlock(
  w: BitWriter,
  components: readonly RegisteredComponent[],
  present: Uint8Array,
  masks: Uint32Array,
  wire: Float64Array[][],
  eid: number,
): void {
  // 1. presence bits
  for (let c = 0; c < components.length; c++) w.writeBits(present[c] ? 1 : 0, 1);
  // 2. masks and values
  for (let c = 0; c < components.length; c++) {
    if (!present[c]) continue;
    const comp = components[c];
    const fields = comp.fields;
    if (fields.length === 0) continue;
    const mask = masks[c];
    if (fields.length > 1) {
      // 2a. all-fields bit, else the mask
      if (mask === comp.allFieldsMask) w.writeBits(1, 1);
      else {
        w.writeBits(0, 1);
        w.writeBits(mask, fields.length);
      }
    }
    // 2b. values
    const wires = wire[c];
    for (let f = 0; f < fields.length; f++) {
      if (mask & (1 << f)) writeWireValue(w, fields[f], wires[f][eid]);
    }
  }
}

/**
 * Reads one block into `present`, `masks` and `values` (flat: `values[offsets[c] + f]`), in wire form
 * (entity references as network ids). Returns false when the block is malformed (reader overflow or a
 * present component with an empty mask); nothing is applied by this function.
 */
export function readEntityBlock(
  r: BitReader,
  components: readonly RegisteredComponent[],
  offsets: Uint16Array,
  present: Uint8Array,
  masks: Uint32Array,
  values: Float64Array,
): boolean {
  // 1. presence bits
  for (let c = 0; c < components.length; c++) present[c] = r.readBits(1);
  // 2. masks and values
  for (let c = 0; c < components.length; c++) {
    masks[c] = 0;
    if (!present[c]) continue;
    const comp = components[c];
    const fields = comp.fields;
    if (fields.length === 0) continue;
    let mask = 1;
    if (fields.length > 1) mask = r.readBits(1) ? comp.allFieldsMask : r.readBits(fields.length);
    if (mask === 0) return false;
    masks[c] = mask;
    const base = offsets[c];
    for (let f = 0; f < fields.length; f++) {
      if (mask & (1 << f)) values[base + f] = readWire(r, fields[f]);
    }
  }
  return r.ok;
}

/** Offsets of each component's fields in the flat value scratch, and its total length. */
export function fieldOffsets(components: readonly RegisteredComponent[]): { offsets: Uint16Array; total: number } {
  const offsets = new Uint16Array(components.length);
  let total = 0;
  for (let c = 0; c < components.length; c++) {
    offsets[c] = total;
    total += components[c].fields.length;
  }
  return { offsets, total };
}
