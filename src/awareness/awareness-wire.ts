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

/** Continuous values, one entry (or null) per continuous field of the schema. */
export function parseMotion(v: unknown, schema: CompiledAwareness): MotionValues | null {
  const idx = schema.continuous;
  if (!Array.isArray(v) || v.length !== idx.length) return null;
  const out: MotionValues = [];
  for (let k = 0; k < idx.length; k++) {
    if (v[k] === null) {
      out.push(null);
      continue;
    }
    const value = normalizeValue(schema.fields[idx[k]] as AwarenessFieldSpec, v[k]);
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

/** Server → client AwarenessSnapshot `{r: [[u, s, d, c], ...]}`, at most `maxRecords` records. */
export function parseSnapshot(v: unknown, schema: CompiledAwareness, maxRecords: number): SnapshotRecord[] | null {
  if (!isMap(v) || !Array.isArray(v.r) || v.r.length > maxRecords) return null;
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
  return out;
}
