/**
 * Naming the first difference between two schemas. The server puts a summary of its manifest in the
 * `SchemaMismatch` refusal (one row per component: name, hash of its fields, and the fields' canonical JSON while
 * a byte budget lasts); the client, which has its own manifest, says which component (and field) differs first.
 * The summary comes from the network: it is validated and bounded before anything reads it.
 */
import { canonicalJson, hash64 } from './schema-hash.ts';

/** The manifest shape `registerComponent` builds. */
export interface SchemaManifest {
  version: number;
  components: unknown[];
}

/** One component of a summary: name, FNV-64 of its fields' canonical JSON, and that JSON when it fit the budget. */
export type SchemaRow = [name: string, fieldsHash: string, fieldsJson?: string];

/** A manifest summary as it travels in a `SchemaMismatch` Error: `{v: version, c: rows}`. */
export interface SchemaSummary {
  v: number;
  c: SchemaRow[];
}

/**
 * Bytes of field JSON a summary carries at most: 16 KiB names every field of ~150 typical components, yet keeps
 * the answer to one small Hello bounded (beyond it rows carry only their hash and the diff names the component).
 */
export const MAX_SCHEMA_DETAIL_BYTES = 16 * 1024;

/** Most components a summary may list (the registry's own cap). */
export const MAX_SCHEMA_ROWS = 255;

const MAX_NAME_CHARS = 256;

function componentParts(c: unknown): { name: string; fields: unknown[] } {
  const o = c as { name?: unknown; fields?: unknown };
  return { name: String(o.name), fields: Array.isArray(o.fields) ? o.fields : [] };
}

/** The summary of `manifest`, field JSON included while `budgetBytes` lasts. */
export function summarizeSchema(manifest: SchemaManifest, budgetBytes = MAX_SCHEMA_DETAIL_BYTES): SchemaSummary {
  let left = budgetBytes;
  const rows: SchemaRow[] = manifest.components.slice(0, MAX_SCHEMA_ROWS).map((c) => {
    const { name, fields } = componentParts(c);
    const json = canonicalJson(fields);
    const row: SchemaRow = [name, hash64(json)];
    if (json.length <= left) {
      row.push(json);
      left -= json.length;
    }
    return row;
  });
  return { v: manifest.version, c: rows };
}

/** Validates a summary from the network; null for anything else. */
export function parseSchemaSummary(v: unknown): SchemaSummary | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as { v?: unknown; c?: unknown };
  if (typeof o.v !== 'number' || !Number.isSafeInteger(o.v) || !Array.isArray(o.c) || o.c.length > MAX_SCHEMA_ROWS)
    return null;
  let budget = MAX_SCHEMA_DETAIL_BYTES;
  const rows: SchemaRow[] = [];
  for (const r of o.c as unknown[]) {
    if (!Array.isArray(r) || r.length < 2 || r.length > 3) return null;
    const [name, hash, json] = r as unknown[];
    if (typeof name !== 'string' || name.length > MAX_NAME_CHARS) return null;
    if (typeof hash !== 'string' || !/^[0-9a-f]{16}$/.test(hash)) return null;
    if (json !== undefined) {
      if (typeof json !== 'string' || json.length > budget) return null;
      budget -= json.length;
      rows.push([name, hash, json]);
    } else rows.push([name, hash]);
  }
  return { v: o.v, c: rows };
}

function fieldName(f: unknown): string {
  const n = (f as { name?: unknown } | null)?.name;
  return typeof n === 'string' ? n.slice(0, MAX_NAME_CHARS) : '?';
}

function describeField(f: unknown): string {
  if (typeof f !== 'object' || f === null) return 'nothing';
  const { name: _name, ...rest } = f as Record<string, unknown>;
  return canonicalJson(rest);
}

/** A field entry as `fieldManifest` makes it: a flat object of numbers, strings and lists of them. */
function isFieldEntry(f: unknown): boolean {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return false;
  const flat = (x: unknown) => typeof x === 'string' || typeof x === 'number';
  return Object.values(f).every((x) => flat(x) || (Array.isArray(x) && x.every(flat)));
}

/** The server's field list, or null unless it has exactly the manifest's shape (no deep nesting reaches a diff). */
function parseFields(json: string): unknown[] | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  return Array.isArray(v) && v.every(isFieldEntry) ? v : null;
}

/**
 * The first difference between the local manifest and the server's summary, in words (e.g. "component 'Pose'
 * field 'px': server {"kind":"f32"}, client {"kind":"quantized",...}"), or null when none is visible.
 */
export function describeSchemaDifference(local: SchemaManifest, server: SchemaSummary): string | null {
  if (local.version !== server.v) return `manifest version: server ${server.v}, client ${local.version}`;
  const n = Math.max(local.components.length, server.c.length);
  for (let i = 0; i < n; i++) {
    const row = server.c[i];
    if (i >= local.components.length) return `component #${i} '${row[0]}' is registered on the server only`;
    const mine = componentParts(local.components[i]);
    if (!row) return `component #${i} '${mine.name}' is registered on the client only`;
    if (row[0] !== mine.name) return `component #${i}: server registers '${row[0]}', client '${mine.name}'`;
    const json = canonicalJson(mine.fields);
    if (row[1] === hash64(json)) continue;
    const theirs = row[2] === undefined ? null : parseFields(row[2]);
    if (theirs === null) return `component '${mine.name}': its fields differ`;
    const m = Math.max(theirs.length, mine.fields.length);
    for (let f = 0; f < m; f++) {
      const a = theirs[f];
      const b = mine.fields[f];
      if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) continue;
      if (a === undefined) return `component '${mine.name}' field '${fieldName(b)}' is on the client only`;
      if (b === undefined) return `component '${mine.name}' field '${fieldName(a)}' is on the server only`;
      if (fieldName(a) !== fieldName(b))
        return `component '${mine.name}' field #${f}: server '${fieldName(a)}', client '${fieldName(b)}'`;
      return `component '${mine.name}' field '${fieldName(b)}': server ${describeField(a)}, client ${describeField(b)}`;
    }
    return `component '${mine.name}': its fields differ`;
  }
  return null;
}
