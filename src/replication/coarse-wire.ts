/**
 * Coarse wire values for fidelity levels: a field sent at shift k drops the k low bits of its wire integer, so a
 * coarse value is a prefix of the fine one and the receiver, told k by the entity's level code (see wire.md,
 * "CoarseDelta"), rebuilds the middle of the coarse step. Quantized fields drop bits of their step count; a
 * quaternion drops bits of each of its three smallest-three codes (the index of the largest stays). Each field
 * drops at most its `maxShift` (a quantized field keeps one bit, a quaternion four per component; `exact` fields
 * and every other kind none), so both ends derive the same width from the schema alone.
 *
 * Error: a rebuilt code is within 2^(k-1) codes of the fine one (plus the fine quantization's own half step), so a
 * quantized field errs by at most `precision` x (2^(k-1) + 1/2) and a quaternion by about 2^k times its fine bound.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import { FieldKind } from '../protocol/field-schema.ts';
import type { CompiledField } from './compiled-field.ts';

/** The shift field `f` is sent with at level shift `shift` (its own cap applied). */
export function fieldShift(f: CompiledField, shift: number): number {
  return shift < f.maxShift ? shift : f.maxShift;
}

/** Bits field `f` takes on the wire at level shift `shift` (> 0, `f.maxShift` > 0). */
export function coarseBits(f: CompiledField, shift: number): number {
  const k = fieldShift(f, shift);
  return f.kind === FieldKind.quat ? 2 + 3 * (f.quatBits - k) : f.bits - k;
}

/**
 * Part `i` of a packed quaternion (layout of codec/quaternion.ts: 0 the index of the dropped component, 1-3 the
 * three kept ones, `bits` each). Dividing by a power of two is exact, so the parts come back exactly.
 */
function quatPart(packed: number, bits: number, i: number): number {
  const q = Math.floor(packed / 2 ** (bits * (3 - i)));
  return i === 0 ? q : q % 2 ** bits;
}

/** Writes the fine wire value `wire` of `f` at level shift `shift` (its k low bits dropped). */
export function writeCoarse(w: BitWriter, f: CompiledField, wire: number, shift: number): void {
  const k = fieldShift(f, shift);
  const scale = 2 ** k;
  if (f.kind !== FieldKind.quat) {
    w.writeBits(Math.floor(wire / scale), f.bits - k);
    return;
  }
  const width = f.quatBits - k;
  w.writeBits(quatPart(wire, f.quatBits, 0), 2);
  for (let i = 1; i < 4; i++) w.writeBits(Math.floor(quatPart(wire, f.quatBits, i) / scale), width);
}

/** Middle of coarse step `code` at shift `k`, clamped to `max`. */
function rebuild(code: number, k: number, max: number): number {
  const v = code * 2 ** k + (k > 0 ? 2 ** (k - 1) : 0);
  return v > max ? max : v;
}

/** Reads a value of `f` sent at level shift `shift` and returns the fine wire value it stands for (validated). */
export function readCoarse(r: BitReader, f: CompiledField, shift: number): number {
  const k = fieldShift(f, shift);
  if (f.kind !== FieldKind.quat) return rebuild(r.readBits(f.bits - k), k, f.maxWire);
  const width = f.quatBits - k;
  const unit = 2 ** f.quatBits;
  const maxCode = unit - 2;
  const index = r.readBits(2);
  const a = rebuild(r.readBits(width), k, maxCode);
  const b = rebuild(r.readBits(width), k, maxCode);
  const c = rebuild(r.readBits(width), k, maxCode);
  return ((index * unit + a) * unit + b) * unit + c;
}

/** The fine wire value a receiver holds after `wire` went out at level shift `shift` (what `readCoarse` rebuilds). */
export function coarsened(f: CompiledField, wire: number, shift: number): number {
  const k = fieldShift(f, shift);
  if (k === 0) return wire;
  const scale = 2 ** k;
  if (f.kind !== FieldKind.quat) return rebuild(Math.floor(wire / scale), k, f.maxWire);
  const unit = 2 ** f.quatBits;
  const maxCode = unit - 2;
  let v = quatPart(wire, f.quatBits, 0);
  for (let i = 1; i < 4; i++) v = v * unit + rebuild(Math.floor(quatPart(wire, f.quatBits, i) / scale), k, maxCode);
  return v;
}
