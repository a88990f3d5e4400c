/**
 * The residual plans of the packet a `ServerBaselineCoder` is writing, one per (selection slot, component), in
 * typed arrays grown as the selection grows: what `widen` and `bits` decided for a component of an entity (mode,
 * baselines, head, codes), kept for the write of the same slot. A plan belongs to a state generation (`epoch`);
 * any change of the coder's state starts a new one, and older plans are stale.
 */
import { capacityFor, grown } from '../codec/grow-array.ts';

/** Plans by selection slot and component. */
export class BaselinePlans {
  /** Components per slot. */
  readonly components: number;
  /** Most residual codes of any component: the stride of `planCodes` per plan. */
  readonly codeStride: number;
  /** State generation: a plan made in another generation is stale. */
  epoch = 1;
  /** Per plan (slot * components + c): the generation it was made in (0: none), its entity. */
  planEpoch = new Int32Array(0);
  planEid = new Int32Array(0);
  /** Per plan: the fields `widen` was asked for, and the fields planned (what it answered). */
  planIn = new Int32Array(0);
  planOut = new Int32Array(0);
  /** Per plan: bits of the component's values, the mode bit included. */
  planBits = new Int32Array(0);
  /** Per plan: the baseline's offset in the ring (-1: absolute), the prediction's second value (-1: none). */
  planAt = new Int32Array(0);
  planAt2 = new Int32Array(0);
  /** Per plan with a baseline: the ring slot this send goes to (the baseline's row, this tick's slot). */
  planSlot = new Int32Array(0);
  /** Per plan with a baseline: the head (mode bit, age code, reference bit, order selector) and its bits. */
  planHead = new Int32Array(0);
  planHeadBits = new Uint8Array(0);
  /** Per plan: the order selector and the number of codes. */
  planOrder = new Uint8Array(0);
  planCount = new Uint8Array(0);
  /** Per plan: the residual codes, `codeStride` each. */
  planCodes = new Int32Array(0);

  constructor(components: number, codeStride: number) {
    this.components = Math.max(1, components);
    this.codeStride = codeStride;
    this.grow(64 * this.components);
  }

  /** Grows every array to hold `plans` plans. */
  grow(plans: number): void {
    this.planEpoch = grown(this.planEpoch, plans);
    this.planEid = grown(this.planEid, plans);
    this.planIn = grown(this.planIn, plans);
    this.planOut = grown(this.planOut, plans);
    this.planBits = grown(this.planBits, plans);
    this.planAt = grown(this.planAt, plans);
    this.planAt2 = grown(this.planAt2, plans);
    this.planSlot = grown(this.planSlot, plans);
    this.planHead = grown(this.planHead, plans);
    this.planHeadBits = grown(this.planHeadBits, plans);
    this.planOrder = grown(this.planOrder, plans);
    this.planCount = grown(this.planCount, plans);
    this.planCodes = grown(this.planCodes, plans * this.codeStride);
  }

  /** Every plan made so far goes stale. */
  changed(): void {
    this.epoch++;
    if (this.epoch > 0x3fffffff) {
      this.epoch = 1;
      this.planEpoch.fill(0);
    }
  }

  /** Index of the plan of component `c` on `slot`, the plan arrays grown to hold it. */
  index(c: number, slot: number): number {
    const i = slot * this.components + c;
    if (i >= this.planAt.length) this.grow(capacityFor(this.planAt.length, i));
    return i;
  }
}
