/**
 * The server sends the command log to clients: a CommandSnapshot when a client joins or resumes (its previous
 * link's messages are gone), then every new entry in log order, batched per send tick. A client that fell behind
 * the entries the server still keeps gets a fresh snapshot instead.
 */
import { encodeControl } from '../codec/message-frame.ts';
import type { Connection } from '../connection/connection.ts';
import { Tag } from '../protocol/tags.ts';
import type { CommandLog } from './command-log.ts';
import type { CommandSequencer } from './command-sequencer.ts';
import { commandRow, ENTRIES_PER_MESSAGE } from './command-wire.ts';

/** Per-client position in the command log. */
export class CommandFeed {
  private readonly nextIndex = new Map<number, number>();

  constructor(
    private readonly log: CommandLog,
    private readonly sequencer: CommandSequencer,
  ) {}

  /** Sends `clientId` the whole command state; it gets entries after it from now on. */
  snapshot(clientId: number, connection: Connection): void {
    const log = this.log;
    const body = { i: log.index, last: this.sequencer.lastSeq.get(clientId) ?? 0, r: log.rows() };
    connection.sendReliable(encodeControl(Tag.CommandSnapshot, body));
    this.nextIndex.set(clientId, log.index + 1);
  }

  /** Queues the entries `clientId` has not had yet (a snapshot when they are no longer kept). */
  send(clientId: number, connection: Connection): void {
    const next = this.nextIndex.get(clientId);
    if (next === undefined || next > this.log.index) return;
    const entries = this.sequencer.entriesFrom(next);
    if (entries === null) {
      this.snapshot(clientId, connection);
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
