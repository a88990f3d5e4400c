/**
 * Which component columns can hold a field kind: a typed array whose element type cannot represent every value
 * of the field (an `f32` on a `Uint8Array`, a `u32` on an `Int16Array`) would silently truncate what arrives, so
 * registration refuses it. Pure data, no bitecs.
 */
import type { FieldSpec } from './field-schema.ts';

/** Range and integrality of a typed-array element type; plain arrays hold any number. */
interface ColumnType {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** True when every float32 value survives (float32 and float64 columns). */
  readonly f32: boolean;
  /** True when every float64 value survives. */
  readonly f64: boolean;
}

const INT = (min: number, max: number): ColumnType => ({ min, max, integer: true, f32: false, f64: false });

/** Element types by constructor name. BigInt arrays hold no numbers at all and are absent. */
const COLUMN_TYPES: Readonly<Record<string, ColumnType>> = {
  Uint8Array: INT(0, 0xff),
  Uint8ClampedArray: INT(0, 0xff),
  Int8Array: INT(-0x80, 0x7f),
  Uint16Array: INT(0, 0xffff),
  Int16Array: INT(-0x8000, 0x7fff),
  Uint32Array: INT(0, 0xffffffff),
  Int32Array: INT(-0x80000000, 0x7fffffff),
  // Float32 holds every integer up to 2^24 exactly.
  Float32Array: { min: -(2 ** 24), max: 2 ** 24, integer: false, f32: true, f64: false },
  Float64Array: { min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, integer: false, f32: true, f64: true },
};

/** Largest local entity id a reference column must hold: bitecs ids are u32. */
const MAX_ENTITY_ID = 0xffffffff;

const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  bool: [0, 1],
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
  entity: [0, MAX_ENTITY_ID],
};

/** Name of a column's element type, e.g. 'Uint8Array' or 'Array'. */
export function columnTypeName(column: unknown): string {
  if (Array.isArray(column)) return 'Array';
  return (column as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof column;
}

/**
 * Null when `column` can hold every value of `spec`, else why not (e.g. 'an f32 field needs a Float32Array or a
 * Float64Array'). A plain Array holds anything; a short string needs one.
 */
export function columnMismatch(spec: FieldSpec, column: unknown): string | null {
  if (Array.isArray(column)) return null;
  const name = columnTypeName(column);
  if (spec.kind === 'shortString') return `a short-string field needs a plain Array of strings, not a ${name}`;
  const type = COLUMN_TYPES[name];
  if (type === undefined) return `a ${name} cannot hold numbers for a ${spec.kind} field`;
  switch (spec.kind) {
    case 'f32':
      return type.f32 ? null : 'an f32 field needs a Float32Array or a Float64Array';
    case 'f64':
      return type.f64 ? null : 'an f64 field needs a Float64Array (a Float32Array would round every value)';
    case 'quat':
      return type.f32 ? null : 'quaternion components need a Float32Array or a Float64Array';
    case 'quantized': {
      if (type.f32) return null;
      // An integer column holds a quantized field only when every step is an integer inside its range.
      const { min, max, precision } = spec;
      const fits = Number.isInteger(min) && Number.isInteger(precision) && min >= type.min && max <= type.max;
      return fits ? null : `a quantized field over [${min}, ${max}] step ${precision} needs a Float32Array`;
    }
    case 'enum':
      return spec.values.length - 1 <= type.max ? null : `${spec.values.length} enum values do not fit a ${name}`;
    default: {
      const [lo, hi] = INTEGER_RANGES[spec.kind];
      if (lo >= type.min && hi <= type.max) return null;
      return `a ${spec.kind} field holds ${lo}..${hi}, a ${name} only ${type.min}..${type.max}`;
    }
  }
}
