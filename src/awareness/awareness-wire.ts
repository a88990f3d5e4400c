/**
 * Bodies of the awareness messages (MessagePack, see wire.md "Awareness") and their validating parsers: every
 * field index, value, sequence and user id is checked against the schema before anything is stored.
 */
import type { AwarenessFieldSpec, CompiledAwareness } from './awareness-schema.ts';
import { normalizeValue } from './awareness-schema.ts';

/** A discrete change: field index and wire value. */
export type FieldChange = [number, number | boolean | number[]];

/** Continuous values in schema order (null = not set yet). */
export type MotionValues = Array<number[] | null>;

/** Largest sequence number of a motion stream (u32). */
export const MAX_AWARENESS_SEQ = 0xffffffff;

/** Largest client id a relayed message may name. */
const MAX_USER_ID = 0xffffffff;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function asUint(v: unknown, max: number): number | undefined {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max ? (v as number) : undefined;
}

/** Discrete changes `[[index, value], ...]`: every index a discrete field, each at most once. */
export function parseChanges(v: unknown, schema: CompiledAwareness): FieldChange[] | null {
  if (!Array.isArray(v) || v.length === 0 || v.length > schema.fields.length) return null;
  const seen = new Set<number>();
  const out: FieldChange[] = [];
  for (const pair of v) {
    if (!Array.isArray(pair) || pair.length !== 2) return null;
    const i = asUint(pair[0], schema.fields.length - 1);
    if (i === undefined || seen.has(i) || schema.fields[i].continuous) return null;
    const value = normalizeValue(schema.fields[i], pair[1]);
    if (value === null) return null;
    seen.add(i);
    out.push([i, value]);
  }
  return out;
}

/**
 * Continuous values in wire form: a quantized field travels as integer steps above its minimum (2-3 bytes of
 * MessagePack each instead of a 9-byte float64); other kinds as they are.
 */
export function motionToWire(values: MotionValues, schema: CompiledAwareness): Array<number[] | null> {
  return values.map((v, k) => {
    const spec = schema.fields[schema.continuous[k]].spec;
    if (v === null || spec.kind !== 'quantized') return v;
    return v.map((x) => Math.round((x - spec.min) / spec.precision));
  });
}

/** Continuous values, one entry (or null) per continuous field of the schema (quantized ones as steps). */
export function parseMotion(v: unknown, schema: CompiledAwareness): MotionValues | null {
  const idx = schema.continuous;
  if (!Array.isArray(v) || v.length !== idx.length) return null;
  const out: MotionValues = [];
  for (let k = 0; k < idx.length; k++) {
    if (v[k] === null) {
      out.push(null);
      continue;
    }
    const f = schema.fields[idx[k]] as AwarenessFieldSpec;
    const spec = f.spec;
    let raw: unknown = v[k];
    if (spec.kind === 'quantized') {
      const steps = Math.round((spec.max - spec.min) / spec.precision);
      if (!Array.isArray(raw) || !raw.every((x) => Number.isInteger(x) && x >= 0 && x <= steps)) return null;
      raw = raw.map((x: number) => spec.min + x * spec.precision);
    }
    const value = normalizeValue(f, raw);
    if (!Array.isArray(value)) return null;
    out.push(value);
  }
  return out;
}

/** Client → server AwarenessSet `{d}`. */
export function parseSet(v: unknown, schema: CompiledAwareness): FieldChange[] | null {
  return isMap(v) ? parseChanges(v.d, schema) : null;
}

/** AwarenessMotion `{s, c}` (client → server) or AwarenessMotionRelay `{u, s, c}` (server → client). */
export function parseMotionBody(
  v: unknown,
  schema: CompiledAwareness,
  relayed: boolean,
): { u: number; s: number; c: MotionValues } | null {
  if (!isMap(v)) return null;
  const s = asUint(v.s, MAX_AWARENESS_SEQ);
  const u = relayed ? asUint(v.u, MAX_USER_ID) : 0;
  const c = parseMotion(v.c, schema);
  return s === undefined || u === undefined || c === null ? null : { u, s, c };
}

/** Server → client AwarenessUpdate `{u, d}`. */
export function parseUpdate(v: unknown, schema: CompiledAwareness): { u: number; d: FieldChange[] } | null {
  if (!isMap(v)) return null;
  const u = asUint(v.u, MAX_USER_ID);
  const d = parseChanges(v.d, schema);
  return u === undefined || d === null ? null : { u, d };
}

/** Why a record was cleared: its user left, or it went out of the receiver's interest. */
export type ClearReason = 'left' | 'out-of-interest';

/** Server → client AwarenessClear `{u, r}`. */
export function parseClear(v: unknown): { u: number; r: ClearReason } | null {
  if (!isMap(v)) return null;
  const u = asUint(v.u, MAX_USER_ID);
  return u === undefined || (v.r !== 'left' && v.r !== 'out-of-interest') ? null : { u, r: v.r };
}

/** One record of a snapshot: user, motion sequence, discrete values, continuous values. */
export interface SnapshotRecord {
  u: number;
  s: number;
  d: FieldChange[];
  c: MotionValues;
}

/** A parsed AwarenessSnapshot: the sender's schema hash, whether it replaces every record, and the records. */
export interface SnapshotBody {
  h: string;
  full: boolean;
  records: SnapshotRecord[];
}

/** Longest schema hash accepted (16 hex digits). */
const HASH_CHARS = 16;

/** Server → client AwarenessSnapshot `{h, f?, r: [[u, s, d, c], ...]}`, at most `maxRecords` records. */
export function parseSnapshot(v: unknown, schema: CompiledAwareness, maxRecords: number): SnapshotBody | null {
  if (!isMap(v) || !Array.isArray(v.r) || v.r.length > maxRecords) return null;
  if (typeof v.h !== 'string' || v.h.length > HASH_CHARS || (v.f !== undefined && v.f !== true)) return null;
  const out: SnapshotRecord[] = [];
  for (const r of v.r as unknown[]) {
    if (!Array.isArray(r) || r.length !== 4) return null;
    const u = asUint(r[0], MAX_USER_ID);
    const s = asUint(r[1], MAX_AWARENESS_SEQ);
    const d = Array.isArray(r[2]) && r[2].length === 0 ? [] : parseChanges(r[2], schema);
    const c = parseMotion(r[3], schema);
    if (u === undefined || s === undefined || d === null || c === null) return null;
    out.push({ u, s, d, c });
  }
  return { h: v.h, full: v.f === true, records: out };
}

/** True when the body's lists are longer than their fields allow (told apart from other malformed bodies). */
export function hasLongList(v: unknown, schema: CompiledAwareness): boolean {
  if (!isMap(v) || !Array.isArray(v.d)) return false;
  return v.d.some((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) return false;
    const f = schema.fields[pair[0] as number] as AwarenessFieldSpec | undefined;
    return f !== undefined && f.length === 0 && Array.isArray(pair[1]) && pair[1].length > f.maxItems;
  });
}
