/**
 * The server's half of the command log: collects the entries clients send during a tick, orders each tick's batch
 * by Lamport stamp (counter, then author), and for each entry in that order verifies the signature with the
 * author's key, the author's permission for the command type, and replay (the author's sequence must grow), then
 * checks the type's conflict policy and appends it to the log. Rejected entries are counted and never applied.
 */
import type { CommandLog } from './command-log.ts';
import { type CommandLimits, CommandQuota } from './command-quota.ts';
import { type CommandEntryData, signCommand, verifyCommand } from './command-signing.ts';
import type { CommandRejection } from './command-wire.ts';
import { compareStamps, isPlausibleCounter, type LamportClock } from './lamport.ts';
import { DEFAULT_UNLISTED, senderAllowed } from './roles.ts';

/** Entries held per tick before the oldest are refused: 4,096 is minutes of editing by a busy room, per tick. */
export const MAX_PENDING_COMMANDS = 4096;

/** Entries kept for peers that have not been sent them yet; beyond, a lagging peer gets a snapshot instead. */
export const MAX_LOG_TAIL = 16_384;

/** Counters of the sequencer. */
export interface CommandCounters {
  /** Entries accepted into the log. */
  accepted: number;
  /** Entries refused because the author has no key or their Ed25519 signature did not verify (`forged`). */
  forged: number;
  /** Entries refused because their sequence number is not above the author's last one (`replayed`). */
  replayed: number;
  /** Entries refused because the author's role may not issue them (`forbidden`). */
  forbidden: number;
  /** Entries whose payload the type's `validate` refused (`invalid`). */
  invalid: number;
  /** Entries refused by reject-on-conflict: their base version was stale (`conflict`). */
  conflicts: number;
  /** Entries of a command type not declared on the server (`unknown-type`). */
  unknownType: number;
  /** CommandEntry messages that did not decode (`malformed`). */
  malformed: number;
  /** Entries refused because the command state is at a bound (targets, per-author targets, bytes). */
  limited: number;
  /** Targets in the command state now. */
  targets: number;
  /** Bytes of the command state now, as charged against `maxStateBytes`. */
  stateBytes: number;
}

/** What the sequencer needs to know about clients. */
export interface CommandAuthors {
  /** The Ed25519 public key of a client, if it has one. */
  keyOf(clientId: number): Uint8Array | undefined;
  /** Role and host flag of a client (undefined when it is not in the session). */
  roleOf(clientId: number): { role: string; isHost: boolean } | undefined;
  /** Tells an author its entry was rejected. */
  rejected(clientId: number, seq: number, reason: CommandRejection): void;
}

interface Pending {
  entry: CommandEntryData;
  arrival: number;
}

/** Orders, checks and appends command entries. */
export class CommandSequencer {
  readonly counters: CommandCounters = {
    accepted: 0,
    forged: 0,
    replayed: 0,
    forbidden: 0,
    invalid: 0,
    conflicts: 0,
    unknownType: 0,
    malformed: 0,
    limited: 0,
    targets: 0,
    stateBytes: 0,
  };
  /** The bounds of the command state and what each author used of them. */
  readonly quota: CommandQuota;
  /** Accepted entries not yet trimmed; `tail[0]` has log index `tailStart`. */
  readonly tail: CommandEntryData[] = [];
  tailStart = 1;
  /** Last processed (verified) sequence number per author. */
  readonly lastSeq = new Map<number, number>();
  private pending: Pending[] = [];
  private arrivals = 0;
  private serverSeq = 0;

  constructor(
    readonly log: CommandLog,
    private readonly sessionId: string,
    private readonly lamport: LamportClock,
    private readonly authors: CommandAuthors,
    limits?: CommandLimits,
  ) {
    this.quota = new CommandQuota(limits);
  }

  /** Queues an entry received from its author for this tick's batch. */
  receive(entry: CommandEntryData): void {
    if (this.pending.length >= MAX_PENDING_COMMANDS) {
      this.reject(entry, 'malformed');
      return;
    }
    this.pending.push({ entry, arrival: this.arrivals++ });
  }

