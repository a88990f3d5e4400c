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
  /** Width and type of the field: a boolean (1 bit), an 8/16/32-bit integer, or a 32/64-bit float. */
  readonly kind: 'bool' | 'u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';
}
/** A float quantized to `precision` steps over [min, max]; error <= precision / 2. */
export interface QuantizedFieldSpec {
  /** Discriminant of a quantized float field. */
  readonly kind: 'quantized';
  /** Smallest value sent; writes below it are clamped. */
  readonly min: number;
  /** Largest value sent; writes above it are clamped. */
  readonly max: number;
  /** Step size of the quantization, in the field's own unit. */
  readonly precision: number;
  /**
   * True keeps the field at full precision whatever the server's fidelity levels say (a time stamp, a counter):
   * fidelity coarsens every other quantized field and every quaternion (see `FidelityOptions`). Part of the schema.
   */
  readonly exact?: boolean;
}
/** A unit quaternion stored in four component arrays, sent as smallest-three. */
export interface QuatFieldSpec {
  /** Discriminant of a quaternion field. */
  readonly kind: 'quat';
  /** Names of the component arrays holding x, y, z and w. */
  readonly keys: readonly [string, string, string, string];
  /** Bits for each of the three smallest components on the wire (default 10). */
  readonly bits: number;
}
/** An index into a fixed list of values, sent in the fewest bits that hold the list. */
export interface EnumFieldSpec {
  /** Discriminant of an enum field. */
  readonly kind: 'enum';
  /** The allowed values, in wire order: the stored number is an index into this list. */
  readonly values: readonly string[];
}
/** A reference to another replicated entity, remapped to local entity ids on each peer (0 = none). */
export interface EntityFieldSpec {
  /** Discriminant of an entity-reference field. */
  readonly kind: 'entity';
}

/**
 * A UTF-8 string of at most `maxBytes` bytes in a plain `string[]` column, reliable only: a component with such
 * a field travels in reliable Deltas, never in unreliable ones (see wire.md, "Short strings").
 */
export interface ShortStringFieldSpec {
  /** Discriminant of a short-string field. */
  readonly kind: 'shortString';
  /** Largest UTF-8 length of the string, in bytes (1..1024). */
  readonly maxBytes: number;
}

/** Schema of one replicated field of a component: any of the field specs the `field` builders return. */
export type FieldSpec =
  ScalarFieldSpec | QuantizedFieldSpec | QuatFieldSpec | EnumFieldSpec | EntityFieldSpec | ShortStringFieldSpec;

/** Builders for field schemas, e.g. `{ px: field.quantized(-32, 32, 0.001), rot: field.quat(['qx','qy','qz','qw']) }`. */
export const field = {
  /** Boolean (0 or 1), sent as 1 bit. */
  bool: (): ScalarFieldSpec => ({ kind: 'bool' }),
  /** Unsigned 8-bit integer (Uint8Array), sent in 8 bits. */
  u8: (): ScalarFieldSpec => ({ kind: 'u8' }),
  /** Unsigned 16-bit integer (Uint16Array), sent in 16 bits. */
  u16: (): ScalarFieldSpec => ({ kind: 'u16' }),
  /** Unsigned 32-bit integer (Uint32Array), sent in 32 bits. */
  u32: (): ScalarFieldSpec => ({ kind: 'u32' }),
  /** Signed 8-bit integer (Int8Array), sent in 8 bits. */
  i8: (): ScalarFieldSpec => ({ kind: 'i8' }),
  /** Signed 16-bit integer (Int16Array), sent in 16 bits. */
  i16: (): ScalarFieldSpec => ({ kind: 'i16' }),
  /** Signed 32-bit integer (Int32Array), sent in 32 bits. */
  i32: (): ScalarFieldSpec => ({ kind: 'i32' }),
  /** 32-bit float (Float32Array), sent as is in 32 bits. */
  f32: (): ScalarFieldSpec => ({ kind: 'f32' }),
  /** 64-bit float (Float64Array), sent as is in 64 bits. */
  f64: (): ScalarFieldSpec => ({ kind: 'f64' }),
  /**
   * Float in [min, max] sent as an integer number of `precision` steps. `{ exact: true }` exempts it from the
   * coarser steps of the server's fidelity levels.
   */
  quantized: (min: number, max: number, precision: number, options?: { exact?: boolean }): QuantizedFieldSpec =>
    options?.exact === true
      ? { kind: 'quantized', min, max, precision, exact: true }
      : { kind: 'quantized', min, max, precision },
  /** Unit quaternion over four arrays of the component (default keys `qx, qy, qz, qw`). */
  quat: (
    keys: readonly [string, string, string, string] = ['qx', 'qy', 'qz', 'qw'],
    bits = DEFAULT_QUAT_BITS,
  ): QuatFieldSpec => ({ kind: 'quat', keys, bits }),
  /** Index into the fixed list `values`, sent in the fewest bits that hold the list. */
  enum: (values: readonly string[]): EnumFieldSpec => ({ kind: 'enum', values }),
  /** Reference to another replicated entity (its entity id; 0 = none), remapped to local ids on each peer. */
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
      // `exact` is listed only when set, so the hashes of schemas without it are unchanged.
      return spec.exact === true
        ? { name, kind: spec.kind, min: spec.min, max: spec.max, precision: spec.precision, exact: true }
        : { name, kind: spec.kind, min: spec.min, max: spec.max, precision: spec.precision };
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
