/** Reading Delta, CoarseDelta and BaselineDelta bodies back and applying their entity updates. */
import type { BitReader } from '../codec/bit-reader.ts';
import { Tag } from '../protocol/tags.ts';
import type { RegisteredComponent } from '../register.ts';
import { applyWireValue, type EntityMapper } from './compiled-field.ts';
import { readEntityBlock } from './entity-block.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { ShadowStore } from './shadow-store.ts';
import { REF_AGE_BITS } from './baseline-block.ts';
import type { ClientBaselineDecoder } from './client-baseline-decoder.ts';
import { readPositive } from './positive-code.ts';
import type { PackScratch } from './delta-scratch.ts';

/** Keeps what arrived for `eid` at `tick` as a baseline; counts components dropped for a missing baseline. */
function recordReceived(
  dec: ClientBaselineDecoder,
  comps: readonly RegisteredComponent[],
  s: PackScratch,
  eid: number,
  tick: number,
): void {
  for (let c = 0; c < comps.length; c++) {
    if (s.present[c] === 0 || !dec.codes(c)) continue;
    if (s.masks[c] === 0) dec.missing++;
    else dec.record(c, eid, tick, s.masks[c], s.values, s.offsets[c]);
  }
}

/** Header of a Delta body. */
export interface DeltaInfo {
  tick: number;
  dependsOn: number;
  count: number;
  /** A CoarseDelta: each entity carries a level code (set by `openDelta`; `readDeltaHeader` clears it). */
  coarse?: boolean;
  /**
   * A BaselineDelta: Exp-Golomb id gaps and residual-capable components with mode bits (set by `openDelta`;
   * `readDeltaHeader` clears it).
   */
  baseline?: boolean;
  /** A BaselineDelta's reference age (its residuals' ages are coded relative to it). */
  refAge?: number;
}

/**
 * Opens a framed Delta, CoarseDelta or BaselineDelta `msg` in `r` and reads its header into `out`; false when
 * malformed.
 */
export function openDelta(r: BitReader, msg: Uint8Array, out: DeltaInfo): boolean {
  r.reset(msg, 2);
  const tag = msg.length >= 2 ? msg[0] | (msg[1] << 8) : -1;
  const ok = readDeltaHeader(r, out, tag === Tag.BaselineDelta ? 2 : 9);
  out.coarse = tag === Tag.CoarseDelta;
  out.baseline = tag === Tag.BaselineDelta;
  out.refAge = out.baseline ? r.readBits(REF_AGE_BITS) : 0;
  return ok && r.ok;
}

/**
 * Reads a Delta header; returns false when malformed. `minEntityBits`: the fewest bits an entity can take (an id
 * and one presence bit: 9 with varuint ids, 2 with a BaselineDelta's Exp-Golomb gaps), to bound `count`.
 */
export function readDeltaHeader(r: BitReader, out: DeltaInfo, minEntityBits = 9): boolean {
  out.coarse = false;
  out.baseline = false;
  out.refAge = 0;
  out.tick = r.readVarUint();
  out.dependsOn = r.readBits(16);
  out.count = r.readVarUint();
  return r.ok && out.count * minEntityBits <= r.remainingBits;
}

/** Reads an entity's level code in a CoarseDelta: 0 (full precision) or a shift of 1..MAX_LEVEL_SHIFT. */
function readLevelShift(r: BitReader): number {
  return r.readBits(1) === 0 ? 0 : r.readBits(2) + 1;
}

/** How a receiver applies entity updates. */
export interface ApplyOptions {
  /** May the sender write this local entity? (server: is it the sender's; client: not owned locally). */
  canWrite(eid: number): boolean;
  /** Also store the applied wire value in the shadow (receivers that do not diff this entity themselves). */
  updateShadow: boolean;
  /** Server: the write gate's hook, asked before a component's fields are applied (see `WriteFilter`). */
  filter?: WriteFilter;
  /** Client under `ackedbase`: decodes residuals against, and records into, the received-value history. */
  baselines?: ClientBaselineDecoder;
}