  /** Counts an entry whose body did not decode. */
  malformed(clientId: number): void {
    this.counters.malformed++;
    this.authors.rejected(clientId, 0, 'malformed');
  }

  /** Adds an entry authored by the server itself (author 0), signed with the server's key; applied at the next flush. */
  author(type: string, target: string, payload: Uint8Array, secretKey: Uint8Array): CommandEntryData {
    const e = {
      author: 0,
      seq: ++this.serverSeq,
      counter: this.lamport.tick(),
      base: this.log.versionOf(target),
      type,
      target,
      payload,
    };
    const entry = { ...e, sig: signCommand(this.sessionId, e, secretKey) };
    this.pending.push({ entry, arrival: this.arrivals++ });
    return entry;
  }

  /** Orders this tick's entries and applies the valid ones; returns how many were appended. */
  flush(): number {
    if (this.pending.length === 0) return 0;
    const batch = this.pending;
    this.pending = [];
    batch.sort(
      (x, y) =>
        compareStamps(x.entry.counter, x.entry.author, y.entry.counter, y.entry.author) ||
        x.entry.seq - y.entry.seq ||
        x.arrival - y.arrival,
    );
    let appended = 0;
    for (const { entry } of batch) if (this.process(entry)) appended++;
    return appended;
  }

  private process(e: CommandEntryData): boolean {
    const author = e.author;
    if (author !== 0) {
      const key = this.authors.keyOf(author);
      if (!key || !verifyCommand(this.sessionId, e, key)) return this.reject(e, 'forged');
      const last = this.lastSeq.get(author) ?? 0;
      if (e.seq <= last) return this.reject(e, 'replayed');
      this.lastSeq.set(author, e.seq);
      if (!isPlausibleCounter(e.counter, this.lamport.counter)) return this.reject(e, 'invalid');
      const who = this.authors.roleOf(author);
      const type = this.log.typeOf(e.type);
      if (!who) return this.reject(e, 'forbidden');
      if (type && !senderAllowed(type.senders ?? DEFAULT_UNLISTED, who.role, who.isHost))
        return this.reject(e, 'forbidden');
    }
    this.lamport.observe(e.counter);
    const check = this.log.check(e);
    if (!check.ok) return this.reject(e, check.reason === 'conflict' ? 'conflict' : check.reason);
    if (this.quota.check(e, this.log.typeOf(e.type)?.policy === 'merge') !== null) return this.reject(e, 'limit');
    const changed = this.log.apply(e, check.payload);
    this.quota.applied(e, changed, this.log.records.get(e.target)?.value);
    this.counters.targets = this.quota.targets;
    this.counters.stateBytes = this.quota.bytes;
    this.tail.push(e);
    this.counters.accepted++;
    return true;
  }

  private reject(e: CommandEntryData, reason: CommandRejection): false {
    const c = this.counters;
    if (reason === 'forged') c.forged++;
    else if (reason === 'replayed') c.replayed++;
    else if (reason === 'forbidden') c.forbidden++;
    else if (reason === 'conflict') c.conflicts++;
    else if (reason === 'unknown-type') c.unknownType++;
    else if (reason === 'malformed') c.malformed++;
    else if (reason === 'limit') c.limited++;
    else c.invalid++;
    if (e.author !== 0) this.authors.rejected(e.author, e.seq, reason);
    return false;
  }

  /** The accepted entries from log index `from` on (empty when they were trimmed: send a snapshot). */
  entriesFrom(from: number): CommandEntryData[] | null {
    if (from < this.tailStart) return null;
    return this.tail.slice(from - this.tailStart);
  }

  /** Forgets entries every peer has been sent (`upTo` is the lowest next index of any peer), bounded by MAX_LOG_TAIL. */
  trim(upTo: number): void {
    const keepFrom = Math.max(upTo, this.log.index + 1 - MAX_LOG_TAIL);
    const drop = Math.min(this.tail.length, keepFrom - this.tailStart);
    if (drop <= 0) return;
    this.tail.splice(0, drop);
    this.tailStart += drop;
  }
}
