/**
 * The write gate: every value a client proposes for a replicated component passes here before it lands, whatever
 * path carried it (an owner Delta, the VR pose stream, an action handler's `write`, the pose of a released object).
 * Built in, a non-finite f32/f64 value is refused. Then the rules registered for the component run in order; each
 * sees the writer, the entity, the component's current and proposed values, and may accept, clamp (change
 * `proposed`), or refuse (return a reason). A refused write changes nothing; a refused or clamped one is counted
 * and its writer is sent the server's value back (the path decides how).
 *
 * Values are staged in slots, one per store array of the component (a quaternion field takes four), in natural
 * form: dequantized numbers, local entity ids for references, a short string's hash (its text, already validated
 * as UTF-8 within maxBytes, is in `check.text`: a rule may refuse on it; changing it or the slot changes nothing).
 * `check.slot.px` is the slot of array `px`.
 *
 * @example
 * addWriteRule(world, Transform, (w) => {
 *   if (w.proposed[w.slot.y] < 0) w.proposed[w.slot.y] = 0; // clamp: nothing below the floor
 *   if (Math.abs(w.proposed[w.slot.x]) > 50) return 'outside the room'; // refuse
 * });
 */
import { capacityFor, grown } from '../codec/grow-array.ts';
import { dequantize, quantize } from '../codec/quantize.ts';
import { packQuat, unpackQuat } from '../codec/quaternion.ts';
import { FieldKind } from '../protocol/field-schema.ts';
import type { RegisteredComponent } from '../register.ts';
import { columnString, type EntityMapper } from './compiled-field.ts';
import { shortStringHash } from '../codec/short-string.ts';

/** Which path a write came by. */
export type WritePath = 'delta' | 'poses' | 'action' | 'release';

/** One write under check. Rules read it, may change `proposed`, and return a reason to refuse it. */
export interface WriteCheck {
  /** Client id of the writer. */
  writer: number;
  /** Server entity id of the written entity. */
  eid: number;
  /** The registered component written. */
  component: RegisteredComponent;
  /** Which path the write came by: a Delta, pose input, an action or a release. */
  path: WritePath;
  /** Fields written: one bit per field of `component.fields` (a rule's change to another field is ignored). */
  mask: number;
  /** Time since this component of this entity last accepted a write, by any path (ms; Infinity for the first). */
  dtMs: number;
  /** The server's values now, one slot per store array. */
  readonly current: Float64Array;
  /** The values proposed (equal to `current` outside `mask`); what it holds after the rules is written. */
  readonly proposed: Float64Array;
  /** Slot of each store array, by name. */
  readonly slot: Readonly<Record<string, number>>;
  /** Short-string fields by array name: the proposed text (the current one outside `mask`); read it to refuse. */
  readonly text: Record<string, string>;
}

/** A rule: inspect `check`, clamp `check.proposed` in place, or return a reason to refuse the write. */
export type WriteRule = (check: WriteCheck) => string | undefined | void;

/** Outcome of a check. */
export const WriteVerdict = {
  /** The write is applied as proposed. */
  accepted: 0,
  /** The write is applied after a rule clamped it. */
  clamped: 1,
  /** The write is refused and the server's values stay. */
  refused: 2,
} as const;
/** An outcome of a check. */
export type WriteVerdictId = (typeof WriteVerdict)[keyof typeof WriteVerdict];

/** Counters of the gate, for stats. */
export interface WriteGateCounters {
  /** Writes checked (component by component). */
  checked: number;
  /** Writes a rule clamped (applied with changed values). */
  clamped: number;
  /** Writes refused (by a rule, or a non-finite float). */
  refused: number;
  /** Refused because a float field was NaN or infinite. */
  nonFinite: number;
  /** Owner corrections not queued because the client's queue was full (its OwnerHash check resyncs it). */
  droppedCorrections: number;
}

/** Reason given for a non-finite value. */
const NON_FINITE = 'non-finite float';

/** Relative change below which a clamp is rounding, not a correction (f32 keeps ~7 digits). */
const CLAMP_EPSILON = 1e-9;

interface ComponentGate {
  readonly comp: RegisteredComponent;
  readonly rules: WriteRule[];
  /** First slot of each field. */
  readonly fieldSlot: Uint16Array;
  /** Mask of the f32/f64 fields. */
  readonly floats: number;
  readonly check: WriteCheck;
  readonly before: Float64Array;
  lastWriteMs: Float64Array;
}

