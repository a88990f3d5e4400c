/**
 * The server sends the command log to clients: a CommandSnapshot when a client joins or resumes (its previous
 * link's messages are gone), chunked and deflated like a world snapshot, then every new entry in log order,
 * batched per send tick. A client that fell behind the entries the server still keeps gets a fresh snapshot.
 */
import { encodeControl } from '../codec/message-frame.ts';
import type { Connection } from '../connection/connection.ts';
import { Tag } from '../protocol/tags.ts';
import type { CommandLog } from './command-log.ts';
import type { CommandSequencer } from './command-sequencer.ts';
import {
  type CommandChunk,
  type CommandSnapshotFigures,
  encodeCommandChunks,
  frameCommandSnapshot,
} from './command-snapshot.ts';
import { commandRow, ENTRIES_PER_MESSAGE } from './command-wire.ts';

/** Per-client position in the command log. */
export class CommandFeed {
  private readonly nextIndex = new Map<number, number>();
  /** Command snapshots sent, and their rows, chunks and bytes (raw and as sent). */
  readonly figures: CommandSnapshotFigures & {
    /** Command snapshots sent. */
    snapshots: number;
  } = {
    snapshots: 0,
    rows: 0,
    chunks: 0,
    rawBytes: 0,
    sentBytes: 0,
  };
  private snapshotId = 0;
  /** Encoded chunks of the state at a log index, with and without deflate: joins in a row encode it once. */
  private readonly cache: { index: number; rows: number; chunks: [CommandChunk[] | null, CommandChunk[] | null] } = {
    index: -1,
    rows: 0,
    chunks: [null, null],
  };

  constructor(
    private readonly log: CommandLog,
    private readonly sequencer: CommandSequencer,
  ) {}

  /** Sends `clientId` the whole command state (deflated if it offered it); it gets entries after it from now on. */
  snapshot(clientId: number, connection: Connection, deflate: boolean): void {
    const log = this.log;
    const cache = this.cache;
    // The server's state changes only by appending entries, so the log index identifies it.
    if (cache.index !== log.index) {
      cache.index = log.index;
      cache.chunks = [null, null];
    }
    const k = deflate ? 1 : 0;
    let chunks = cache.chunks[k];
    if (chunks === null) {
      const rows = log.rows();
      cache.rows = rows.length;
      chunks = cache.chunks[k] = encodeCommandChunks(rows, deflate);
    }
    const messages = frameCommandSnapshot(
      { id: ++this.snapshotId, index: log.index, lastSeq: this.sequencer.lastSeq.get(clientId) ?? 0, rows: cache.rows },
      chunks,
      this.figures,
    );
    for (const m of messages) connection.sendReliable(m);
    this.figures.snapshots++;
    this.nextIndex.set(clientId, log.index + 1);
  }

  /** Queues the entries `clientId` has not had yet (a snapshot when they are no longer kept). */
  send(clientId: number, connection: Connection, deflate: boolean): void {
    const next = this.nextIndex.get(clientId);
    if (next === undefined || next > this.log.index) return;
    const entries = this.sequencer.entriesFrom(next);
    if (entries === null) {
      this.snapshot(clientId, connection, deflate);
      return;
    }
    for (let i = 0; i < entries.length; i += ENTRIES_PER_MESSAGE) {
      const rows = entries.slice(i, i + ENTRIES_PER_MESSAGE).map(commandRow);
      connection.sendReliable(encodeControl(Tag.CommandEntry, { i: next + i, e: rows }));
    }
    this.nextIndex.set(clientId, this.log.index + 1);
  }

  /** Forgets a client that left. */
  forget(clientId: number): void {
    this.nextIndex.delete(clientId);
  }

  /** Lets the sequencer drop entries every connected client has been sent. */
  trim(connected: Iterable<number>): void {
    let lowest = this.log.index + 1;
    for (const id of connected) lowest = Math.min(lowest, this.nextIndex.get(id) ?? lowest);
    this.sequencer.trim(lowest);
  }
}
