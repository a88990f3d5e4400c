/**
 * A registered field compiled for the hot path: its wire kind, width and the component arrays it reads.
 * The per-entity functions here switch on a small integer kind, allocate nothing and never throw.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import { dequantize, quantize, quantizedBits, quantizedSteps } from '../codec/quantize.ts';
import { MIN_QUAT_BITS, packQuat, quatBits, unpackQuat } from '../codec/quaternion.ts';
import { shortStringHash } from '../codec/short-string.ts';
import { type FieldSpec, FieldKind, SCALAR_BITS } from '../protocol/field-schema.ts';

/** Anything indexable by entity id that holds numbers: a typed array or a plain array. */
export interface NumericArray {
  [index: number]: number;
  /** Number of slots (entity capacity of the array). */
  readonly length: number;
}

/** Maps entity ids to network ids and back, for entity-reference fields. */
export interface EntityMapper {
  /** Network id of a local entity, or 0 when it has none. */
  toNet(eid: number): number;
  /** Local entity of a network id, or 0 when unknown here. */
  toLocal(netId: number): number;
  /** Called when a received reference names an entity this peer does not have yet (resolve it on spawn). */
  unresolved?(eid: number, field: CompiledField, netId: number): void;
}

/** A field ready for encoding: wire kind, bit width and the arrays it reads and writes. */
export interface CompiledField {
  /** Name of the field (the store array's key; for a quaternion the field's own name). */
  readonly name: string;
  /** Index of the component in the protocol, and of this field in the component. */
  readonly component: number;
  /** Index of this field in its component. */
  readonly index: number;
  /** The field's schema as declared with the `field` builders. */
  readonly spec: FieldSpec;
  /** Wire kind of the field (a `FieldKind` value). */
  readonly kind: number;
  /** Fixed bit width on the wire; entity references and short strings are variable and say 0 here. */
  readonly bits: number;
  /** The array holding the value (for a quaternion: its x array). */
  readonly array: NumericArray;
  /** The four arrays of a quaternion, else null. */
  readonly quat: readonly [NumericArray, NumericArray, NumericArray, NumericArray] | null;
  /** Lower bound of a quantized field (0 for other kinds). */
  readonly min: number;
  /** Upper bound of a quantized field (0 for other kinds). */
  readonly max: number;
  /** Step size of a quantized field (0 for other kinds). */
  readonly precision: number;
  /** Largest valid integer on the wire (quantized steps, enum count - 1). */
  readonly maxWire: number;
  /** Bits of each smallest-three component of a quaternion field (0 for other kinds). */
  readonly quatBits: number;
  /** The `string[]` column of a short-string field (also `array`, for the raw scan), else null. */
  readonly strings: string[] | null;
  /** Largest UTF-8 length of a short-string field, else 0. */
  readonly maxBytes: number;
  /**
   * Most low bits a fidelity level may drop from this field (coarse-wire.ts): a quantized field keeps at least one
   * bit, a quaternion at least 4 per component; 0 for every other kind and for a quantized field marked `exact`.
   */
  readonly maxShift: number;
}

/** The string a short-string column holds at `eid`: anything that is not a string (an unset slot) reads as ''. */
export function columnString(f: CompiledField, eid: number): string {
  const v = f.strings![eid] as unknown;
  return typeof v === 'string' ? v : '';
}

/** Compiles `spec` for field `key` of a component store; the spec was validated by `registerComponent`. */
export function compileField(
  key: string,
  spec: FieldSpec,
  store: Record<string, unknown>,
  component: number,
  index: number,
): CompiledField {
  // Every field object gets the same keys in the same order, so the hot loops see one hidden class.
  const f = {
    name: key,
    component,
    index,
    spec,
    kind: 0 as number,
    bits: 0,
    array: store[key] as NumericArray,
    quat: null as CompiledField['quat'],
    min: 0,
    max: 0,
    precision: 0,
    maxWire: 0,
    quatBits: 0,
    strings: null as string[] | null,
    maxBytes: 0,
    maxShift: 0,
  };
  switch (spec.kind) {
    case 'quantized':
      f.kind = FieldKind.quantized;
      f.bits = quantizedBits(spec.min, spec.max, spec.precision);
      f.min = spec.min;
      f.max = spec.max;
      f.precision = spec.precision;
      f.maxWire = quantizedSteps(spec.min, spec.max, spec.precision);
      f.maxShift = spec.exact === true ? 0 : Math.max(0, f.bits - 1);
      break;
    case 'quat': {
      const q = spec.keys.map((k) => store[k] as NumericArray) as [
        NumericArray,
        NumericArray,
        NumericArray,
        NumericArray,
      ];
      f.kind = FieldKind.quat;
      f.bits = quatBits(spec.bits);
      f.array = q[0];
      f.quat = q;
      f.quatBits = spec.bits;
      f.maxShift = Math.max(0, spec.bits - MIN_QUAT_BITS);
      break;
    }
    case 'enum':
      f.kind = FieldKind.enum;
      f.bits = Math.max(1, Math.ceil(Math.log2(spec.values.length)));
      f.maxWire = spec.values.length - 1;
      break;
    case 'entity':
      f.kind = FieldKind.entity;
      break;
    case 'shortString':
      f.kind = FieldKind.shortString;
      f.strings = store[key] as string[];
      f.maxBytes = spec.maxBytes;
      break;
    default:
      f.kind = FieldKind[spec.kind];
      f.bits = SCALAR_BITS[spec.kind];
  }
  return f;
}

