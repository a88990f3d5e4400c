/**
 * The hooks the entity-block writer and reader call for server-to-viewer BaselineDeltas, coded against the
 * client's acked baselines (capability `ackedbase2`). Only components whose fields are all quantized numbers or
 * quaternions (`residualLayout`) take part; in a BaselineDelta block each such present component's values open
 * with the mode bit of baseline-fields.ts. The server names only ticks the client acked, and the client records
 * every component value it decodes, so it holds each baseline the server names; it never clears its history
 * (only an entity it destroys), while the server forgets an entity's baselines whenever its delivery state
 * does (despawn, interest, partial or full snapshot), after which the entity goes absolute.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import type { RegisteredComponent } from '../register.ts';
import { AckedBaselines } from './acked-baseline.ts';
import {
  type BaselinePlan,
  type BaselineReadResult,
  createBaselinePlan,
  planBaselineFields,
  readBaselineFields,
  writeBaselineFields,
} from './baseline-fields.ts';
import { BASELINE_TICKS, BaselineRing } from './baseline-ring.ts';
import type { DeliveryListener } from './delivery-state.ts';
import { residualLayout, type ResidualLayout } from './residual-codec.ts';
import type { SharedResidualPlans } from './shared-residual-plans.ts';

/**
 * The capability a client offers and a server grants for deltas against acked baselines (BaselineDelta, version 2
 * of the scheme: predicted references, ages relative to the Delta's reference age, Exp-Golomb id gaps). A peer
 * that offers only the first version's `ackedbase` is not granted it and gets absolute Deltas.
 */
export const ACKED_BASELINE_CAPABILITY = 'ackedbase2';

/** Bits of a BaselineDelta's reference age in its header (0 .. BASELINE_TICKS - 1). */
export const REF_AGE_BITS = 5;

/** Most entities per component whose sent-value history the server keeps per client (past it: absolute). */
export const MAX_BASELINE_ENTITIES = 1024;

/**
 * Most entities per component whose received-value history a client keeps: twice the server's, so a client
 * holds every baseline the server can name; past it a residual comes back missing and the state-hash resync
 * repairs the entity (it forgets the server's baseline for it).
 */
export const MAX_CLIENT_BASELINE_ENTITIES = 2 * MAX_BASELINE_ENTITIES;

/** A server-side coder for a peer that was granted `ackedbase`, else undefined. */
export function serverBaselinesFor(
  capabilities: readonly string[],
  comps: readonly RegisteredComponent[],
  plans?: SharedResidualPlans,
): ServerBaselineCoder | undefined {
  return capabilities.includes(ACKED_BASELINE_CAPABILITY) ? new ServerBaselineCoder(comps, plans) : undefined;
}

/** Bits of the fields of `mask` of a residual-capable component written absolute. */
function absoluteBits(comp: RegisteredComponent, mask: number): number {
  let bits = 0;
  for (let f = 0; f < comp.fields.length; f++) if ((mask & (1 << f)) !== 0) bits += comp.fields[f].bits;
  return bits;
}

/** Server side, one per client: plans, writes and records each residual-capable component of a Delta. */
export class ServerBaselineCoder implements DeliveryListener {
  private readonly layouts: (ResidualLayout | null)[];
  private readonly baselines: (AckedBaselines | null)[];
  private readonly comps: readonly RegisteredComponent[];
  private readonly plan: BaselinePlan = createBaselinePlan();
  private readonly values: Float64Array;
  /** Tick of the Delta being written. */
  tick = 0;
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
  /** What `plan` holds: component, entity and mask of the last plan (-1: none valid, the state changed since). */
  private plannedC = -1;
  private plannedEid = -1;
  private plannedMask = -1;

  /** The server's residual plans shared by its clients (shared-residual-plans.ts), or undefined. */
  private readonly plans: SharedResidualPlans | undefined;

