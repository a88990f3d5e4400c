/**
 * The replicated state of the command log for shared editing (selections, gizmo transforms, tool activations):
 * one record per target, changed by entries applied in the server's total order. Each command type has a
 * conflict policy: last-writer-wins (the greater Lamport stamp wins, whatever the arrival order), merge (an
 * application function folds the entry into the record) or reject-on-conflict (an entry based on an older version
 * of its target is refused). Every peer runs this same code over the same order, so every peer ends in the same state.
 */
import { createBodyDecoder } from '../codec/msgpack-body.ts';
import { usageError } from '../errors.ts';
import type { CommandEntryData } from './command-signing.ts';
import { compareStamps } from './lamport.ts';
import type { Sender } from './roles.ts';

/** How concurrent entries on one target are resolved. */
export type ConflictPolicy = 'last-writer-wins' | 'merge' | 'reject-on-conflict';

/** What a merge function is told about the entry it folds in. */
export interface CommandMeta {
  /** Client id of the entry's author. */
  readonly author: number;
  /** The author's sequence number of the entry. */
  readonly seq: number;
  /** Lamport counter of the entry. */
  readonly counter: number;
  /** Log index of the entry (numbered from 1). */
  readonly index: number;
  /** The target (record key) the entry changes. */
  readonly target: string;
}

/** One command type: its policy and application functions. Declare the same types on every peer. */
export interface CommandType<P = unknown> {
  /** How concurrent entries on one target are resolved. */
  policy: ConflictPolicy;
  /** Checks (and clamps) a decoded payload; undefined refuses the entry. Must be deterministic. Default: as is. */
  validate?(payload: unknown): P | undefined;
  /** 'merge' only: the record's next value from its current one (undefined at first). Deterministic, no mutation. */
  merge?(current: unknown, incoming: P, meta: CommandMeta): unknown;
  /** Who may issue it (default participants and admins). */
  senders?: readonly Sender[];
}

/** Command types by name (method syntax above lets a typed `CommandType<P>` stand here). */
export type CommandTypes = Record<string, CommandType<unknown>>;

/** The state of one target. */
export interface CommandRecord {
  /** The target's current value. */
  value: unknown;
  /** Lamport stamp of the entry that last changed it. */
  counter: number;
  /** Client id of the author of the entry that last changed it. */
  author: number;
  /** Log index of the entry that last changed it (what reject-on-conflict compares `base` with). */
  version: number;
}

/** A record as it travels in a CommandSnapshot: [target, value, counter, author, version]. */
export type CommandRow = [string, unknown, number, number, number];

/** Why an entry is not applied. */
export type CommandRefusal = 'unknown-type' | 'invalid' | 'conflict';

/** Outcome of checking an entry: its validated payload, or why it is refused. */
export type CommandCheck =
  | {
      /** The entry can be applied. */
      ok: true;
      /** The payload as the type's `validate` returned it. */
      payload: unknown;
    }
  | {
      /** The entry is refused. */
      ok: false;
      /** Why it is refused. */
      reason: CommandRefusal;
    };

/** Longest command payload in bytes: editor commands are small records; 16 KiB bounds the log's memory. */
export const MAX_COMMAND_PAYLOAD_BYTES = 16_384;

/** Longest command type name. */
export const MAX_COMMAND_TYPE_LENGTH = 64;

/** Longest command target. */
export const MAX_COMMAND_TARGET_LENGTH = 256;

/** Payloads are small records: tight limits keep a hostile payload cheap to refuse. */
const payloadDecoder = createBodyDecoder({
  maxStrLength: 4096,
  maxBinLength: MAX_COMMAND_PAYLOAD_BYTES,
  maxArrayLength: 1024,
  maxMapLength: 256,
  maxDepth: 8,
});

