/**
 * The hooks the entity-block writer (here) and reader (client-baseline-decoder.ts) call for server-to-viewer
 * BaselineDeltas, coded against the
 * client's acked baselines (capability `ackedbase2`). Only components whose fields are all quantized numbers or
 * quaternions (`residualLayout`) take part; in a BaselineDelta block each such present component's values open
 * with the mode bit of baseline-fields.ts. The server names only ticks the client acked, and the client records
 * every component value it decodes, so it holds each baseline the server names; it never clears its history
 * (only an entity it destroys), while the server forgets an entity's baselines whenever its delivery state
 * does (despawn, interest, partial or full snapshot), after which the entity goes absolute.
 */
import type { BitWriter } from '../codec/bit-writer.ts';
import type { RegisteredComponent } from '../register.ts';
import { AckedBaselines } from './acked-baseline.ts';
import { BaselinePlans } from './baseline-plans.ts';
import { predictWire, Reference } from './baseline-reference.ts';
import { BASELINE_TICKS } from './baseline-ring.ts';
import type { DeliveryListener } from './delivery-state.ts';
import { positiveBits } from './positive-code.ts';
import { RESIDUAL_ORDER_BITS, residualLayout, type ResidualLayout } from './residual-codec.ts';
import {
  maxResidualCodes,
  planBits,
  planCount,
  planResidual,
  planSelector,
  writeResidualCodes,
} from './residual-plan.ts';

/** Most fields a residual-coded component has (its field mask is 32 bits). */
const MAX_FIELDS = 32;

/**
 * The capability a client offers and a server grants for deltas against acked baselines (BaselineDelta, version 2
 * of the scheme: predicted references, ages relative to the Delta's reference age, Exp-Golomb id gaps). A peer
 * that offers only the first version's `ackedbase` is not granted it and gets absolute Deltas.
 */
export const ACKED_BASELINE_CAPABILITY = 'ackedbase2';

/** Bits of a BaselineDelta's reference age in its header (0 .. BASELINE_TICKS - 1). */
export const REF_AGE_BITS = 5;

/** Most entities per component whose sent-value history the server keeps per client (past it: absolute). */
export const MAX_BASELINE_ENTITIES = 16384;

/** A server-side coder for a peer that was granted `ackedbase`, else undefined. */
export function serverBaselinesFor(
  capabilities: readonly string[],
  comps: readonly RegisteredComponent[],
): ServerBaselineCoder | undefined {
  return capabilities.includes(ACKED_BASELINE_CAPABILITY) ? new ServerBaselineCoder(comps) : undefined;
}

/** Bits of the fields of `mask` of a residual-capable component written absolute. */
function absoluteBits(comp: RegisteredComponent, mask: number): number {
  let bits = 0;
  for (let f = 0; f < comp.fields.length; f++) if ((mask & (1 << f)) !== 0) bits += comp.fields[f].bits;
  return bits;
}

/** Mode bit, then the order selector: the fixed bits of a mode-1 head (the age code and reference bit vary). */
const FIXED_HEAD_BITS = 1 + RESIDUAL_ORDER_BITS;

/**
 * Server side, one per client: plans, writes and records each residual-capable component of a BaselineDelta. The
 * packer sizes an entity with `widen` and `bits` (its plan goes to `slot`, the entity's place in the packet's
 * selection), then writes it with `widen` and `write` on the same slot: the residual of each (entity, component)
 * is computed once per packet (against the baseline and, where one is held, the prediction), and written from
 * the plan (mode, baselines, head, codes) in preallocated typed arrays. A plan holds until the coder's state
 * changes (the next `begin`, an ack, a forget, a reset, or the write that consumes it).
 */
export class ServerBaselineCoder implements DeliveryListener {
  private readonly layouts: (ResidualLayout | null)[];
  private readonly baselines: (AckedBaselines | null)[];
  private readonly comps: readonly RegisteredComponent[];
  private readonly tickOut = new Int32Array(1);
  /** Absolute bits of each component with every field. */
  private readonly fullBits: Int32Array;
  /** Most residual codes of any component (the stride of `planCodes` per plan). */
  private readonly codeStride: number;
  /** Scratch of a predicted reference and its codes, before it is chosen. */
  private readonly predRef = new Uint32Array(MAX_FIELDS);
  private readonly predCodes: Int32Array;
  /** The plans of the packet being written, by selection slot and component (baseline-plans.ts). */
  private readonly t: BaselinePlans;
  /** Tick of the Delta being written (set by `begin`). */
  private tickNow = 0;
  /** Reference age of the Delta being written (set by `begin`). */
  private refAgeNow = 0;
  /** Newest tick of any value the client acked, -1 for none: the Delta's reference age is measured from it. */
  private newestAcked = -1;
  /** Components written as residuals, and absolute (with a mode bit), since creation. */
  residuals = 0;
  absolutes = 0;
  /** Of the residuals: those against a predicted reference (baseline-reference.ts). */
  predicted = 0;
  /**
   * Until it says true, acks are not taken as baselines (see `armWhen`); then `armTick` is the first tick whose
   * sends may become baselines. null: armed at the next `begin`.
   */
  private armTest: (() => boolean) | null = null;
  private armTick = 0;

