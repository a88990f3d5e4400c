/**
 * The command state on the wire, chunked and compressed like a world snapshot: rows (sorted by target) are
 * MessagePack-encoded into chunks of at most COMMAND_CHUNK_BYTES (one larger row gets a chunk of its own), each
 * chunk deflated (fflate) when the client offered it and it saves at least a tenth. A client collects the chunks
 * of one snapshot in order and applies the state once the last one arrived.
 *
 * CommandSnapshot body: {s: snapshot id, n: chunk index, of: chunk count, i: log index, last: the client's last
 * processed seq, r: bin, z?: raw length when r is deflated}; r (inflated) is a MessagePack array of rows
 * [target, value, counter, author, version].
 */
import { deflateSync } from 'fflate';
import { inflateExactly } from '../codec/exact-inflate.ts';
import { encodeControl } from '../codec/message-frame.ts';
import { createBodyDecoder, encodeBody } from '../codec/msgpack-body.ts';
import { asUint, isRecord } from '../protocol/handshake.ts';
import { Tag } from '../protocol/tags.ts';
import { SNAPSHOT_CHUNK_BYTES } from '../replication/full-state.ts';
import { COMPRESS_MIN_BYTES } from '../replication/snapshot-writer.ts';
import type { CommandRow } from './command-log.ts';
import { type CommandSnapshotBody, parseCommandRows } from './command-wire.ts';

/** Raw bytes of rows per chunk: the world snapshot's 16 KiB, a few packets, deflated in well under a millisecond. */
export const COMMAND_CHUNK_BYTES = SNAPSHOT_CHUNK_BYTES;

/**
 * Chunks a client accepts in one command snapshot: 16 MiB of state (the largest `maxStateBytes`) needs at most
 * 2,049; twice that leaves room for records a merge grew past their charge.
 */
export const MAX_COMMAND_SNAPSHOT_CHUNKS = 4096;

/** Largest raw chunk a client inflates: a full chunk plus one maximal row (16 KiB payload, re-encoded), doubled. */
export const MAX_COMMAND_CHUNK_RAW_BYTES = 128 * 1024;

/** Figures of one written command snapshot. */
export interface CommandSnapshotFigures {
  /** Records (rows) the snapshot carried. */
  rows: number;
  /** CommandSnapshot chunks it was sent in. */
  chunks: number;
  /** Bytes of the encoded rows before deflate. */
  rawBytes: number;
  /** Bytes of the chunks as sent (after deflate). */
  sentBytes: number;
}

