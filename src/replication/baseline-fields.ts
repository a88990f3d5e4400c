/**
 * One component's field values in a BaselineDelta entity block, coded against the client's acked baseline when
 * that pays: a mode bit, then either the absolute values (mode 0, written by the block writer as today) or the
 * baseline's age in ticks, the reference bit and the residual body (mode 1, see residual-codec.ts). The delta
 * names its baseline tick (Delta tick - age); a client that lacks that tick's value (or, for a predicted
 * reference, the value one age before it) reads past the body and drops the component (`BaselineRead.missing`),
 * and the server's loss/resend path later sends it again.
 *
 * Mode 1 layout: `age - refAge + 1` in the positive code of positive-code.ts (refAge: the Delta's reference age,
 * from its header, the age of the newest value the client acked, so no baseline is younger; the age must come out
 * in 1 .. BASELINE_TICKS - 1), then, only when `2 x age < BASELINE_TICKS`, the
 * reference bit (baseline-reference.ts: 0 = the baseline, 1 = the prediction from it and the value at
 * `Delta tick - 2 x age`), then the residual body against that reference.
 *
 * The server does not call `planBaselineFields` / `writeBaselineFields`: its coder (baseline-block.ts) plans once
 * per packet with residual-plan.ts and writes through the generated block writer. They are the reference encoder
 * of this layout, next to the decoder the client runs, and test/replication/block-kernel-residual.test.ts holds
 * the server's output to them bit for bit.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import { positiveBits, readPositive, writePositive } from './positive-code.ts';
import type { AckedBaselines } from './acked-baseline.ts';
import { BASELINE_TICKS, type BaselineRing } from './baseline-ring.ts';
import { Reference, referenceOf } from './baseline-reference.ts';
import { readResiduals, residualBits, type ResidualLayout, writeResiduals } from './residual-codec.ts';

/** Most fields a residual-coded component has (its field mask is 32 bits). */
const MAX_FIELDS = 32;

/** Reusable choice of how one component goes: filled by `planBaselineFields`, used by `writeBaselineFields`. */
export interface BaselinePlan {
  /** Offset of the baseline's values in the server's ring, or -1 for absolute. */
  at: number;
  /** Offset of the prediction's second value (mode 1, predicted reference), or -1 for the baseline itself. */
  at2: number;
  /** Age of the baseline in ticks (mode 1). */
  age: number;
  /** The Delta's reference age (set by the caller before planning; ages are coded relative to it). */
  refAge: number;
  /** Bits of the component's values in the chosen mode, the mode bit included. */
  bits: number;
  /** Scratch: [0] baseline tick / order selector. */
  readonly scratch: Int32Array;
  /** The predicted reference of the plan (when `at2` >= 0). */
  readonly ref: Float64Array;
  /** The chosen Exp-Golomb order selector (mode 1). */
  order: number;
}

/** A plan to reuse for every component. */
export function createBaselinePlan(): BaselinePlan {
  return {
    at: -1,
    at2: -1,
    age: 0,
    refAge: 0,
    bits: 0,
    scratch: new Int32Array(1),
    ref: new Float64Array(MAX_FIELDS),
    order: 0,
  };
}

/** Bits of a mode-1 header (age code and, where present, the reference bit) for `age` at reference age `refAge`. */
function headerBits(age: number, refAge: number): number {
  return positiveBits(age - refAge + 1) + (2 * age < BASELINE_TICKS ? 1 : 0);
}

/**
 * Chooses between the absolute form (`absoluteBits`, the values as the block writes them today) and a residual
 * against the client's acked baseline, or against the prediction from it and the acked value one age before it,
 * for fields `mask` of `eid` at tick `now`; fills `plan` and returns the bits it costs, the mode bit included.
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
): number {
  plan.at = -1;
  plan.at2 = -1;
  plan.bits = 1 + absoluteBits;
  const at = baselines.baseline(eid, mask, now, plan.scratch);
  if (at < 0) return plan.bits;
  const age = now - plan.scratch[0];
  if (age < 1 || age >= BASELINE_TICKS || age < plan.refAge) return plan.bits;
  const head = 1 + headerBits(age, plan.refAge);
  const sent = baselines.sent.values;
  let res = residualBits(layout, mask, values, vOff, sent, at, plan.scratch);
  let order = plan.scratch[0];
  let at2 = -1;
  if (2 * age < BASELINE_TICKS) {
    const second = baselines.second(eid, now - 2 * age, mask, now);
    if (second >= 0) {
      referenceOf(layout, mask, sent, at, second, plan.ref);
      const pred = residualBits(layout, mask, values, vOff, plan.ref, 0, plan.scratch);
      if (pred >= 0 && (res < 0 || pred < res)) {
        res = pred;
        order = plan.scratch[0];
        at2 = second;
      }
    }
  }
  if (res < 0 || head + res >= plan.bits) return plan.bits;
  plan.at = at;
  plan.at2 = at2;
  plan.age = age;
  plan.order = order;
  plan.bits = head + res;
  return plan.bits;
}

/**
 * Writes the mode bit and, for a residual plan, the age, the reference bit and the residual body. Returns true
 * when the caller must still write the absolute values (mode 0).
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
  writePositive(w, plan.age - plan.refAge + 1);
  if (2 * plan.age < BASELINE_TICKS) w.writeBits(plan.at2 < 0 ? Reference.last : Reference.predicted, 1);
  if (plan.at2 < 0) writeResiduals(w, layout, mask, values, vOff, baselines.sent.values, plan.at, plan.order);
  else writeResiduals(w, layout, mask, values, vOff, plan.ref, 0, plan.order);
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
 * Reads the mode bit and, for mode 1, the baseline age, reference bit and residuals of fields `mask` of `eid` in
 * a Delta of `tick`, against `ring` (the client's received history), into `out[oOff + f]`. `plan` is the reader's
 * scratch: `plan.refAge` is the Delta's reference age (input); on `decoded`, `plan.at` is the baseline's offset in
 * `ring.values` (for `BaselineRing.record`'s `baseAt`), else -1. Never throws; a hostile age or residual gives
 * `missing` or `malformed`, never an out-of-range value in `out`.
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
  plan: BaselinePlan,
): BaselineReadResult {
  plan.at = -1;
  plan.at2 = -1;
  if (r.readBits(1) === 0) return r.ok ? BaselineRead.absolute : BaselineRead.malformed;
  const age = plan.refAge + readPositive(r) - 1;
  if (!r.ok || !(age >= 1 && age < BASELINE_TICKS)) return fail(r);
  const predicted = 2 * age < BASELINE_TICKS && r.readBits(1) === Reference.predicted;
  if (!r.ok) return BaselineRead.malformed;
  const at = ring.find(eid, tick - age, mask, tick);
  const at2 = predicted ? ring.find(eid, tick - 2 * age, mask, tick) : -1;
  if (at < 0 || (predicted && at2 < 0)) {
    return readResiduals(r, layout, mask, null, 0, out, oOff) ? BaselineRead.missing : BaselineRead.malformed;
  }
  referenceOf(layout, mask, ring.values, at, at2, plan.ref);
  if (!readResiduals(r, layout, mask, plan.ref, 0, out, oOff)) return BaselineRead.malformed;
  plan.at = at;
  plan.at2 = at2;
  plan.age = age;
  return BaselineRead.decoded;
}

function fail(r: BitReader): BaselineReadResult {
  r.fail();
  return BaselineRead.malformed;
}