/** Checks the command types given in options; throws a Usage error for a bad one. */
export function checkCommandTypes(types: CommandTypes): CommandTypes {
  for (const [name, t] of Object.entries(types)) {
    if (name.length === 0 || name.length > MAX_COMMAND_TYPE_LENGTH)
      usageError(`command type name '${name}' is empty or too long`, `use 1..${MAX_COMMAND_TYPE_LENGTH} characters`);
    if (t.policy !== 'last-writer-wins' && t.policy !== 'merge' && t.policy !== 'reject-on-conflict')
      usageError(
        `command type '${name}' has no valid policy`,
        "use 'last-writer-wins', 'merge' or 'reject-on-conflict'",
      );
    if (t.policy === 'merge' && typeof t.merge !== 'function')
      usageError(`command type '${name}' merges but has no merge function`, 'pass merge(current, incoming, meta)');
  }
  return types;
}

/** The state built from the log: records by target, and how many entries were applied. */
export class CommandLog {
  /** The records, by target. */
  readonly records = new Map<string, CommandRecord>();
  /** Index of the last entry applied (entries are numbered from 1). */
  index = 0;
  private readonly types: CommandTypes;

  constructor(types: CommandTypes) {
    this.types = checkCommandTypes(types);
  }

  /** The type named `name`, if declared. */
  typeOf(name: string): CommandType<unknown> | undefined {
    return Object.hasOwn(this.types, name) ? this.types[name] : undefined;
  }

  /** Version of `target` (0 when nothing changed it yet). */
  versionOf(target: string): number {
    return this.records.get(target)?.version ?? 0;
  }

  /** Decodes and validates an entry's payload and checks its policy against the current state; changes nothing. */
  check(e: CommandEntryData): CommandCheck {
    const type = this.typeOf(e.type);
    if (!type) return { ok: false, reason: 'unknown-type' };
    if (e.payload.length > MAX_COMMAND_PAYLOAD_BYTES) return { ok: false, reason: 'invalid' };
    const decoded = payloadDecoder.decode(e.payload);
    if (!decoded.ok) return { ok: false, reason: 'invalid' };
    let payload: unknown = decoded.value;
    if (type.validate) {
      try {
        payload = type.validate(payload);
      } catch {
        payload = undefined;
      }
      if (payload === undefined) return { ok: false, reason: 'invalid' };
    }
    if (type.policy === 'reject-on-conflict' && e.base !== this.versionOf(e.target))
      return { ok: false, reason: 'conflict' };
    return { ok: true, payload };
  }

  /**
   * Applies a checked entry as the next log entry. Returns false when last-writer-wins kept the record because it
   * already holds a later stamp, or a merge function threw (the entry still takes its place in the log).
   */
  apply(e: CommandEntryData, payload: unknown): boolean {
    const index = ++this.index;
    const type = this.typeOf(e.type) as CommandType<unknown>;
    const rec = this.records.get(e.target);
    if (type.policy === 'last-writer-wins') {
      if (rec && compareStamps(e.counter, e.author, rec.counter, rec.author) < 0) return false;
      this.records.set(e.target, { value: payload, counter: e.counter, author: e.author, version: index });
      return true;
    }
    let value = payload;
    if (type.policy === 'merge') {
      const meta: CommandMeta = { author: e.author, seq: e.seq, counter: e.counter, index, target: e.target };
      try {
        value = (type as Required<CommandType<unknown>>).merge(rec?.value, payload, meta);
      } catch {
        // The same entry throws on every peer: it takes its place in the log and changes nothing, everywhere.
        return false;
      }
    }
    const later = !rec || compareStamps(e.counter, e.author, rec.counter, rec.author) > 0;
    this.records.set(e.target, {
      value,
      counter: later ? e.counter : (rec as CommandRecord).counter,
      author: later ? e.author : (rec as CommandRecord).author,
      version: index,
    });
    return true;
  }

  /** Every record, sorted by target (the same order on every peer). */
  rows(): CommandRow[] {
    return [...this.records.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([k, r]) => [k, r.value, r.counter, r.author, r.version]);
  }

  /** Replaces the state with a snapshot's (`index` entries applied). */
  load(index: number, rows: readonly CommandRow[]): void {
    this.records.clear();
    for (const [k, value, counter, author, version] of rows) this.records.set(k, { value, counter, author, version });
    this.index = index;
  }
}