/** The server's write gate (one per replicator). */
export class WriteGate {
  readonly counters: WriteGateCounters = {
    checked: 0,
    clamped: 0,
    refused: 0,
    nonFinite: 0,
    droppedCorrections: 0,
  };
  /** Why the last refused check was refused. */
  reason = '';
  private readonly gates: ComponentGate[];

  constructor(components: readonly RegisteredComponent[]) {
    this.gates = components.map((comp) => {
      const slot: Record<string, number> = {};
      const fieldSlot = new Uint16Array(comp.fields.length);
      let n = 0;
      let floats = 0;
      comp.fields.forEach((f, i) => {
        fieldSlot[i] = n;
        if (f.kind === FieldKind.f32 || f.kind === FieldKind.f64) floats |= 1 << i;
        if (f.spec.kind === 'quat') for (const key of f.spec.keys) slot[key] = n++;
        else slot[f.name] = n++;
      });
      const check: WriteCheck = {
        writer: 0,
        eid: 0,
        component: comp,
        path: 'delta',
        mask: 0,
        dtMs: Infinity,
        current: new Float64Array(n),
        proposed: new Float64Array(n),
        slot,
        text: {},
      };
      return {
        comp,
        rules: [],
        fieldSlot,
        floats,
        check,
        before: new Float64Array(n),
        lastWriteMs: new Float64Array(0),
      };
    });
  }

  /** Adds a rule for component `c`; returns a function that removes it. */
  addRule(c: number, rule: WriteRule): () => void {
    const rules = this.gates[c].rules;
    rules.push(rule);
    return () => {
      const i = rules.indexOf(rule);
      if (i >= 0) rules.splice(i, 1);
    };
  }

  /** True when component `c` needs more than the built-in float check (it has rules). */
  hasRules(c: number): boolean {
    return this.gates[c].rules.length > 0;
  }

  /** True when a written f32/f64 field of component `c` in `values` (wire form, from `base`) is not finite. */
  hasNonFinite(c: number, mask: number, values: Float64Array, base: number): boolean {
    let m = mask & this.gates[c].floats;
    while (m !== 0) {
      const f = 31 - Math.clz32(m);
      m &= ~(1 << f);
      const v = values[base + f];
      if (v - v !== 0) return true;
    }
    return false;
  }

  /** Counts and records a write refused for a non-finite value, found before staging. */
  refuseNonFinite(): WriteVerdictId {
    this.counters.checked++;
    this.counters.refused++;
    this.counters.nonFinite++;
    this.reason = NON_FINITE;
    return WriteVerdict.refused;
  }

  /**
   * Stages a write of component `c` to `eid`: `current` from the component arrays, `proposed` a copy of it.
   * The caller sets `proposed` and `mask`, then calls `run`, then `commit` unless refused.
   */
  stage(path: WritePath, writer: number, eid: number, c: number, nowMs: number): WriteCheck {
    const g = this.gates[c];
    const check = g.check;
    check.path = path;
    check.writer = writer;
    check.eid = eid;
    check.mask = 0;
    const last = eid < g.lastWriteMs.length ? g.lastWriteMs[eid] : 0;
    check.dtMs = last > 0 ? nowMs - last : Infinity;
    const fields = g.comp.fields;
    for (let f = 0; f < fields.length; f++) {
      const fd = fields[f];
      const s = g.fieldSlot[f];
      if (fd.quat !== null) for (let k = 0; k < 4; k++) check.current[s + k] = fd.quat[k][eid];
      else if (fd.strings !== null) {
        const text = columnString(fd, eid);
        check.current[s] = shortStringHash(text);
        check.text[fd.name] = text;
      } else check.current[s] = fd.array[eid];
    }
    // Plain loops: TypedArray.set costs more than the copy for a handful of slots.
    const cur = check.current;
    const pro = check.proposed;
    for (let k = 0; k < cur.length; k++) pro[k] = cur[k];
    return check;
  }

