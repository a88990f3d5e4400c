/**
 * Residual plans shared by every client of a server: choosing a component's Exp-Golomb order against an acked
 * baseline (`residualBits`, four orders tried per field) is a pure function of the fields' mask, the values
 * sent and the baseline's values. Clients that were sent the same value of an entity at the tick they acked
 * (in steady state, most of the clients that see it) ask it the same question in the same tick, and each client
 * asks it twice (selection, then writing). This memo answers repeats: per component and entity a few entries of
 * (mask, values, baseline values) -> (bits, order), compared in full on every look-up, so a hit returns exactly
 * what `residualBits` would have. Memory is per server, not per client: `WAYS` entries per replicated entity
 * and residual-capable component, grown with the entity ids the server itself allocates (never with network
 * input).
 */
import { capacityFor, grown } from '../codec/grow-array.ts';
import type { RegisteredComponent } from '../register.ts';
import { residualBits, residualLayout, type ResidualLayout } from './residual-codec.ts';

/**
 * Entries per (component, entity): clients that acked different ticks (loss, late acks), and a baseline and a
 * prediction from it planned side by side, each keep theirs.
 */
const WAYS = 4;

/** The memo of one residual-capable component. */
class ComponentPlans {
  readonly fieldCount: number;
  /** Entries: `capacity * WAYS`, entry of (eid, way) at `eid * WAYS + way`. */
  capacity = 0;
  /** Field mask of each entry (EMPTY = unused). */
  masks = new Uint32Array(0);
  /** The values and baselines the answer is for: `(entry * fieldCount + f)`. */
  values = new Float64Array(0);
  bases = new Float64Array(0);
  /** The answer: `residualBits`' result and its order selector. */
  bits = new Int32Array(0);
  orders = new Uint8Array(0);
  /** The way to replace next, per entity. */
  next = new Uint8Array(0);

  constructor(fieldCount: number) {
    this.fieldCount = fieldCount;
  }

  ensure(eid: number): void {
    if (eid < this.capacity) return;
    const cap = capacityFor(Math.max(64, this.capacity), eid);
    const entries = cap * WAYS;
    this.masks = grown(this.masks, entries);
    this.values = grown(this.values, entries * this.fieldCount);
    this.bases = grown(this.bases, entries * this.fieldCount);
    this.bits = grown(this.bits, entries);
    this.orders = grown(this.orders, entries);
    this.next = grown(this.next, cap);
    this.capacity = cap;
  }
}

/** The per-server memo of residual plans, one table per residual-capable component. */
export class SharedResidualPlans {
  private readonly tables: (ComponentPlans | null)[];
  private readonly layouts: (ResidualLayout | null)[];
  /** Look-ups answered from the memo, and computed (then stored). */
  hits = 0;
  misses = 0;

  /** A memo for the components of one protocol. */
  constructor(comps: readonly RegisteredComponent[]) {
    this.layouts = comps.map((c) => residualLayout(c));
    this.tables = comps.map((c, i) => (this.layouts[i] === null ? null : new ComponentPlans(c.fields.length)));
  }

  /**
   * `residualBits(layout of c, mask, values, vOff, base, bOff, out)` for entity `eid` (the order selector in
   * `out[0]`), from the memo when the same fields, values and baseline were planned before.
   */
  residualBits(
    c: number,
    eid: number,
    mask: number,
    values: ArrayLike<number>,
    vOff: number,
    base: ArrayLike<number>,
    bOff: number,
    out: Int32Array,
  ): number {
    const t = this.tables[c]!;
    if (mask === 0) return residualBits(this.layouts[c]!, mask, values, vOff, base, bOff, out);
    if (eid >= t.capacity) t.ensure(eid);
    const n = t.fieldCount;
    const first = eid * WAYS;
    // 1. look up: every field of the mask must match, value and baseline
    for (let e = first; e < first + WAYS; e++) {
      if (t.masks[e] !== mask) continue;
      let same = true;
      const at = e * n;
      for (let f = 0; f < n && same; f++) {
        if ((mask & (1 << f)) === 0) continue;
        same = t.values[at + f] === values[vOff + f] && t.bases[at + f] === base[bOff + f];
      }
      if (!same) continue;
      this.hits++;
      if (t.bits[e] >= 0) out[0] = t.orders[e];
      return t.bits[e];
    }
    // 2. compute, and store over the entity's oldest entry
    this.misses++;
    const bits = residualBits(this.layouts[c]!, mask, values, vOff, base, bOff, out);
    const e = first + t.next[eid];
    t.next[eid] = (t.next[eid] + 1) % WAYS;
    t.masks[e] = mask;
    const at = e * n;
    for (let f = 0; f < n; f++) {
      if ((mask & (1 << f)) === 0) continue;
      t.values[at + f] = values[vOff + f];
      t.bases[at + f] = base[bOff + f];
    }
    t.bits[e] = bits;
    // (with -1, `residualBits` leaves out[0] as it was, and a hit does the same)
    t.orders[e] = bits < 0 ? 0 : out[0];
    return bits;
  }
}