/**
 * The field's current value in wire form (what the shadow copy holds): quantized integer, packed quaternion,
 * integer, float value, the network id a reference names, or a short string's hash. Comparing wire values finds every change that
 * matters and none below the precision (and a reference whose local id was recycled for another entity).
 */
export function readWireValue(f: CompiledField, eid: number, mapper: EntityMapper): number {
  switch (f.kind) {
    case FieldKind.quantized:
      return quantize(f.array[eid], f.min, f.max, f.precision);
    case FieldKind.quat: {
      const q = f.quat!;
      return packQuat(q[0][eid], q[1][eid], q[2][eid], q[3][eid], f.quatBits);
    }
    case FieldKind.bool:
      return f.array[eid] ? 1 : 0;
    case FieldKind.u8:
      return f.array[eid] & 0xff;
    case FieldKind.u16:
      return f.array[eid] & 0xffff;
    case FieldKind.u32:
      return f.array[eid] >>> 0;
    case FieldKind.i8:
      return (f.array[eid] << 24) >> 24;
    case FieldKind.i16:
      return (f.array[eid] << 16) >> 16;
    case FieldKind.i32:
      return f.array[eid] | 0;
    case FieldKind.f32:
      return Math.fround(f.array[eid]);
    case FieldKind.enum: {
      const v = f.array[eid] | 0;
      return v < 0 ? 0 : v > f.maxWire ? f.maxWire : v;
    }
    case FieldKind.entity: {
      const local = f.array[eid];
      return local > 0 ? mapper.toNet(local) : 0;
    }
    case FieldKind.shortString:
      return shortStringHash(columnString(f, eid));
    default:
      return f.array[eid];
  }
}

/**
 * True when two wire values differ, bit-exact for floats as wire.md promises: -0 differs from +0 (compared
 * only when both are zero, so the common equal case stays one comparison); NaN equals NaN, so a NaN field is
 * not resent every tick.
 */
export function wireDiffers(a: number, b: number): boolean {
  if (a === b) return a === 0 && 1 / a !== 1 / b;
  return a === a || b === b;
}

/** Writes a wire value (entity references are already network ids, 0 = none, sent as a varuint); short strings
 * are written by the entity block from the shadow's UTF-8 bytes, never here. */
export function writeWireValue(w: BitWriter, f: CompiledField, value: number): void {
  switch (f.kind) {
    case FieldKind.f32:
      w.writeF32(value);
      return;
    case FieldKind.f64:
      w.writeF64(value);
      return;
    case FieldKind.quat:
      w.writeBitsWide(value, f.bits);
      return;
    case FieldKind.entity:
      w.writeVarUint(value);
      return;
    case FieldKind.i8:
    case FieldKind.i16:
      w.writeBits(value & ((1 << f.bits) - 1), f.bits);
      return;
    case FieldKind.i32:
      w.writeBits(value >>> 0, 32);
      return;
    default:
      if (f.bits > 32) w.writeBitsWide(value, f.bits);
      else w.writeBits(value, f.bits);
  }
}

/**
 * Reads a wire value, clamped to the schema's range (values from the network are never trusted).
 * Entity references come back as network ids; `applyWireValue` maps them. Short strings are read by the entity
 * block (they need the codec), never here.
 */
export function readWire(r: BitReader, f: CompiledField): number {
  switch (f.kind) {
    case FieldKind.f32:
      return r.readF32();
    case FieldKind.f64:
      return r.readF64();
    case FieldKind.quat:
      return r.readBitsWide(f.bits);
    case FieldKind.entity:
      return r.readVarUint();
    case FieldKind.i8:
      return (r.readBits(8) << 24) >> 24;
    case FieldKind.i16:
      return (r.readBits(16) << 16) >> 16;
    case FieldKind.i32:
      return r.readBits(32) | 0;
    case FieldKind.quantized:
    case FieldKind.enum: {
      const v = f.bits > 32 ? r.readBitsWide(f.bits) : r.readBits(f.bits);
      return v > f.maxWire ? f.maxWire : v;
    }
    default:
      return f.bits > 32 ? r.readBitsWide(f.bits) : r.readBits(f.bits);
  }
}

/**
 * Stores a wire value into the component arrays of `eid` (dequantized; a reference mapped to the local entity;
 * a short string's `text`, already validated) and returns the wire value for the local shadow.
 */
export function applyWireValue(
  f: CompiledField,
  eid: number,
  wire: number,
  mapper: EntityMapper,
  scratch: Float64Array,
  text: string | undefined,
): number {
  switch (f.kind) {
    case FieldKind.shortString:
      f.strings![eid] = text ?? '';
      return wire;
    case FieldKind.quantized:
      f.array[eid] = dequantize(wire, f.min, f.max, f.precision);
      return wire;
    case FieldKind.quat: {
      unpackQuat(wire, f.quatBits, scratch, 0);
      const q = f.quat!;
      q[0][eid] = scratch[0];
      q[1][eid] = scratch[1];
      q[2][eid] = scratch[2];
      q[3][eid] = scratch[3];
      return wire;
    }
    case FieldKind.entity: {
      const local = wire > 0 ? mapper.toLocal(wire) : 0;
      f.array[eid] = local;
      if (local === 0 && wire > 0) mapper.unresolved?.(eid, f, wire);
      return wire;
    }
    default:
      f.array[eid] = wire;
      return wire;
  }
}