  /** A coder for the components of one protocol, keeping history for at most `maxEntities` per component. */
  constructor(comps: readonly RegisteredComponent[], maxEntities = MAX_BASELINE_ENTITIES) {
    this.comps = comps;
    this.layouts = comps.map((c) => residualLayout(c));
    this.baselines = comps.map((c, i) =>
      this.layouts[i] === null ? null : new AckedBaselines(c.fields.length, maxEntities),
    );
    this.fullBits = Int32Array.from(comps, (c) => absoluteBits(c, c.allFieldsMask));
    this.codeStride = Math.max(1, ...this.layouts.map((l) => (l === null ? 0 : maxResidualCodes(l))));
    this.predCodes = new Int32Array(this.codeStride);
    this.t = new BaselinePlans(comps.length, this.codeStride);
  }

  /** True when component `c` carries a mode bit. */
  codes(c: number): boolean {
    return this.layouts[c] !== null;
  }

  /**
   * Takes no ack as a baseline until `test()` is true at the opening of a Delta; from then on only sends of that
   * tick and later count. A client drops the Deltas of packets that reach it before its Welcome (its connection
   * acks them all the same): the server waits until the Welcome is acked in order (`test`), so every baseline it
   * names is in a packet the client read. null: armed at the next Delta (a resumed client asks for its catch-up
   * first, so it reads whatever comes after).
   */
  armWhen(test: (() => boolean) | null): void {
    if (this.armTick >= 0 && test === null) return;
    this.armTest = test;
    this.armTick = -1;
  }

  /**
   * Opens the BaselineDelta of `tick`: its reference age (the age of the newest value the client acked, which
   * most baselines of the Delta share) is fixed for every plan until the next call.
   */
  begin(tick: number): void {
    this.tickNow = tick;
    if (this.armTick < 0 && (this.armTest === null || this.armTest())) {
      this.armTick = tick;
      this.armTest = null;
    }
    this.t.changed();
    const age = this.newestAcked < 0 ? 0 : tick - this.newestAcked;
    this.refAgeNow = age < 0 ? 0 : Math.min(age, BASELINE_TICKS - 1);
  }

  /** Tick of the Delta `begin` opened. */
  get tick(): number {
    return this.tickNow;
  }

  /** The reference age of the Delta `begin` opened, for its header (`REF_AGE_BITS` bits). */
  get refAge(): number {
    return this.refAgeNow;
  }

  /**
   * The fields to send of component `c` of `eid` when `mask` changed: `mask`, or every field when `mask` would go
   * absolute and is not every field. A whole absolute value gives the client (and this coder's record) a whole
   * baseline, so the next sends are residuals; a partial one would leave the fields outside it unknown at that
   * tick, and every later send with more fields would go absolute again. The answer's plan is kept on `slot`.
   */
  widen(c: number, eid: number, mask: number, wires: readonly Float64Array[], slot = 0): number {
    const all = this.comps[c].allFieldsMask;
    if (mask === all) return mask;
    const i = this.t.index(c, slot);
    if (this.t.planEpoch[i] === this.t.epoch && this.t.planEid[i] === eid && this.t.planIn[i] === (mask | 0)) {
      // Asked before: widened then, or planned as a residual (a plan `bits` made absolute still widens).
      if (this.t.planOut[i] !== (mask | 0)) return all;
      if (this.t.planAt[i] >= 0) return mask;
    } else {
      this.plan(c, eid, mask, wires, i);
      if (this.t.planAt[i] >= 0) return mask;
    }
    this.plan(c, eid, all, wires, i);
    this.t.planIn[i] = mask;
    return all;
  }

  /**
   * Bits of component `c`'s values of `eid` (fields `mask`), mode bit included, in the cheaper mode; the choice
   * is kept as the plan of `slot` (the entity's place in the packet being selected) for `write`.
   */
  bits(c: number, eid: number, mask: number, wires: readonly Float64Array[], slot = 0): number {
    const i = this.t.index(c, slot);
    if (this.t.planEpoch[i] === this.t.epoch && this.t.planEid[i] === eid && this.t.planOut[i] === (mask | 0)) {
      return this.t.planBits[i];
    }
    return this.plan(c, eid, mask, wires, i);
  }

