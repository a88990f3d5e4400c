/**
 * The awareness records a peer holds, one per user: discrete values (reliable, applied in order) and the latest
 * continuous values with the motion sequence that produced them, so an older motion never overwrites a newer one.
 */
import type { AwarenessRecord, CompiledAwareness } from './awareness-schema.ts';
import { publicValue } from './awareness-schema.ts';
import type { ClearReason, FieldChange, MotionValues } from './awareness-wire.ts';

/** Events of awareness, on the server and on clients. */
export type AwarenessEvents = {
  /** A user's record changed: its values now and the names of the fields that changed. */
  changed: [userId: number, record: AwarenessRecord, fields: string[]];
  /** A user's record is gone: the user left, or went out of this client's interest. */
  cleared: [userId: number, reason: ClearReason];
};

/** Half the u32 sequence space: a sequence less than this far ahead (mod 2^32) is newer. */
const HALF_SEQ = 0x80000000;

/** True when motion sequence `a` is newer than `b` (serial-number arithmetic over u32, so it survives the wrap). */
export function isNewerSeq(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < HALF_SEQ;
}

/** One user's awareness in wire form. */
export class AwarenessEntry {
  /** Discrete values by field index. */
  readonly discrete = new Map<number, number | boolean | number[]>();
  /** Continuous values in schema order (null = not set yet). */
  motion: MotionValues;
  /** Sequence of the motion held, or -1 before the first. */
  seq = -1;

  constructor(schema: CompiledAwareness) {
    this.motion = schema.continuous.map(() => null);
  }

  /** Applies discrete changes; returns the names of the fields whose value changed. */
  applyChanges(schema: CompiledAwareness, changes: readonly FieldChange[]): string[] {
    const changed: string[] = [];
    for (const [i, v] of changes) {
      if (sameValue(this.discrete.get(i), v)) continue;
      this.discrete.set(i, v);
      changed.push(schema.names[i]);
    }
    return changed;
  }

  /**
   * Applies a motion of sequence `s` if it is newer than the one held (the first one always is); returns the
   * names of the continuous fields whose value changed, or null when the motion was stale.
   */
  applyMotion(schema: CompiledAwareness, s: number, values: MotionValues): string[] | null {
    if (this.seq >= 0 && !isNewerSeq(s, this.seq)) return null;
    this.seq = s;
    const changed: string[] = [];
    values.forEach((v, k) => {
      if (v === null || sameValue(this.motion[k] ?? undefined, v)) return;
      this.motion[k] = v;
      changed.push(schema.names[schema.continuous[k]]);
    });
    return changed;
  }

  /** Discrete values as `[[index, value], ...]`. */
  changes(): FieldChange[] {
    return [...this.discrete];
  }

  /** True when nothing was set yet. */
  get empty(): boolean {
    return this.discrete.size === 0 && this.seq < 0;
  }

  /** The record as the API shows it: field names to values (enum indexes as names). */
  view(schema: CompiledAwareness): AwarenessRecord {
    const out: AwarenessRecord = {};
    for (const [i, v] of this.discrete) out[schema.names[i]] = publicValue(schema.fields[i], v);
    this.motion.forEach((v, k) => {
      if (v !== null) out[schema.names[schema.continuous[k]]] = v;
    });
    return out;
  }
}

/** Equality of two wire values (arrays by element). */
export function sameValue(a: number | boolean | number[] | undefined, b: number | boolean | number[]): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}