function arrayHeader(n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(0x90 | n);
  if (n < 0x10000) return Uint8Array.of(0xdc, n >>> 8, n & 0xff);
  return Uint8Array.of(0xdd, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One chunk's rows as they travel: MessagePack bytes, deflated when `rawLength` is set. */
export interface CommandChunk {
  bytes: Uint8Array;
  /** Raw length of a deflated chunk, or -1. */
  rawLength: number;
}

/**
 * Encodes rows (sorted by target) into chunks of at most COMMAND_CHUNK_BYTES (MessagePack arrays of rows; a larger
 * row gets a chunk of its own), each deflated when `deflate` is set and it saves at least a tenth. At least one
 * chunk, even for no rows. The chunks do not depend on the client: the server reuses them while the log stands.
 */
export function encodeCommandChunks(rows: readonly CommandRow[], deflate: boolean): CommandChunk[] {
  // 1. rows into chunks
  const raws: Uint8Array[] = [];
  let parts: Uint8Array[] = [];
  let bytes = 0;
  const close = () => {
    const header = arrayHeader(parts.length);
    raws.push(concat([header, ...parts], header.length + bytes));
    parts = [];
    bytes = 0;
  };
  for (const row of rows) {
    const encoded = encodeBody(row);
    if (parts.length > 0 && bytes + encoded.length > COMMAND_CHUNK_BYTES - 8) close();
    parts.push(encoded);
    bytes += encoded.length;
  }
  if (parts.length > 0 || raws.length === 0) close();
  // 2. deflate each chunk when it pays
  return raws.map((raw) => {
    if (deflate && raw.length >= COMPRESS_MIN_BYTES) {
      const packed = deflateSync(raw, { level: 6 });
      if (packed.length * 10 < raw.length * 9) return { bytes: packed, rawLength: raw.length };
    }
    return { bytes: raw, rawLength: -1 };
  });
}

/** Frames encoded chunks as the CommandSnapshot messages of snapshot `id` for one client. */
export function frameCommandSnapshot(
  snapshot: { id: number; index: number; lastSeq: number; rows: number },
  chunks: readonly CommandChunk[],
  figures?: CommandSnapshotFigures,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let n = 0; n < chunks.length; n++) {
    const c = chunks[n];
    const body: Record<string, unknown> = {
      s: snapshot.id,
      n,
      of: chunks.length,
      i: snapshot.index,
      last: snapshot.lastSeq,
      r: c.bytes,
    };
    if (c.rawLength >= 0) body.z = c.rawLength;
    const msg = encodeControl(Tag.CommandSnapshot, body);
    if (figures) {
      figures.rawBytes += c.rawLength >= 0 ? c.rawLength : c.bytes.length;
      figures.sentBytes += msg.length;
    }
    out.push(msg);
  }
  if (figures) {
    figures.rows += snapshot.rows;
    figures.chunks += out.length;
  }
  return out;
}

/** Writes the command state at log `index` as framed CommandSnapshot messages (at least one, even when empty). */
export function writeCommandSnapshot(
  snapshot: { id: number; index: number; lastSeq: number; rows: readonly CommandRow[]; deflate: boolean },
  figures?: CommandSnapshotFigures,
): Uint8Array[] {
  const chunks = encodeCommandChunks(snapshot.rows, snapshot.deflate);
  return frameCommandSnapshot({ ...snapshot, rows: snapshot.rows.length }, chunks, figures);
}

/** Rows of a chunk: a few thousand small rows at most, values within the command payload limits. */
const rowsDecoder = createBodyDecoder({
  maxArrayLength: COMMAND_CHUNK_BYTES,
  maxBinLength: MAX_COMMAND_CHUNK_RAW_BYTES,
});

/** What one chunk did: a complete snapshot, 'partial' (more chunks to come), or why it was dropped. */
export type CommandChunkResult = CommandSnapshotBody | 'partial' | string;

/** A client's collector of command snapshot chunks; validates each chunk before it reads it. */
export class CommandSnapshotAssembler {
  private id = -1;
  private next = 0;
  private count = 0;
  private index = 0;
  private lastSeq = 0;
  private rows: CommandRow[] = [];

  /** Rows held for an incomplete snapshot. */
  get heldRows(): number {
    return this.rows.length;
  }

  /** Takes one decoded CommandSnapshot body. */
  accept(v: unknown): CommandChunkResult {
    if (!isRecord(v) || !(v.r instanceof Uint8Array)) return this.fail('malformed CommandSnapshot');
    const id = asUint(v.s);
    const n = asUint(v.n);
    const of = asUint(v.of);
    const index = asUint(v.i);
    const lastSeq = asUint(v.last);
    const rawLength = v.z === undefined ? -1 : asUint(v.z);
    if (
      id === undefined ||
      n === undefined ||
      of === undefined ||
      index === undefined ||
      lastSeq === undefined ||
      rawLength === undefined ||
      of === 0 ||
      of > MAX_COMMAND_SNAPSHOT_CHUNKS ||
      n >= of
    )
      return this.fail('malformed CommandSnapshot');
    if (n === 0) {
      this.id = id;
      this.next = 0;
      this.count = of;
      this.index = index;
      this.lastSeq = lastSeq;
      this.rows = [];
    }
    if (id !== this.id || n !== this.next || of !== this.count || index !== this.index || lastSeq !== this.lastSeq)
      return this.fail('CommandSnapshot chunk out of sequence');
    let raw = v.r;
    if (rawLength >= 0) {
      // The raw length is checked before inflating, so a chunk never expands past the cap.
      if (rawLength === 0 || rawLength > MAX_COMMAND_CHUNK_RAW_BYTES)
        return this.fail('CommandSnapshot chunk too large');
      const out = inflateExactly(raw, rawLength);
      if (typeof out === 'string') return this.fail(`CommandSnapshot chunk ${out}`);
      raw = out;
    } else if (raw.length > MAX_COMMAND_CHUNK_RAW_BYTES) return this.fail('CommandSnapshot chunk too large');
    const decoded = rowsDecoder.decode(raw);
    const rows = decoded.ok ? parseCommandRows(decoded.value, index) : null;
    if (rows === null) return this.fail('malformed CommandSnapshot rows');
    for (const row of rows) this.rows.push(row);
    this.next++;
    if (this.next < this.count) return 'partial';
    const done: CommandSnapshotBody = { index, lastSeq, rows: this.rows };
    this.reset();
    return done;
  }

  private fail(why: string): string {
    this.reset();
    return why;
  }

  private reset(): void {
    this.id = -1;
    this.next = 0;
    this.count = 0;
    this.rows = [];
  }
}
