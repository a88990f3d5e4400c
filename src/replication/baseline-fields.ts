/**
 * One component's field values in a Delta entity block, coded against the client's acked baseline when that
 * pays: a mode bit, then either the absolute values (mode 0, written by the block writer as today) or the
 * baseline's age in ticks and the residual body (mode 1, see residual-codec.ts). The delta names its baseline
 * tick (Delta tick - age); a client that lacks that tick's value reads past the body and drops the component
 * (`BaselineRead.missing`), and the server's loss/resend path later sends it again.
 *
 * Mode 1 layout: age - 1 (`AGE_BITS` bits: ages 1 .. BASELINE_TICKS - 1), then the residual body.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import type { AckedBaselines } from './acked-baseline.ts';
import { BASELINE_TICKS, type BaselineRing } from './baseline-ring.ts';
import { readResiduals, residualBits, type ResidualLayout, writeResiduals } from './residual-codec.ts';
import type { SharedResidualPlans } from './shared-residual-plans.ts';

/** Bits of a baseline's age in a mode-1 component (ages 1 .. BASELINE_TICKS - 1). */
export const AGE_BITS = 5;

/** Reusable choice of how one component goes: filled by `planBaselineFields`, used by `writeBaselineFields`. */
export interface BaselinePlan {
  /** Offset of the baseline's values in the server's ring, or -1 for absolute. */
  at: number;
  /** Age of the baseline in ticks (mode 1). */
  age: number;
  /** Bits of the component's values in the chosen mode, the mode bit included. */
  bits: number;
  /** Scratch: [0] baseline tick / order selector. */
  readonly scratch: Int32Array;
  /** The chosen Exp-Golomb order selector (mode 1). */
  order: number;
}

/** A plan to reuse for every component. */
export function createBaselinePlan(): BaselinePlan {
  return { at: -1, age: 0, bits: 0, scratch: new Int32Array(1), order: 0 };
}

/**
 * Chooses between the absolute form (`absoluteBits`, the values as the block writes them today) and a residual
 * against the client's acked baseline for fields `mask` of `eid` at tick `now`; fills `plan` and returns the
 * bits it costs, the mode bit included. With `plans` (the server's shared memo, component `c`), the residual's
 * order comes from it when another client (or this one) planned the same values against the same baseline.
 */
export function planBaselineFields(
  plan: BaselinePlan,
  layout: ResidualLayout,
  baselines: AckedBaselines,
  eid: number,
  mask: number,
  values: ArrayLike<number>,
  vOff: number,
  now: number,
  absoluteBits: number,
  plans?: SharedResidualPlans,
  c = 0,
): number {
  plan.at = -1;
  plan.bits = 1 + absoluteBits;
  const at = baselines.baseline(eid, mask, now, plan.scratch);
  if (at < 0) return plan.bits;
  const age = now - plan.scratch[0];
  if (age < 1 || age >= BASELINE_TICKS) return plan.bits;
  const base = baselines.sent.values;
  const res =
    plans !== undefined
      ? plans.residualBits(c, eid, mask, values, vOff, base, at, plan.scratch)
      : residualBits(layout, mask, values, vOff, base, at, plan.scratch);
  if (res < 0 || 1 + AGE_BITS + res >= plan.bits) return plan.bits;
  plan.at = at;
  plan.age = age;
  plan.order = plan.scratch[0];
  plan.bits = 1 + AGE_BITS + res;
  return plan.bits;
}

/**
 * Writes the mode bit and, for a residual plan, the age and the residual body. Returns true when the caller
 * must still write the absolute values (mode 0).
 */
export function writeBaselineFields(
  w: BitWriter,
  plan: BaselinePlan,
  layout: ResidualLayout,
  baselines: AckedBaselines,
  mask: number,
  values: ArrayLike<number>,
  vOff: number,
): boolean {
  if (plan.at < 0) {
    w.writeBits(0, 1);
    return true;
  }
  w.writeBits(1, 1);
  w.writeBits(plan.age - 1, AGE_BITS);
  writeResiduals(w, layout, mask, values, vOff, baselines.sent.values, plan.at, plan.order);
  return false;
}

/** Outcome of reading one component's values against the client's history. */
export const BaselineRead = {
  /** Mode 0: the absolute values follow; the caller reads them. */
  absolute: 0,
  /** Mode 1, decoded into `out`. */
  decoded: 1,
  /** Mode 1 naming a tick the client has no value for (lost, evicted, or never held): read past, drop it. */
  missing: 2,
  /** Truncated or out of range: the whole message is malformed. */
  malformed: 3,
} as const;

/** One of the `BaselineRead` outcomes. */
export type BaselineReadResult = (typeof BaselineRead)[keyof typeof BaselineRead];

/**
 * Reads the mode bit and, for mode 1, the baseline age and residuals of fields `mask` of `eid` in a Delta of
 * `tick`, against `ring` (the client's received history), into `out[oOff + f]`. Never throws; a hostile age or
 * residual gives `missing` or `malformed`, never an out-of-range value in `out`.
 */
export function readBaselineFields(
  r: BitReader,
  layout: ResidualLayout,
  ring: BaselineRing,
  eid: number,
  mask: number,
  tick: number,
  out: Float64Array,
  oOff: number,
): BaselineReadResult {
  if (r.readBits(1) === 0) return r.ok ? BaselineRead.absolute : BaselineRead.malformed;
  const age = r.readBits(AGE_BITS) + 1;
  if (!r.ok) return BaselineRead.malformed;
  const at = age < BASELINE_TICKS ? ring.find(eid, tick - age, mask, tick) : -1;
  if (at < 0) {
    return readResiduals(r, layout, mask, null, 0, out, oOff) ? BaselineRead.missing : BaselineRead.malformed;
  }
  return readResiduals(r, layout, mask, ring.values, at, out, oOff) ? BaselineRead.decoded : BaselineRead.malformed;
}
