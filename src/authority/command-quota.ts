/**
 * Bounds of the server's command state. Records are keyed by targets the clients choose and never go away, and
 * every join sends all of them, so the server caps how many targets exist, how many one client created, and
 * how many bytes they hold. An entry that would go past a bound is refused with the reason 'limit' (counted,
 * reported as `LimitExceeded`); existing targets stay editable while their size does not grow past the bound.
 * Only the server checks: clients apply what the server accepted, so every peer still holds the same state.
 */
import { encodeBody } from '../codec/msgpack-body.ts';
import { usageError } from '../errors.ts';
import type { CommandEntryData } from './command-signing.ts';

/** Bounds of the command state (server). */
export interface CommandLimits {
  /** Targets in the command state, all authors together (default 8,192). */
  maxTargets?: number;
  /** Targets one client may create (default 1,024); entries by the server itself are not counted per author. */
  maxTargetsPerAuthor?: number;
  /** Bytes of the command state: target, payload and row overhead per record (default 4 MiB, at most 16 MiB). */
  maxStateBytes?: number;
}

/** Default total targets: an editor scene of thousands of objects, each with a selection or a transform record. */
export const DEFAULT_MAX_COMMAND_TARGETS = 8192;

/** Default targets per client: one user selecting or editing a thousand objects; an eighth of the total. */
export const DEFAULT_MAX_COMMAND_TARGETS_PER_AUTHOR = 1024;

/** Default state bytes: 4 MiB is 256 snapshot chunks of 16 KiB on every join (~1 MB deflated for typical records). */
export const DEFAULT_MAX_COMMAND_STATE_BYTES = 4 * 1024 * 1024;

/**
 * Largest `maxStateBytes` allowed: clients accept command snapshots of up to MAX_COMMAND_SNAPSHOT_CHUNKS chunks,
 * and 16 MiB of records never need more than 2 x 16 MiB / 16 KiB + 1 = 2,049 of them.
 */
export const MAX_COMMAND_STATE_BYTES_LIMIT = 16 * 1024 * 1024;

/** Bytes a record costs besides its target and payload: the row's framing, stamp, author and version. */
export const COMMAND_ROW_OVERHEAD_BYTES = 32;

/**
 * Largest record, encoded: four maximal payloads. Merges grow a record, and a client accepts chunks of at most
 * MAX_COMMAND_CHUNK_RAW_BYTES (128 KiB), which 16 KiB of rows plus one such record always fit.
 */
export const MAX_COMMAND_RECORD_BYTES = 64 * 1024;

/** Which bound an entry would cross, or null. */
export type CommandQuotaRefusal = 'targets' | 'author' | 'bytes' | 'record' | null;

/** Limits with every value filled in; throws a Usage error for a bad one. */
export function resolveCommandLimits(options: CommandLimits | undefined): Required<CommandLimits> {
  const r: Required<CommandLimits> = {
    maxTargets: DEFAULT_MAX_COMMAND_TARGETS,
    maxTargetsPerAuthor: DEFAULT_MAX_COMMAND_TARGETS_PER_AUTHOR,
    maxStateBytes: DEFAULT_MAX_COMMAND_STATE_BYTES,
    ...options,
  };
  for (const [key, value] of Object.entries(r))
    if (!(Number.isInteger(value) && value > 0))
      usageError(`commandLimits.${key} must be a positive integer`, 'e.g. 1024');
  if (r.maxStateBytes > MAX_COMMAND_STATE_BYTES_LIMIT)
    usageError(
      `commandLimits.maxStateBytes ${r.maxStateBytes} is above ${MAX_COMMAND_STATE_BYTES_LIMIT}`,
      'clients decode command snapshots up to 16 MiB; keep the command state smaller',
    );
  return r;
}

/** Estimated size of the record an entry leaves behind, before applying it: target (UTF-8 at most), payload. */
export function commandRowBytes(e: CommandEntryData): number {
  return e.target.length * 3 + e.payload.length + COMMAND_ROW_OVERHEAD_BYTES;
}

interface Usage {
  creator: number;
  bytes: number;
}

/** Who created each target and what it weighs, against the limits. */
export class CommandQuota {
  readonly limits: Required<CommandLimits>;
  /** Bytes of every record, as charged. */
  bytes = 0;
  private readonly usage = new Map<string, Usage>();
  /** Targets per creating client (only clients that created some are listed: at most `maxTargets` keys). */
  private readonly created = new Map<number, number>();

  constructor(options: CommandLimits | undefined) {
    this.limits = resolveCommandLimits(options);
  }

  /** Targets in the state. */
  get targets(): number {
    return this.usage.size;
  }

  /** Targets created by `author`. */
  createdBy(author: number): number {
    return this.created.get(author) ?? 0;
  }

  /**
   * Which bound applying `e` would cross, or null when it fits. A merge into an existing record is assumed to grow
   * it by its payload (true of sums, unions and appends; a merge function that grows records faster is the
   * application's to bound).
   */
  check(e: CommandEntryData, merge: boolean): CommandQuotaRefusal {
    const l = this.limits;
    const bytes = commandRowBytes(e);
    const current = this.usage.get(e.target);
    if (current === undefined) {
      if (this.usage.size >= l.maxTargets) return 'targets';
      if (e.author !== 0 && this.createdBy(e.author) >= l.maxTargetsPerAuthor) return 'author';
      return this.bytes + bytes > l.maxStateBytes ? 'bytes' : null;
    }
    const after = merge ? current.bytes + e.payload.length : bytes;
    if (after > MAX_COMMAND_RECORD_BYTES) return 'record';
    return after > current.bytes && this.bytes - current.bytes + after > l.maxStateBytes ? 'bytes' : null;
  }

  /**
   * `e` was applied and its target now holds `value` (`changed`: the entry replaced it). The record is charged
   * its encoded size, so a merge that grows a record is seen (it may pass the bound by that one record).
   */
  applied(e: CommandEntryData, changed: boolean, value: unknown): void {
    const current = this.usage.get(e.target);
    if (current !== undefined && !changed) return;
    const bytes = e.target.length * 3 + encodeBody(value).length + COMMAND_ROW_OVERHEAD_BYTES;
    if (current === undefined) {
      this.usage.set(e.target, { creator: e.author, bytes });
      this.bytes += bytes;
      if (e.author !== 0) this.created.set(e.author, this.createdBy(e.author) + 1);
    } else {
      this.bytes += bytes - current.bytes;
      current.bytes = bytes;
    }
  }
}