  /**
   * Stages a write from wire values (`values` from `base`, fields in `mask`), as a Delta carries them: quantized
   * steps are dequantized, quaternions unpacked, references mapped to local entities.
   */
  stageWire(
    path: WritePath,
    writer: number,
    eid: number,
    c: number,
    mask: number,
    values: Float64Array,
    base: number,
    mapper: EntityMapper,
    nowMs: number,
    strings: readonly string[] | null = null,
  ): WriteCheck {
    const check = this.stage(path, writer, eid, c, nowMs);
    check.mask = mask;
    const g = this.gates[c];
    const fields = g.comp.fields;
    for (let f = 0; f < fields.length; f++) {
      if ((mask & (1 << f)) === 0) continue;
      const fd = fields[f];
      const s = g.fieldSlot[f];
      const wire = values[base + f];
      switch (fd.kind) {
        case FieldKind.quantized:
          check.proposed[s] = dequantize(wire, fd.min, fd.max, fd.precision);
          break;
        case FieldKind.quat:
          unpackQuat(wire, fd.quatBits, check.proposed, s);
          break;
        case FieldKind.entity:
          check.proposed[s] = wire > 0 ? mapper.toLocal(wire) : 0;
          break;
        case FieldKind.shortString:
          check.proposed[s] = wire;
          if (strings !== null) check.text[fd.name] = strings[base + f];
          break;
        default:
          check.proposed[s] = wire;
      }
    }
    return check;
  }

  /** Runs the built-in float check and the component's rules on the staged `check`. */
  run(check: WriteCheck): WriteVerdictId {
    const g = this.gates[check.component.id];
    this.counters.checked++;
    const before = g.before;
    const proposed = check.proposed;
    for (let k = 0; k < proposed.length; k++) before[k] = proposed[k];
    for (let i = 0; i < g.rules.length; i++) {
      const reason = g.rules[i](check);
      if (typeof reason === 'string') return this.refuse(reason);
    }
    // A rule may not smuggle in a non-finite value either.
    const fields = g.comp.fields;
    let clamped = false;
    for (let f = 0; f < fields.length; f++) {
      if ((check.mask & (1 << f)) === 0) continue;
      const s = g.fieldSlot[f];
      const end = s + (fields[f].quat !== null ? 4 : 1);
      for (let k = s; k < end; k++) {
        const v = check.proposed[k];
        if (v - v !== 0) {
          this.counters.nonFinite++;
          return this.refuse(NON_FINITE);
        }
        if (v !== before[k] && !(Math.abs(v - before[k]) <= CLAMP_EPSILON * Math.max(1, Math.abs(v)))) clamped = true;
      }
    }
    if (clamped) this.counters.clamped++;
    return clamped ? WriteVerdict.clamped : WriteVerdict.accepted;
  }

  /** Notes that `check` was accepted now (for the next check's `dtMs`). */
  accepted(check: WriteCheck, nowMs: number): void {
    const g = this.gates[check.component.id];
    if (check.eid >= g.lastWriteMs.length) g.lastWriteMs = grown(g.lastWriteMs, capacityFor(64, check.eid));
    g.lastWriteMs[check.eid] = nowMs > 0 ? nowMs : Number.MIN_VALUE;
  }

  /** Writes the masked fields of `check.proposed` into the component arrays. */
  commit(check: WriteCheck, nowMs: number): void {
    const g = this.gates[check.component.id];
    const fields = g.comp.fields;
    const eid = check.eid;
    for (let f = 0; f < fields.length; f++) {
      if ((check.mask & (1 << f)) === 0) continue;
      const fd = fields[f];
      const s = g.fieldSlot[f];
      if (fd.quat !== null) for (let k = 0; k < 4; k++) fd.quat[k][eid] = check.proposed[s + k];
      else if (fd.strings === null) fd.array[eid] = check.proposed[s];
    }
    this.accepted(check, nowMs);
  }

  /** Writes the masked fields of `check.proposed` back into wire values (after a clamp), for the Delta path. */
  toWire(check: WriteCheck, values: Float64Array, base: number, mapper: EntityMapper): void {
    const g = this.gates[check.component.id];
    const fields = g.comp.fields;
    const p = check.proposed;
    for (let f = 0; f < fields.length; f++) {
      if ((check.mask & (1 << f)) === 0) continue;
      const fd = fields[f];
      const s = g.fieldSlot[f];
      switch (fd.kind) {
        case FieldKind.quantized:
          values[base + f] = quantize(p[s], fd.min, fd.max, fd.precision);
          break;
        case FieldKind.quat:
          values[base + f] = packQuat(p[s], p[s + 1], p[s + 2], p[s + 3], fd.quatBits);
          break;
        case FieldKind.entity:
          values[base + f] = p[s] > 0 ? mapper.toNet(p[s]) : 0;
          break;
        case FieldKind.f32:
          values[base + f] = Math.fround(p[s]);
          break;
        default:
          values[base + f] = p[s];
      }
    }
  }

  private refuse(reason: string): WriteVerdictId {
    this.counters.refused++;
    this.reason = reason;
    return WriteVerdict.refused;
  }
}
