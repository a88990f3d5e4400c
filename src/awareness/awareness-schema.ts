/**
 * Awareness schemas: the typed fields of each user's ephemeral record (selection, tool, cursor, talking flag).
 * Each field reuses a kind of `field-schema.ts` and is marked continuous (unreliable, latest-wins) or discrete
 * (reliable). `normalizeValue` is the one validation both peers run on a value before storing or sending it.
 */
import { usageError } from '../errors.ts';
import type { FieldSpec } from '../protocol/field-schema.ts';
import { canonicalJson, hash64 } from '../protocol/schema-hash.ts';

/** Largest vector length or list length one awareness field may declare; keeps a record small. */
export const MAX_AWARENESS_ITEMS = 256;

/** Most fields one schema may declare; field indexes travel as small integers. */
export const MAX_AWARENESS_FIELDS = 64;

/** A field kind usable in awareness (every kind of field-schema.ts but `quat`, which spans four arrays, and short
 * strings, which need a string column). */
export type AwarenessKind = Exclude<
  FieldSpec,
  {
    /** The kinds excluded. */
    kind: 'quat' | 'shortString';
  }
>;

/** One field of an awareness schema. */
export interface AwarenessFieldSpec {
  /** The field's kind and range, built with the `field` builders. */
  readonly spec: AwarenessKind;
  /** Continuous fields travel unreliable and latest-wins; discrete ones reliable. */
  readonly continuous: boolean;
  /** Fixed vector length (1 = a scalar value), or 0 for a list. */
  readonly length: number;
  /** For lists: the most items a value may hold (e.g. selected entity ids). */
  readonly maxItems: number;
}

/** The fields of an awareness record, by name. Declare the same schema on the server and every client. */
export type AwarenessSchema = Readonly<Record<string, AwarenessFieldSpec>>;

/** A field value: a number, boolean or enum name for scalars; an array for vectors and lists. */
export type AwarenessValue = number | boolean | string | readonly number[];

/** A user's record: the fields set so far. */
export type AwarenessRecord = Record<string, AwarenessValue>;

/** Builders of awareness fields, e.g. `{ tool: awarenessField.discrete(field.enum(['select', 'move'])) }`. */
export const awarenessField = {
  /** A reliable value, e.g. the active tool or a talking flag. */
  discrete: (spec: AwarenessKind): AwarenessFieldSpec => ({ spec, continuous: false, length: 1, maxItems: 0 }),
  /** An unreliable latest-wins value of `length` numbers, e.g. a cursor position (3 quantized floats). */
  continuous: (spec: AwarenessKind, length = 1): AwarenessFieldSpec => ({
    spec,
    continuous: true,
    length,
    maxItems: 0,
  }),
  /** A reliable list of up to `maxItems` values, e.g. the selected entities (`field.entity()`). */
  list: (spec: AwarenessKind, maxItems: number): AwarenessFieldSpec => ({
    spec,
    continuous: false,
    length: 0,
    maxItems,
  }),
};

/** A schema checked once, with its fields in a fixed order (index = wire id). */
export interface CompiledAwareness {
  readonly names: readonly string[];
  readonly fields: readonly AwarenessFieldSpec[];
  readonly index: ReadonlyMap<string, number>;
  readonly continuous: readonly number[];
  /** FNV-1a 64 of the canonical schema (names, kinds, parameters): the server sends it, clients compare. */
  readonly hash: string;
}

/** Checks a schema (throws a Usage NetError on a mistake) and orders its fields by name. */
export function compileAwareness(schema: AwarenessSchema): CompiledAwareness {
  const names = Object.keys(schema).sort();
  if (names.length === 0 || names.length > MAX_AWARENESS_FIELDS)
    usageError(`an awareness schema needs 1..${MAX_AWARENESS_FIELDS} fields`, 'declare e.g. { tool: ... }');
  const fields = names.map((n) => schema[n]);
  fields.forEach((f, i) => {
    const k = f.spec.kind as string;
    if (k === 'quat') usageError(`awareness field '${names[i]}' is a quat`, 'use a continuous f32 vector of 4');
    if (k === 'shortString') usageError(`awareness field '${names[i]}' is a short string`, 'use an enum or numbers');
    const n = f.length === 0 ? f.maxItems : f.length;
    if (!Number.isInteger(n) || n < 1 || n > MAX_AWARENESS_ITEMS)
      usageError(`awareness field '${names[i]}' length ${n} is out of range`, `use 1..${MAX_AWARENESS_ITEMS}`);
    if (f.continuous && (f.length === 0 || k === 'enum' || k === 'bool' || k === 'entity'))
      usageError(`awareness field '${names[i]}' cannot be continuous`, 'continuous fields are numeric vectors');
    if (f.spec.kind === 'quantized' && !(f.spec.max > f.spec.min && f.spec.precision > 0))
      usageError(`awareness field '${names[i]}' has a bad range`, 'pass min < max and precision > 0');
  });
  return {
    names,
    fields,
    index: new Map(names.map((n, i) => [n, i])),
    continuous: fields.flatMap((f, i) => (f.continuous ? [i] : [])),
    hash: hash64(canonicalJson(names.map((n, i) => [n, fields[i]]))),
  };
}

const INT_RANGE: Record<string, [number, number]> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffffffff],
  i8: [-0x80, 0x7f],
  i16: [-0x8000, 0x7fff],
  i32: [-0x80000000, 0x7fffffff],
  entity: [0, 0xffffffff],
};

/** One scalar on the wire (enum as its index); null when it is not a valid value of the kind. */
function normalizeScalar(spec: AwarenessKind, v: unknown): number | boolean | null {
  switch (spec.kind) {
    case 'bool':
      return typeof v === 'boolean' ? v : null;
    case 'enum':
      return Number.isInteger(v) && (v as number) >= 0 && (v as number) < spec.values.length ? (v as number) : null;
    case 'f32':
    case 'f64':
      return typeof v === 'number' && Number.isFinite(v) ? (spec.kind === 'f32' ? Math.fround(v) : v) : null;
    case 'quantized': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return null;
      const c = Math.min(spec.max, Math.max(spec.min, v));
      return spec.min + Math.round((c - spec.min) / spec.precision) * spec.precision;
    }
    default: {
      const r = INT_RANGE[spec.kind];
      return Number.isInteger(v) && (v as number) >= r[0] && (v as number) <= r[1] ? (v as number) : null;
    }
  }
}

/**
 * The wire form of a value of field `f` (enum names as indexes, quantized floats clamped and rounded), or null
 * when it does not fit the field. Enum values may be given by name (`byName`) on the API side only.
 */
export function normalizeValue(f: AwarenessFieldSpec, v: unknown, byName = false): number | boolean | number[] | null {
  const spec = f.spec;
  if (byName && spec.kind === 'enum' && typeof v === 'string') v = spec.values.indexOf(v);
  if (f.length === 1) return normalizeScalar(spec, v);
  if (!Array.isArray(v)) return null;
  if (f.length === 0 ? v.length > f.maxItems : v.length !== f.length) return null;
  const out: number[] = [];
  for (const x of v) {
    const n = normalizeScalar(spec, x);
    if (typeof n !== 'number') return null;
    out.push(n);
  }
  return out;
}

/** The API form of a wire value (enum indexes back to names). */
export function publicValue(f: AwarenessFieldSpec, v: number | boolean | number[]): AwarenessValue {
  return f.spec.kind === 'enum' && typeof v === 'number' ? f.spec.values[v] : v;
}
