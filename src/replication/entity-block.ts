/**
 * The bit-packed state of one entity, shared by Spawn, Snapshot, ComponentAdd and Delta bodies.
 *
 * Layout (bits, in order):
 *   1. presence: one bit per registered component, in registration order (set = this block carries it);
 *   2. for each present component that has fields:
 *      a. if it has more than one field: 1 bit "all fields"; if 0, a mask of `fieldCount` bits (bit f = field f);
 *      b. the value of each field in the mask, in field order, at the field's wire width (a short string:
 *         varuint byte length, then byte-aligned UTF-8, see codec/short-string.ts).
 * A full-state block (spawn, snapshot) sets presence for every component the entity has and all fields.
 * In a CoarseDelta an entity's block may be written at a level shift k > 0: then every field with a `maxShift`
 * (quantized, quaternion) is written with its low bits dropped (coarse-wire.ts); the layout is otherwise the same.
 * In a BaselineDelta (server to viewer, capability `ackedbase2`) each present residual-capable component's values
 * (2b) open with a mode bit: 0 = absolute as above, 1 = residual against an acked baseline (baseline-fields.ts);
 * a component that goes absolute goes with every field (its mask says so), so it is a whole baseline afterwards.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import type { RegisteredComponent } from '../register.ts';
import { type ShortStringCodec, shortStringHash, shortStringMaxBits } from '../codec/short-string.ts';
import { readWire, writeWireValue } from './compiled-field.ts';
import { coarseBits, readCoarse, writeCoarse } from './coarse-wire.ts';
import { FieldKind } from '../protocol/field-schema.ts';
import type { ShadowStore } from './shadow-store.ts';
import type { ServerBaselineCoder } from './baseline-block.ts';
import type { ClientBaselineDecoder } from './client-baseline-decoder.ts';
import { BaselineRead } from './baseline-fields.ts';

/** Where a block reader puts short strings: `strings[offsets[c] + f]`, decoded and validated by `codec`. */
export interface StringScratch {
  readonly codec: ShortStringCodec;
  readonly strings: string[];
}

const fullBitsCache = new WeakMap<RegisteredComponent, number>();

/** Bits of a component's block part with every field (all-fields bit included), or -1 if one is variable. */
function fullBits(comp: RegisteredComponent): number {
  let bits = fullBitsCache.get(comp);
  if (bits === undefined) {
    bits = comp.fields.length > 1 ? 1 : 0;
    for (const f of comp.fields) {
      if (f.kind === FieldKind.entity || f.kind === FieldKind.shortString) {
        bits = -1;
        break;
      }
      bits += f.bits;
    }
    fullBitsCache.set(comp, bits);
  }
  return bits;
}

const plainBitsCache = new WeakMap<RegisteredComponent, Int32Array | null>();

/**
 * Per field, the bit width a component's fields are written with when every one of them is a plain unsigned
 * integer of at most 32 bits on the wire (quantized, enum, bool, the integer kinds, a quaternion of <= 32 bits):
 * then `writeBits(wire, bits)` is the whole encoder (it keeps the low bits, which is the two's complement of the
 * signed kinds). null when a field needs its own writer (floats, references, strings, wide values).
 */