  /** A coder for the components of one protocol; `plans`: the memo it shares with the server's other clients. */
  constructor(comps: readonly RegisteredComponent[], plans?: SharedResidualPlans) {
    this.comps = comps;
    this.plans = plans;
    this.layouts = comps.map((c) => residualLayout(c));
    this.baselines = comps.map((c, i) =>
      this.layouts[i] === null ? null : new AckedBaselines(c.fields.length, MAX_BASELINE_ENTITIES),
    );
    this.values = new Float64Array(Math.max(1, ...comps.map((c) => c.fields.length)));
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
    this.tick = tick;
    if (this.armTick < 0 && (this.armTest === null || this.armTest())) {
      this.armTick = tick;
      this.armTest = null;
    }
    this.plannedC = -1;
    const age = this.newestAcked < 0 ? 0 : tick - this.newestAcked;
    this.plan.refAge = age < 0 ? 0 : Math.min(age, BASELINE_TICKS - 1);
  }

  /** The reference age of the Delta `begin` opened, for its header (`REF_AGE_BITS` bits). */
  get refAge(): number {
    return this.plan.refAge;
  }

  private gather(wires: readonly Float64Array[], mask: number, eid: number): void {
    for (let f = 0; f < wires.length; f++) if ((mask & (1 << f)) !== 0) this.values[f] = wires[f][eid];
  }

  /**
   * The fields to send of component `c` of `eid` when `mask` changed: `mask`, or every field when `mask` would go
   * absolute and is not every field. A whole absolute value gives the client (and this coder's record) a whole
   * baseline, so the next sends are residuals; a partial one would leave the fields outside it unknown at that
   * tick, and every later send with more fields would go absolute again.
   */
  widen(c: number, eid: number, mask: number, wires: readonly Float64Array[]): number {
    const all = this.comps[c].allFieldsMask;
    if (mask === all) return mask;
    this.bits(c, eid, mask, wires);
    return this.plan.at < 0 ? all : mask;
  }

  /** Bits of component `c`'s values of `eid` (fields `mask`), mode bit included, in the cheaper mode. */
  bits(c: number, eid: number, mask: number, wires: readonly Float64Array[]): number {
    // The same component planned again before anything changed (`widen`, then the size or the write): reuse it.
    if (c === this.plannedC && eid === this.plannedEid && mask === this.plannedMask) return this.plan.bits;
    const layout = this.layouts[c] as ResidualLayout;
    this.gather(wires, mask, eid);
    const abs = absoluteBits(this.comps[c], mask);
    this.plannedC = c;
    this.plannedEid = eid;
    this.plannedMask = mask;
    const b = this.baselines[c]!;
    return planBaselineFields(this.plan, layout, b, eid, mask, this.values, 0, this.tick, abs, this.plans, c);
  }

  /**
   * Writes the mode bit (and a residual) of component `c` of `eid` and records what the client gets at this
   * tick. Returns true when the caller must write the absolute values.
   */
  write(w: BitWriter, c: number, eid: number, mask: number, wires: readonly Float64Array[]): boolean {
    const layout = this.layouts[c] as ResidualLayout;
    const b = this.baselines[c]!;
    this.bits(c, eid, mask, wires);
    const absolute = writeBaselineFields(w, this.plan, layout, b, mask, this.values, 0);
    if (absolute) this.absolutes++;
    else this.residuals++;
    if (!absolute && this.plan.at2 >= 0) this.predicted++;
    b.recordSent(eid, this.tick, mask, this.values, 0, this.plan.at, this.plan.at2);
    this.plannedC = -1;
    return absolute;
  }

  acked(eid: number, c: number, tick: number): void {
    const b = this.baselines[c];
    if (b === null || b === undefined || this.armTick < 0 || tick < this.armTick) return;
    b.ackedTick(eid, tick);
    this.plannedC = -1;
    if (tick > this.newestAcked) this.newestAcked = tick;
  }

  forget(eid: number, c: number): void {
    this.plannedC = -1;
    if (c >= 0) this.baselines[c]?.forget(eid);
    else for (const b of this.baselines) b?.forget(eid);
  }

  reset(): void {
    for (const b of this.baselines) b?.clear();
    this.newestAcked = -1;
    this.plannedC = -1;
  }
}

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

  /** A decoder for the components of one protocol. */
  constructor(comps: readonly RegisteredComponent[]) {
    this.layouts = comps.map((c) => residualLayout(c));
    this.rings = comps.map((c, i) =>
      this.layouts[i] === null ? null : new BaselineRing(c.fields.length, MAX_CLIENT_BASELINE_ENTITIES),
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
