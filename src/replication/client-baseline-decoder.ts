/**
 * The client's side of BaselineDeltas (capability `ackedbase2`, see baseline-block.ts): the history of values it
 * received per entity and component, and the reader of mode bits and residuals the entity-block reader calls.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { RegisteredComponent } from '../register.ts';
import { ACKED_BASELINE_CAPABILITY, MAX_BASELINE_ENTITIES } from './baseline-block.ts';
import {
  type BaselinePlan,
  type BaselineReadResult,
  createBaselinePlan,
  readBaselineFields,
} from './baseline-fields.ts';
import { BaselineRing } from './baseline-ring.ts';
import { residualLayout, type ResidualLayout } from './residual-codec.ts';

/**
 * Most entities per component whose received-value history a client keeps (32 ticks each, 896 B for a pose):
 * twice the server's, so a client holds every baseline the server can name; past it a residual comes back missing
 * (counted in `baselineRefused` and `baselineMissing`) and the state-hash resync repairs the entity (it forgets the
 * server's baseline for it).
 */
export const MAX_CLIENT_BASELINE_ENTITIES = 2 * MAX_BASELINE_ENTITIES;

/**
 * The client's decoder after a Welcome: `current` kept when `ackedbase` stays granted (a resumed session keeps
 * its history: the server keeps its baselines), a new one when newly granted, undefined when not granted.
 */
export function clientBaselinesFor(
  capabilities: readonly string[],
  comps: readonly RegisteredComponent[],
  current: ClientBaselineDecoder | undefined,
): ClientBaselineDecoder | undefined {
  if (!capabilities.includes(ACKED_BASELINE_CAPABILITY)) return undefined;
  return current ?? new ClientBaselineDecoder(comps);
}

/** Client side: the received-value history and the reader of mode bits and residuals. */
export class ClientBaselineDecoder {
  private readonly layouts: (ResidualLayout | null)[];
  private readonly rings: (BaselineRing | null)[];
  /** Read scratch: the reference age of the Delta being read, and the last read's baseline. */
  private readonly plan: BaselinePlan = createBaselinePlan();
  /** baseAt[c]: offset of the baseline the last read of component c decoded against (-1: none). */
  private readonly baseAt: Int32Array;
  /** Components dropped because their baseline tick was not held. */
  missing = 0;

  /** A decoder for the components of one protocol, keeping history for at most `maxEntities` per component. */
  constructor(comps: readonly RegisteredComponent[], maxEntities = MAX_CLIENT_BASELINE_ENTITIES) {
    this.layouts = comps.map((c) => residualLayout(c));
    this.rings = comps.map((c, i) =>
      this.layouts[i] === null ? null : new BaselineRing(c.fields.length, maxEntities),
    );
    this.baseAt = new Int32Array(comps.length).fill(-1);
  }

  /** Opens a BaselineDelta whose header gave reference age `refAge` (0 .. BASELINE_TICKS - 1). */
  begin(refAge: number): void {
    this.plan.refAge = refAge;
  }

  /** True when component `c` carries a mode bit. */
  codes(c: number): boolean {
    return this.layouts[c] !== null;
  }

  /** Entities refused a history row (every row taken), over all components. */
  get refused(): number {
    let n = 0;
    for (const r of this.rings) if (r !== null) n += r.refused;
    return n;
  }

  /**
   * Reads component `c`'s mode bit and residual for local entity `eid` (0 = unknown: nothing held) of a Delta
   * of `tick` into `out[base + f]`.
   */
  read(
    r: BitReader,
    c: number,
    eid: number,
    mask: number,
    tick: number,
    out: Float64Array,
    base: number,
  ): BaselineReadResult {
    const got = readBaselineFields(r, this.layouts[c]!, this.rings[c]!, eid, mask, tick, out, base, this.plan);
    this.baseAt[c] = this.plan.at;
    return got;
  }

  /**
   * Records what arrived for component `c` of `eid` at `tick` (values `values[base + f]` of fields `mask`), right
   * after reading it: fields outside `mask` come from the baseline it was decoded against, as on the server.
   */
  record(c: number, eid: number, tick: number, mask: number, values: Float64Array, base: number): void {
    this.rings[c]?.record(eid, tick, mask, values, base, this.baseAt[c]);
  }

  /** Drops the history of `eid` (despawned or left interest). */
  forget(eid: number): void {
    for (const r of this.rings) r?.forget(eid);
  }
}