function plainBits(comp: RegisteredComponent): Int32Array | null {
  let bits = plainBitsCache.get(comp);
  if (bits === undefined) {
    bits = new Int32Array(comp.fields.length);
    for (let f = 0; f < comp.fields.length; f++) {
      const fd = comp.fields[f];
      const variable = fd.kind === FieldKind.entity || fd.kind === FieldKind.shortString;
      const float = fd.kind === FieldKind.f32 || fd.kind === FieldKind.f64;
      if (variable || float || fd.bits > 32 || fd.bits <= 0) {
        bits = null;
        break;
      }
      bits[f] = fd.bits;
    }
    plainBitsCache.set(comp, bits);
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

/**
 * Size in bits of the block for `masks` (values from the shadow, needed only for references and strings): exact,
 * except that a short string counts its worst-case alignment (up to 7 bits more than it may take). `shift` > 0:
 * the block as a coarse level writes it. With `coder`, its components are planned on `slot` (the entity's place
 * in the packet's selection), which `writeEntityBlock` then writes.
 */
export function entityBlockBits(
  components: readonly RegisteredComponent[],
  masks: Uint32Array,
  shadow: ShadowStore,
  eid: number,
  shift = 0,
  coder?: ServerBaselineCoder,
  slot = 0,
): number {
  const wire = shadow.wire;
  let bits = components.length;
  for (let c = 0; c < components.length; c++) {
    const mask = masks[c];
    if (mask === 0) continue;
    const comp = components[c];
    if (coder !== undefined && coder.codes(c)) {
      const n = comp.fields.length;
      const m = coder.widen(c, eid, mask, wire[c], slot);
      bits += (n > 1 ? (m === comp.allFieldsMask ? 1 : 1 + n) : 0) + coder.bits(c, eid, m, wire[c], slot);
      continue;
    }
    const full = fullBits(comp);
    // Common case: every field, no reference: a constant.
    if (mask === comp.allFieldsMask && full >= 0 && shift === 0) {
      bits += full;
      continue;
    }
    const fields = comp.fields;
    if (fields.length > 1) bits += mask === comp.allFieldsMask ? 1 : 1 + fields.length;
    for (let f = 0; f < fields.length; f++) {
      if ((mask & (1 << f)) === 0) continue;
      const fd = fields[f];
      if (fd.kind === FieldKind.shortString) bits += shortStringMaxBits(shadow.bytesOf(c, f, eid).length);
      else if (shift > 0 && fd.maxShift > 0) bits += coarseBits(fd, shift);
      else bits += fd.kind === FieldKind.entity ? varUintBits(wire[c][f][eid]) : fd.bits;
    }
  }
  return bits;
}

/**
 * Writes the block of `eid`: `present` has one entry per component (nonzero = carried), `masks` the fields.
 * For tag components (no fields) presence alone is the information. `shift` > 0: at that coarse level. With
 * `coder` (a server-to-viewer Delta, not coarse, to an `ackedbase` client) its components' values go through it
 * (mode bit, then residual or absolute), as `entityBlockBits` planned them on `slot`.
 */
export function writeEntityBlock(
  w: BitWriter,
  components: readonly RegisteredComponent[],
  present: Uint8Array,
  masks: Uint32Array,
  shadow: ShadowStore,
  eid: number,
  shift = 0,
  coder?: ServerBaselineCoder,
  slot = 0,
): void {
  const wire = shadow.wire;
  // 1. presence bits
  for (let c = 0; c < components.length; c++) w.writeBits(present[c] ? 1 : 0, 1);
  // 2. masks and values
  for (let c = 0; c < components.length; c++) {
    if (!present[c]) continue;
    const comp = components[c];
    const fields = comp.fields;
    if (fields.length === 0) continue;
    const wires = wire[c];
    const coded = coder !== undefined && coder.codes(c);
    // A coded component's absolute value goes whole (`widen`): the extra fields are not taken from `masks`.
    const mask = coded ? coder.widen(c, eid, masks[c], wires, slot) : masks[c];
    if (fields.length > 1) {
      // 2a. all-fields bit, else the mask
      if (mask === comp.allFieldsMask) w.writeBits(1, 1);
      else {
        w.writeBits(0, 1);
        w.writeBits(mask, fields.length);
      }
    }
    if (coded && !coder.write(w, c, eid, mask, wires, slot)) continue;
    // 2b. values: one writeBits per field when every field is a plain integer, else each field's writer
    const plain = shift === 0 ? plainBits(comp) : null;
    if (plain !== null) {
      for (let f = 0; f < plain.length; f++) if ((mask & (1 << f)) !== 0) w.writeBits(wires[f][eid], plain[f]);
      continue;
    }
    for (let f = 0; f < fields.length; f++) {
      if ((mask & (1 << f)) === 0) continue;
      if (fields[f].kind === FieldKind.shortString) {
        const bytes = shadow.bytesOf(c, f, eid);
        w.writeVarUint(bytes.length);
        w.writeBytes(bytes);
      } else if (shift > 0 && fields[f].maxShift > 0) writeCoarse(w, fields[f], wires[f][eid], shift);
      else writeWireValue(w, fields[f], wires[f][eid]);
    }
  }
}

/**
 * Reads one block into `present`, `masks` and `values` (flat: `values[offsets[c] + f]`), in wire form
 * (entity references as network ids; a short string's hash, its text in `text.strings` at the same index).
 * Returns false when the block is malformed (reader overflow, a present component with an empty mask, a short
 * string over its maxBytes or not well-formed UTF-8); nothing is applied by this function. `shift` > 0: a block
 * written at that coarse level (its coarse fields come back as the fine wire values they stand for). With `dec`
 * (a Delta from the server under `ackedbase`, never a CoarseDelta) residual-capable components are read through
 * it against the history of local entity `eid` at Delta `tick`; one whose baseline is not held gets mask 0
 * (dropped, counted).
 */
export function readEntityBlock(
  r: BitReader,
  components: readonly RegisteredComponent[],
  offsets: Uint16Array,
  present: Uint8Array,
  masks: Uint32Array,
  values: Float64Array,
  text: StringScratch,
  shift = 0,
  dec?: ClientBaselineDecoder,
  eid = 0,
  tick = 0,
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
    if (dec !== undefined && dec.codes(c)) {
      const got = dec.read(r, c, eid, mask, tick, values, base);
      if (got === BaselineRead.malformed) return false;
      if (got === BaselineRead.missing) masks[c] = 0;
      if (got !== BaselineRead.absolute) continue;
    }
    for (let f = 0; f < fields.length; f++) {
      if ((mask & (1 << f)) === 0) continue;
      const fd = fields[f];
      if (fd.kind === FieldKind.shortString) {
        const str = text.codec.read(r, fd.maxBytes);
        if (str === null) return false;
        text.strings[base + f] = str;
        values[base + f] = shortStringHash(str);
      } else values[base + f] = shift > 0 && fd.maxShift > 0 ? readCoarse(r, fd, shift) : readWire(r, fd);
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