  /**
   * Plans component `c` of `eid` (fields `mask`) into plan `i`: absolute, or a residual against the acked
   * baseline or the prediction from it and the acked value one age before it (baseline-fields.ts's
   * `planBaselineFields`, bit for bit). Returns the bits, the mode bit included.
   */
  private plan(c: number, eid: number, mask: number, wires: readonly Float64Array[], i: number): number {
    const comp = this.comps[c];
    const abs = 1 + (mask === comp.allFieldsMask ? this.fullBits[c] : absoluteBits(comp, mask));
    this.t.planEpoch[i] = this.t.epoch;
    this.t.planEid[i] = eid;
    this.t.planIn[i] = mask;
    this.t.planOut[i] = mask;
    this.t.planAt[i] = -1;
    this.t.planBits[i] = abs;
    const b = this.baselines[c]!;
    const now = this.tickNow;
    const at = b.baseline(eid, mask, now, this.tickOut);
    if (at < 0) return abs;
    const age = now - this.tickOut[0];
    const refAge = this.refAgeNow;
    if (age < 1 || age >= BASELINE_TICKS || age < refAge) return abs;
    const gap = age - refAge + 1;
    const predictable = 2 * age < BASELINE_TICKS;
    const gapBits = positiveBits(gap);
    const headBits = FIXED_HEAD_BITS + gapBits + (predictable ? 1 : 0);
    // Every code takes at least one bit: a head this long already loses to the absolute form.
    if (headBits >= abs) return abs;
    const layout = this.layouts[c]!;
    const sent = b.sent.values;
    const cOff = i * this.codeStride;
    let plan = planResidual(layout, mask, wires, eid, sent, at, this.t.planCodes, cOff);
    let at2 = -1;
    if (predictable) {
      const second = b.second(eid, now - 2 * age, mask, now);
      if (second >= 0) {
        predictWire(layout, mask, sent, at, second, this.predRef);
        const pred = planResidual(layout, mask, wires, eid, this.predRef, 0, this.predCodes, 0);
        if (pred >= 0 && (plan < 0 || planBits(pred) < planBits(plan))) {
          plan = pred;
          at2 = second;
          const codes = this.t.planCodes;
          const from = this.predCodes;
          for (let k = planCount(pred) - 1; k >= 0; k--) codes[cOff + k] = from[k];
        }
      }
    }
    if (plan < 0) return abs;
    const bits = headBits + planBits(plan);
    if (bits >= abs) return abs;
    const order = planSelector(plan);
    // Mode 1, the age code (`gap` in `gapBits` bits: its zeros, then its significant bits), the reference bit.
    let head = (1 << gapBits) | gap;
    if (predictable) head = (head << 1) | (at2 < 0 ? Reference.last : Reference.predicted);
    this.t.planAt[i] = at;
    this.t.planAt2[i] = at2;
    this.t.planSlot[i] = b.sent.slotBeside(at, this.tickOut[0], now);
    this.t.planHead[i] = (head << RESIDUAL_ORDER_BITS) | order;
    this.t.planHeadBits[i] = headBits;
    this.t.planOrder[i] = order;
    this.t.planCount[i] = planCount(plan);
    this.t.planBits[i] = bits;
    return bits;
  }

  /**
   * Writes the mode bit (and a residual) of component `c` of `eid` as `bits` planned it on `slot` (planning it
   * now when that plan is stale or for other fields), and records what the client gets at this tick. Returns
   * true when the caller must write the absolute values.
   */
  write(w: BitWriter, c: number, eid: number, mask: number, wires: readonly Float64Array[], slot = 0): boolean {
    const i = this.t.index(c, slot);
    if (!(this.t.planEpoch[i] === this.t.epoch && this.t.planEid[i] === eid && this.t.planOut[i] === (mask | 0))) {
      this.plan(c, eid, mask, wires, i);
    }
    // The write records this send: the plan is spent.
    this.t.planEpoch[i] = 0;
    const b = this.baselines[c]!;
    const at = this.t.planAt[i];
    if (at < 0) {
      w.writeBits(0, 1);
      this.absolutes++;
      b.recordSentFrom(eid, this.tick, mask, wires);
      return true;
    }
    const order = this.t.planOrder[i];
    const cOff = i * this.codeStride;
    writeResidualCodes(
      w,
      this.t.planHead[i],
      this.t.planHeadBits[i],
      this.t.planCodes,
      cOff,
      this.t.planCount[i],
      order,
    );
    this.residuals++;
    const at2 = this.t.planAt2[i];
    if (at2 >= 0) this.predicted++;
    b.recordSentAt(this.t.planSlot[i], eid, this.tick, mask, wires, at, at2);
    return false;
  }

  acked(eid: number, c: number, tick: number): void {
    const b = this.baselines[c];
    if (b === null || b === undefined || this.armTick < 0 || tick < this.armTick) return;
    b.ackedTick(eid, tick);
    this.t.changed();
    if (tick > this.newestAcked) this.newestAcked = tick;
  }

  forget(eid: number, c: number): void {
    this.t.changed();
    if (c >= 0) this.baselines[c]?.forget(eid);
    else for (const b of this.baselines) b?.forget(eid);
  }

  reset(): void {
    for (const b of this.baselines) b?.clear();
    this.newestAcked = -1;
    this.t.changed();
  }
}
