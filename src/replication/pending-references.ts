/**
 * Entity-reference fields waiting for their target: a received reference names an entity this client does not
 * have (not spawned yet, or out of its interest), so the field holds 0 until that entity arrives. One entry per
 * holder field (a newer value replaces the older one), so the table is bounded by the reference fields of the
 * entities held here, and capped in total besides.
 */
import { usageError } from '../errors.ts';
import { FieldKind } from '../protocol/field-schema.ts';
import type { RegisteredComponent } from '../register.ts';
import type { CompiledField } from './compiled-field.ts';

/**
 * Default cap on waiting references: 65,536 entries (~10 MB at worst) is one per reference field of 65,536
 * entities, past what one client holds in a room; beyond it new ones are refused and counted.
 */
export const DEFAULT_MAX_UNRESOLVED_REFS = 65_536;

/** Waiting references: holder field -> target network id, and target -> holder fields. */
export class PendingReferences {
  /** Reference fields in protocol order; a holder key is eid * slots + slot. */
  private readonly fields: CompiledField[];
  private readonly slotOf: Int32Array[];
  private readonly byHolder = new Map<number, number>();
  private readonly byTarget = new Map<number, Set<number>>();
  /** References refused because the table was full. */
  dropped = 0;

  constructor(
    comps: readonly RegisteredComponent[],
    readonly max: number = DEFAULT_MAX_UNRESOLVED_REFS,
  ) {
    if (!Number.isInteger(max) || max < 1)
      usageError(`maxUnresolvedRefs must be a positive integer, got ${max}`, 'pass e.g. 65536 or leave it out');
    this.fields = comps.flatMap((c) => c.fields.filter((f) => f.kind === FieldKind.entity));
    this.slotOf = comps.map((c) => Int32Array.from(c.fields, (f) => this.fields.indexOf(f)));
  }

  /** Entries waiting now. */
  get size(): number {
    return this.byHolder.size;
  }

  /** True when the protocol has any reference field. */
  get active(): boolean {
    return this.fields.length > 0;
  }

  /** Every reference field, for walking holders. */
  get referenceFields(): readonly CompiledField[] {
    return this.fields;
  }

  /** Field `f` of `eid` waits for `netId`; false (and counted) when the table is full. */
  add(eid: number, f: CompiledField, netId: number): boolean {
    const key = eid * this.fields.length + this.slotOf[f.component][f.index];
    const prior = this.byHolder.get(key);
    if (prior === netId) return true;
    if (prior !== undefined) this.unlink(key, prior);
    else if (this.byHolder.size >= this.max) {
      this.dropped++;
      return false;
    }
    this.byHolder.set(key, netId);
    const set = this.byTarget.get(netId);
    if (set) set.add(key);
    else this.byTarget.set(netId, new Set([key]));
    return true;
  }

  /** Removes and calls `fn` for every holder field waiting for `netId` (it has just arrived). */
  take(netId: number, fn: (eid: number, f: CompiledField) => void): void {
    const set = this.byTarget.get(netId);
    if (!set) return;
    this.byTarget.delete(netId);
    const n = this.fields.length;
    for (const key of set) {
      this.byHolder.delete(key);
      fn(Math.floor(key / n), this.fields[key % n]);
    }
  }

  /** Forgets what `eid` was waiting for (it was destroyed here; its id may be recycled). */
  forgetHolder(eid: number): void {
    const n = this.fields.length;
    for (let slot = 0; slot < n; slot++) {
      const key = eid * n + slot;
      const netId = this.byHolder.get(key);
      if (netId === undefined) continue;
      this.byHolder.delete(key);
      this.unlink(key, netId);
    }
  }

  private unlink(key: number, netId: number): void {
    const set = this.byTarget.get(netId);
    if (!set) return;
    set.delete(key);
    if (set.size === 0) this.byTarget.delete(netId);
  }
}
