/**
 * Change detection of one tick, component by component: the raw scan (raw-scanner.ts) finds the entities whose
 * raw values moved, exactly (lane by lane), in ascending entity order; only those are brought to wire form and
 * compared with the shadow (shadow-store.ts, one specialized loop per field kind, the quaternion packed
 * branchless). The result of `detect(c)` is the list of changed entities of component c and their changed-field
 * masks, in `eids` / `masks` (valid until the next call), for the fan-out to hand to each client.
 * A component registered with `changes: 'marked'` skips the raw scan: the entities marked since the last
 * detection (change-marks.ts) are compared instead.
 */
import { FieldKind } from '../protocol/field-schema.ts';
import type { RegisteredComponent } from '../register.ts';
import type { EntityRegistry } from './entity-registry.ts';
import { ChangeMarks } from './change-marks.ts';
import { RawScanner } from './raw-scanner.ts';
import type { ShadowStore } from './shadow-store.ts';

/** Finds, per component, the replicated entities whose wire values changed since the last detection. */
export class ChangeDetector {
  /** Entities of the last `detect`, ascending; `masks[i]` holds the changed fields of `eids[i]` (0: none). */
  eids = new Int32Array(0);
  masks = new Uint32Array(0);
  /** Entities the raw scan flagged and the wire comparison saw (counts since creation, for profiling). */
  readonly counters = { scanned: 0, changed: 0 };
  private readonly scanner: RawScanner;
  private readonly components: readonly RegisteredComponent[];
  /** Components with entity-reference fields: always compared in wire form (a target's id may change). */
  private readonly references: boolean[];
  /** marked[c]: component c is detected from marks instead of the raw scan. */
  private readonly marked: boolean[];
  /** The change marks of the marked components (`markChanged`, accepted owner writes). */
  readonly marks: ChangeMarks;

  constructor(
    private readonly shadow: ShadowStore,
    private readonly registry: EntityRegistry,
  ) {
    this.components = shadow.components;
    this.scanner = new RawScanner(shadow.sources);
    this.references = this.components.map((c) => c.fields.some((f) => f.kind === FieldKind.entity));
    this.marked = this.components.map((c, i) => c.changes === 'marked' && !this.references[i]);
    this.marks = new ChangeMarks(this.marked);
  }

  /** Which raw scan detects component `c`: marks, or the kernel of the raw scanner (raw-scanner.ts). */
  kernelOf(c: number): 'marks' | 'wasm-simd' | 'js' | 'arrays' {
    return this.marked[c] ? 'marks' : this.scanner.kernelOf(c);
  }

  /**
   * Detects component `c` over every replicated entity: returns how many entities it compared (`eids[0..n)`),
   * their changed fields in `masks` (updating the shadow). Components without fields detect nothing.
   */
  detect(c: number): number {
    if (this.components[c].fields.length === 0) return 0;
    const reg = this.registry;
    if (this.eids.length < reg.capacity) {
      this.eids = new Int32Array(reg.capacity);
      this.masks = new Uint32Array(reg.capacity);
    }
    const n = this.marked[c]
      ? this.marks.take(c, reg.has[c], this.eids)
      : this.scanner.scanIds(c, reg.capacity, reg.has[c], this.references[c], this.eids);
    if (n === 0) return 0;
    this.shadow.detectMany(c, this.eids, n, this.masks);
    this.counters.scanned += n;
    return n;
  }
}