/** Decides whether one component write of a Delta lands; may rewrite its wire values in place (a clamp). */
export interface WriteFilter {
  /**
   * `values[base + f]` holds field f's wire value (`strings[base + f]` a short string's text); `mask` the fields
   * that would be applied. False refuses.
   */
  admit(eid: number, c: number, mask: number, values: Float64Array, base: number, strings: readonly string[]): boolean;
}

/** Outcome of applying a Delta. */
export interface ApplyResult {
  ok: boolean;
  applied: number;
  forbidden: number;
  unknown: number;
}

/**
 * Reads `info.count` entity updates and applies them: a field is written only when the entity is known, the
 * sender may write it, it has the component, and the update is not older than what the field already holds.
 * The body is validated in full before anything is applied, so a malformed Delta changes nothing.
 */
export function applyEntityUpdates(
  r: BitReader,
  info: DeltaInfo,
  s: PackScratch,
  comps: readonly RegisteredComponent[],
  shadow: ShadowStore,
  reg: EntityRegistry,
  mapper: EntityMapper,
  opts: ApplyOptions,
  result: ApplyResult,
): void {
  result.applied = 0;
  result.forbidden = 0;
  result.unknown = 0;
  const start = r.bitPosition;
  const coarse = info.coarse === true;
  // Only a BaselineDelta carries residuals (mode bits); one to a receiver without the history is malformed.
  const baseline = info.baseline === true;
  const dec = baseline ? opts.baselines : undefined;
  if (baseline && dec === undefined) {
    result.ok = false;
    return;
  }
  dec?.begin(info.refAge ?? 0);
  // 1. validate the whole body
  let netId = 0;
  for (let i = 0; i < info.count; i++) {
    netId += baseline && i > 0 ? readPositive(r) : r.readVarUint();
    const shift = coarse ? readLevelShift(r) : 0;
    const local = dec !== undefined ? reg.toLocal(netId) : 0;
    if (!readEntityBlock(r, comps, s.offsets, s.present, s.masks, s.values, s.text, shift, dec, local, info.tick)) {
      result.ok = false;
      return;
    }
  }
  result.ok = r.ok;
  if (!result.ok) return;
  // 2. apply
  r.seekBits(start);
  netId = 0;
  for (let i = 0; i < info.count; i++) {
    netId += baseline && i > 0 ? readPositive(r) : r.readVarUint();
    const shift = coarse ? readLevelShift(r) : 0;
    const eid = reg.toLocal(netId);
    readEntityBlock(r, comps, s.offsets, s.present, s.masks, s.values, s.text, shift, dec, eid, info.tick);
    if (eid === 0) {
      result.unknown++;
      continue;
    }
    if (dec !== undefined) recordReceived(dec, comps, s, eid, info.tick);
    if (!opts.canWrite(eid)) {
      result.forbidden++;
      continue;
    }
    result.applied++;
    for (let c = 0; c < comps.length; c++) {
      const mask = s.masks[c];
      if (mask === 0 || reg.has[c][eid] === 0) continue;
      const fields = comps[c].fields;
      const ticks = shadow.tick[c];
      const wires = shadow.wire[c];
      const base = s.offsets[c];
      let fresh = 0;
      for (let f = 0; f < fields.length; f++)
        if ((mask & (1 << f)) !== 0 && info.tick >= ticks[f][eid]) fresh |= 1 << f;
      if (
        fresh === 0 ||
        (opts.filter !== undefined && !opts.filter.admit(eid, c, fresh, s.values, base, s.text.strings))
      )
        continue;
      for (let f = 0; f < fields.length; f++) {
        if ((fresh & (1 << f)) === 0) continue;
        ticks[f][eid] = info.tick;
        const wire = applyWireValue(fields[f], eid, s.values[base + f], mapper, s.quat, s.text.strings[base + f]);
        if (opts.updateShadow) wires[f][eid] = wire;
      }
    }
  }
}
