/**
 * Bodies of the command-log messages (MessagePack, see wire.md) and their validators.
 *   CommandEntry    client → server  {s: seq, c: counter, b: base, t: type, k: target, p: payload bin, g: sig bin}
 *   CommandEntry    server → client  {i: index of the first entry, e: [[a, s, c, b, t, k, p, g], ...]}
 *   CommandReject   server → author  {s: seq, reason}
 *   CommandSnapshot server → client  {i: index, last: the client's last processed seq, r: [[k, value, c, a, v], ...]}
 */
import { asString, asUint, isRecord } from '../protocol/handshake.ts';
import { SIGNATURE_BYTES } from '../protocol/handshake.ts';
import { MAX_ID } from './authority-wire.ts';
import {
  type CommandRow,
  MAX_COMMAND_PAYLOAD_BYTES,
  MAX_COMMAND_TARGET_LENGTH,
  MAX_COMMAND_TYPE_LENGTH,
} from './command-log.ts';
import type { CommandEntryData } from './command-signing.ts';

/** Entries per server → client CommandEntry message: 256 small entries stay well under a snapshot chunk. */
export const ENTRIES_PER_MESSAGE = 256;

/** Reasons a server gives for rejecting an entry. */
export type CommandRejection =
  'forged' | 'replayed' | 'forbidden' | 'invalid' | 'conflict' | 'unknown-type' | 'malformed' | 'limit';

const REJECTIONS: readonly string[] = [
  'forged',
  'replayed',
  'forbidden',
  'invalid',
  'conflict',
  'unknown-type',
  'malformed',
  'limit',
];

function asBin(v: unknown, exact: number | null, max: number): Uint8Array | undefined {
  if (!(v instanceof Uint8Array) || v.length > max) return undefined;
  return exact === null || v.length === exact ? v : undefined;
}

/** Fields of an entry after the author; null when any is out of range. */
function entryFields(
  author: number,
  s: unknown,
  c: unknown,
  b: unknown,
  t: unknown,
  k: unknown,
  p: unknown,
  g: unknown,
): CommandEntryData | null {
  const seq = asUint(s);
  const counter = asUint(c);
  const base = asUint(b);
  const type = asString(t, MAX_COMMAND_TYPE_LENGTH);
  const target = asString(k, MAX_COMMAND_TARGET_LENGTH);
  const payload = asBin(p, null, MAX_COMMAND_PAYLOAD_BYTES);
  const sig = asBin(g, SIGNATURE_BYTES, SIGNATURE_BYTES);
  if (
    seq === undefined ||
    seq === 0 ||
    counter === undefined ||
    base === undefined ||
    type === undefined ||
    type.length === 0 ||
    target === undefined ||
    payload === undefined ||
    sig === undefined
  )
    return null;
  return { author, seq, counter, base, type, target, payload, sig };
}

/** Validates a client → server CommandEntry; the author is the sending client. */
export function parseCommandEntry(v: unknown, author: number): CommandEntryData | null {
  if (!isRecord(v)) return null;
  return entryFields(author, v.s, v.c, v.b, v.t, v.k, v.p, v.g);
}

/** The client → server body of an entry. */
export function commandEntryBody(e: CommandEntryData): Record<string, unknown> {
  return { s: e.seq, c: e.counter, b: e.base, t: e.type, k: e.target, p: e.payload, g: e.sig };
}

/** A server → client batch: consecutive log entries from index `first`. */
export interface CommandBatchBody {
  first: number;
  entries: CommandEntryData[];
}

/** One entry as a row of a server → client batch. */
export function commandRow(e: CommandEntryData): unknown[] {
  return [e.author, e.seq, e.counter, e.base, e.type, e.target, e.payload, e.sig];
}

/** Validates a server → client CommandEntry batch. */
export function parseCommandBatch(v: unknown): CommandBatchBody | null {
  if (!isRecord(v) || !Array.isArray(v.e) || v.e.length > ENTRIES_PER_MESSAGE) return null;
  const first = asUint(v.i);
  if (first === undefined || first === 0) return null;
  const entries: CommandEntryData[] = [];
  for (const row of v.e) {
    if (!Array.isArray(row) || row.length !== 8) return null;
    const author = asUint(row[0]);
    if (author === undefined || author > MAX_ID) return null;
    const e = entryFields(author, row[1], row[2], row[3], row[4], row[5], row[6], row[7]);
    if (e === null) return null;
    entries.push(e);
  }
  return { first, entries };
}

/** Server → author: entry `seq` was not applied, and why. */
export interface CommandRejectBody {
  seq: number;
  reason: CommandRejection;
}

/** Validates a CommandReject body. */
export function parseCommandReject(v: unknown): CommandRejectBody | null {
  if (!isRecord(v)) return null;
  const seq = asUint(v.s);
  const reason = v.reason;
  if (seq === undefined || typeof reason !== 'string' || !REJECTIONS.includes(reason)) return null;
  return { seq, reason: reason as CommandRejection };
}

/** Server → client: the command state at log index `index`, and the last seq the server processed from it. */
export interface CommandSnapshotBody {
  index: number;
  lastSeq: number;
  rows: CommandRow[];
}

/** Validates a CommandSnapshot body. */
export function parseCommandSnapshot(v: unknown): CommandSnapshotBody | null {
  if (!isRecord(v) || !Array.isArray(v.r)) return null;
  const index = asUint(v.i);
  const lastSeq = asUint(v.last);
  if (index === undefined || lastSeq === undefined) return null;
  const rows = parseCommandRows(v.r, index);
  return rows === null ? null : { index, lastSeq, rows };
}

/** Validates rows of a command snapshot taken at log index `index`; null when any row is out of range. */
export function parseCommandRows(v: unknown, index: number): CommandRow[] | null {
  if (!Array.isArray(v)) return null;
  const rows: CommandRow[] = [];
  for (const row of v) {
    if (!Array.isArray(row) || row.length !== 5) return null;
    const target = asString(row[0], MAX_COMMAND_TARGET_LENGTH);
    const counter = asUint(row[2]);
    const author = asUint(row[3]);
    const version = asUint(row[4]);
    if (target === undefined || counter === undefined || author === undefined || version === undefined) return null;
    if (version > index) return null;
    rows.push([target, row[1], counter, author, version]);
  }
  return rows;
}
