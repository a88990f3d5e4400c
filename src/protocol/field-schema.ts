/**
 * Field schemas of replicated components: what each field is on the wire and how many bits it costs.
 * Pure data, no bitecs: `register.ts` ties a schema to a component's arrays.
 */

/** Default bits per smallest-three component: ~0.1 degree worst-case error, 32 bits per quaternion. */
export const DEFAULT_QUAT_BITS = 10;

/** Largest number of enum values a field may name; 2^16 keeps the wire index in 16 bits. */
export const MAX_ENUM_VALUES = 65536;

/** Wire kind codes: explicit numbers, part of the schema hash. */
export const FieldKind = {
  bool: 0,
  u8: 1,
  u16: 2,
  u32: 3,
  i8: 4,
  i16: 5,
  i32: 6,
  f32: 7,
  f64: 8,
  quantized: 9,
  quat: 10,
  enum: 11,
  entity: 12,
  shortString: 13,
} as const;

export type FieldKindName = keyof typeof FieldKind;

/** A field of fixed width that maps one component array. */
export interface ScalarFieldSpec {
  readonly kind: 'bool' | 'u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';
}
/** A float quantized to `precision` steps over [min, max]; error <= precision / 2. */
export interface QuantizedFieldSpec {
  readonly kind: 'quantized';
  readonly min: number;
  readonly max: number;
  readonly precision: number;
}
/** A unit quaternion stored in four component arrays, sent as smallest-three. */
export interface QuatFieldSpec {
  readonly kind: 'quat';
  readonly keys: readonly [string, string, string, string];
  readonly bits: number;
}
/** An index into a fixed list of values, sent in the fewest bits that hold the list. */
export interface EnumFieldSpec {
  readonly kind: 'enum';
  readonly values: readonly string[];
}
/** A reference to another replicated entity, remapped to local entity ids on each peer (0 = none). */
export interface EntityFieldSpec {
  readonly kind: 'entity';
}

/**
 * A UTF-8 string of at most `maxBytes` bytes in a plain `string[]` column, reliable only: a component with such
 * a field travels in reliable Deltas, never in unreliable ones (see wire.md, "Short strings").
 */
export interface ShortStringFieldSpec {
  readonly kind: 'shortString';
  readonly maxBytes: number;
}

export type FieldSpec =
  ScalarFieldSpec | QuantizedFieldSpec | QuatFieldSpec | EnumFieldSpec | EntityFieldSpec | ShortStringFieldSpec;

/** Builders for field schemas, e.g. `{ px: field.quantized(-32, 32, 0.001), rot: field.quat(['qx','qy','qz','qw']) }`. */
export const field = {
  bool: (): ScalarFieldSpec => ({ kind: 'bool' }),
  u8: (): ScalarFieldSpec => ({ kind: 'u8' }),
  u16: (): ScalarFieldSpec => ({ kind: 'u16' }),
  u32: (): ScalarFieldSpec => ({ kind: 'u32' }),
  i8: (): ScalarFieldSpec => ({ kind: 'i8' }),
  i16: (): ScalarFieldSpec => ({ kind: 'i16' }),
  i32: (): ScalarFieldSpec => ({ kind: 'i32' }),
  f32: (): ScalarFieldSpec => ({ kind: 'f32' }),
  f64: (): ScalarFieldSpec => ({ kind: 'f64' }),
  /** Float in [min, max] sent as an integer number of `precision` steps. */
  quantized: (min: number, max: number, precision: number): QuantizedFieldSpec => ({
    kind: 'quantized',
    min,
    max,
    precision,
  }),
  /** Unit quaternion over four arrays of the component (default keys `qx, qy, qz, qw`). */
  quat: (
    keys: readonly [string, string, string, string] = ['qx', 'qy', 'qz', 'qw'],
    bits = DEFAULT_QUAT_BITS,
  ): QuatFieldSpec => ({ kind: 'quat', keys, bits }),
  enum: (values: readonly string[]): EnumFieldSpec => ({ kind: 'enum', values }),
  entity: (): EntityFieldSpec => ({ kind: 'entity' }),
  /** UTF-8 string of at most `maxBytes` bytes (1..1024) in a `string[]` column; makes its component reliable-only. */
  shortString: (maxBytes: number): ShortStringFieldSpec => ({ kind: 'shortString', maxBytes }),
};

/** Bits an integer kind occupies on the wire. */
export const SCALAR_BITS: Record<ScalarFieldSpec['kind'], number> = {
  bool: 1,
  u8: 8,
  u16: 16,
  u32: 32,
  i8: 8,
  i16: 16,
  i32: 32,
  f32: 32,
  f64: 64,
};

/** Canonical manifest entry of one field: every property that changes the wire, in a fixed order. */
export function fieldManifest(name: string, spec: FieldSpec): Record<string, unknown> {
  switch (spec.kind) {
    case 'quantized':
      return { name, kind: spec.kind, min: spec.min, max: spec.max, precision: spec.precision };
    case 'quat':
      return { name, kind: spec.kind, keys: [...spec.keys], bits: spec.bits };
    case 'enum':
      return { name, kind: spec.kind, values: [...spec.values] };
    case 'shortString':
      return { name, kind: spec.kind, maxBytes: spec.maxBytes };
    default:
      return { name, kind: spec.kind };
  }
}
