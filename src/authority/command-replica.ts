/**
 * A client's side of the command log: issues signed entries (kept until the server applies or rejects them, and
 * sent again after a resume if the server never saw them), and applies the server's entries in log order, so its
 * `CommandLog` is the same as every other peer's.
 */
import { encodeBody } from '../codec/msgpack-body.ts';
import { type ErrorCodeName, usageError } from '../errors.ts';
import type { Emitter } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import type { ClientSession } from '../session/client-session.ts';
import type { ClientAuthorityEvents } from './authority-events.ts';
import type { CommandLog } from './command-log.ts';
import { type CommandEntryData, signCommand, verifyCommand } from './command-signing.ts';
import { commandEntryBody, type CommandBatchBody, type CommandSnapshotBody } from './command-wire.ts';
import type { LamportClock } from './lamport.ts';

/** What the replica needs from the client authority layer. */
export interface ReplicaHost {
  send(tag: number, body: unknown): void;
  report(code: ErrorCodeName, message: string): void;
  /** Verify each relayed entry's signature with its author's key before applying it (default true). */
  readonly verify: boolean;
}

/** Issues entries and applies the server's order. */
export class CommandReplica {
  private seq = 0;
  private readonly pending = new Map<number, CommandEntryData>();
  /** Client id the pending entries were signed as. */
  private signedAs = 0;
  /** Relayed entries refused because their signature is not their author's (or the author's key is unknown). */
  forged = 0;

  constructor(
    readonly log: CommandLog,
    private readonly lamport: LamportClock,
    private readonly session: ClientSession,
    private readonly events: Emitter<ClientAuthorityEvents>,
    private readonly host: ReplicaHost,
  ) {}

  /** Entries sent and not yet applied or rejected. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Signs and sends an entry; returns its sequence number. */
  issue(type: string, target: string, payload: unknown): number {
    const welcome = this.session.welcome;
    if (!welcome) usageError('commands need a connected session', 'wait for the connection before issuing commands');
    if (!this.log.typeOf(type)) usageError(`command type '${type}' is not declared`, 'add it to commandTypes');
    const e = {
      author: welcome.clientId,
      seq: ++this.seq,
      counter: this.lamport.tick(),
      base: this.log.versionOf(target),
      type,
      target,
      payload: encodeBody(payload),
    };
    const entry: CommandEntryData = { ...e, sig: signCommand(welcome.sessionId, e, this.session.keyPair.secretKey) };
    this.signedAs = welcome.clientId;
    this.pending.set(entry.seq, entry);
    this.host.send(Tag.CommandEntry, commandEntryBody(entry));
    return entry.seq;
  }

  /** The server rejected entry `seq`. */
  rejected(seq: number): boolean {
    return this.pending.delete(seq);
  }

  /** Applies a batch of the server's entries (those already applied are skipped; a gap is reported). */
  applyBatch(b: CommandBatchBody): void {
    const log = this.log;
    if (b.first > log.index + 1) {
      this.host.report('DecodeError', `command log gap: have ${log.index}, got entries from ${b.first}`);
      return;
    }
    const me = this.session.clientId;
    for (let i = log.index + 1 - b.first; i < b.entries.length; i++) {
      const e = b.entries[i];
      this.lamport.observe(e.counter);
      if (e.author === me && e.author === this.signedAs) this.pending.delete(e.seq);
      if (this.host.verify && !this.authentic(e)) {
        // Refused here, yet the server put it in the log: skip its index so later entries stay aligned.
        log.index++;
        this.forged++;
        this.host.report(
          'ForgedCommand',
          `command ${e.type} on '${e.target}' at log index ${log.index} is not signed by client ${e.author}: refused`,
        );
        continue;
      }
      const check = log.check(e);
      if (!check.ok) {
        // The server accepted it, so this peer's command types differ from the server's: keep the log aligned.
        log.index++;
        this.host.report('SchemaMismatch', `command ${e.type} (${check.reason}) accepted by the server fails here`);
        continue;
      }
      const changed = log.apply(e, check.payload);
      this.events.emit('command', e, log.index, changed);
    }
  }

  /** True when `e` carries its author's signature (the server's key for author 0, else the key from Presence). */
  private authentic(e: CommandEntryData): boolean {
    const welcome = this.session.welcome;
    if (!welcome) return false;
    const key = e.author === 0 ? welcome.serverPublicKey : this.session.memberKeys.get(e.author);
    return key !== undefined && verifyCommand(welcome.sessionId, e, key);
  }

  /** Replaces the state with the server's; entries the server never saw go again (same identity) or are dropped. */
  applySnapshot(b: CommandSnapshotBody): void {
    this.log.load(b.index, b.rows);
    for (const row of b.rows) this.lamport.observe(row[2]);
    const me = this.session.clientId;
    if (this.signedAs !== me) {
      // A new identity: entries signed as the old one can never be accepted.
      for (const seq of [...this.pending.keys()]) this.events.emit('commandRejected', seq, 'forged');
      this.pending.clear();
      this.seq = b.lastSeq;
      this.signedAs = me;
      return;
    }
    this.seq = Math.max(this.seq, b.lastSeq);
    for (const [seq, e] of [...this.pending].sort((x, y) => x[0] - y[0])) {
      if (seq <= b.lastSeq) this.pending.delete(seq);
      else this.host.send(Tag.CommandEntry, commandEntryBody(e));
    }
  }
}
