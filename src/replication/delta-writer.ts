/**
 * Packing pending field changes into one Delta that fits the packet budget.
 * Entities go in the delivery state's FIFO order until the budget is full (what does not fit keeps its place
 * at the front), then are written in ascending network id so ids cost a small gap each (a varuint each in a Delta
 * or CoarseDelta; in a BaselineDelta, for clients granted `ackedbase2`, the first id is a varuint and each later
 * gap an Exp-Golomb code, positive-code.ts, and the header ends with the reference age of its residuals).
 */
import { grown } from '../codec/grow-array.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import { Tag } from '../protocol/tags.ts';
import type { RegisteredComponent } from '../register.ts';
import type { DeliveryState } from './delivery-state.ts';
import { entityBlockBits, varUintBits, writeEntityBlock } from './entity-block.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { ShadowStore } from './shadow-store.ts';
import { REF_AGE_BITS, type ServerBaselineCoder } from './baseline-block.ts';
import { positiveBits, writePositive } from './positive-code.ts';
import { beginMessage } from './wire-bodies.ts';
import type { PackScratch } from './delta-scratch.ts';

/** Entities that did not fit before packing gives up on the rest of the dirty list this tick. */
const MAX_PACK_MISSES = 8;

/** What the packer needs to know about this send. */
export interface DeltaHeader {
  tick: number;
  dependsOn: number;
  budgetBytes: number;
  /**
   * True for a Delta sent on the reliable lane: it carries only reliable-only components (those with a short
   * string), always at least one entity however large, and clears what it takes instead of recording it for
   * resend (the lane delivers it). False or absent: the unreliable Delta, which never carries those components.
   */
  reliable?: boolean;
  /** This client's fidelity levels (fidelity.ts): some entities wait for their turn, some go out coarse. */
  fidelity?: FidelityPlan | null;
  /** The client's acked baselines (server-to-viewer unreliable Delta under `ackedbase`, no fidelity plan), else absent. */
  baselines?: ServerBaselineCoder;
}

/**
 * Per-entity fidelity of one client's send, prepared by fidelity.ts for the entities waiting in its delivery
 * state. When any entity written has a shift, the message is a CoarseDelta: each entity's id gap is followed by
 * its level code (1 bit 0 = full precision; 1 then 2 bits shift - 1).
 */
export interface FidelityPlan {
  /** hold[eid] !== 0: not this tick (its level's interval has not come round). */
  readonly hold: Uint8Array;
  /** shift[eid]: the low bits its coarse fields drop (0 = full precision, at most MAX_LEVEL_SHIFT). */
  readonly shift: Uint8Array;
  /** Told of each entity written, with the field masks it carried (`masks[c]`) and its shift. */
  written(eid: number, shift: number, masks: Uint32Array): void;
}

/**
 * Bits of an entity's id in the selection (FIFO) order: exact while the selected ids ascend, else an upper bound
 * of what it takes once the selection is sorted. A Delta's varuint gap is at most the id's varuint. A
 * BaselineDelta's Exp-Golomb gap after a smaller selected id `last` is at most `netId - last` (sorting only puts
 * ids between them); otherwise the id may end up first (a varuint) or anywhere (a gap of at most itself).
 */
function idBits(expGolomb: boolean, count: number, netId: number, last: number): number {
  if (!expGolomb) return varUintBits(netId);
  if (count > 0 && netId > last) return positiveBits(netId - last);
  return Math.max(varUintBits(netId), positiveBits(netId));
}

/** Largest level shift a CoarseDelta can say (2 bits of shift - 1): a step 16 times the field's own. */
export const MAX_LEVEL_SHIFT = 4;

function loadMasks(
  s: PackScratch,
  comps: readonly RegisteredComponent[],
  d: DeliveryState,
  reliable: boolean,
  eid: number,
): boolean {
  let any = false;
  for (let c = 0; c < comps.length; c++) {
    const m = comps[c].reliable === reliable ? d.pending[c][eid] : 0;
    s.masks[c] = m;
    s.present[c] = m !== 0 ? 1 : 0;
    if (m !== 0) any = true;
  }
  return any;
}

/**
 * Writes a Delta with as many pending entities as fit `budgetBytes`, taking their fields from the delivery
 * state (to be committed under the packet's sequence). Returns the framed message, or null if nothing is pending.
 */
export function writeDelta(
  w: BitWriter,
  s: PackScratch,
  comps: readonly RegisteredComponent[],
  shadow: ShadowStore,
  reg: EntityRegistry,
  d: DeliveryState,
  h: DeltaHeader,
): Uint8Array | null {
  if (d.dirtyCount === 0) return null;
  const n = comps.length;
  const reliable = h.reliable === true;
  // Residuals only without a fidelity plan (then every message is a CoarseDelta, whose values no baseline records).
  const coder = reliable || (h.fidelity ?? null) !== null ? undefined : h.baselines;
  if (coder !== undefined) coder.begin(h.tick);
  d.sendTick = h.tick;
  // The generated writer covers the unreliable Delta of protocols without reliable-only components, without level
  // codes (fidelity); with a coder its residual-capable components go through the coder (planned once per entity
  // on its selection slot while sizing, written from that plan).
  const k = reliable || (h.fidelity ?? null) !== null ? null : s.kernel;
  // 1. select: FIFO order, exact sizes, until the budget is spent
  const headerBits = 16 + varUintBits(h.tick) + 16 + 24 + (coder !== undefined ? REF_AGE_BITS : 0);
  const budgetBits = h.budgetBytes * 8 - headerBits;
  let used = 0;
  let count = 0;
  let misses = 0;
  // Detection gives entities in ascending order and ids grow with entities, so the selection is often sorted
  // already: then no sort.
  let ascending = true;
  let lastNetId = -1;
  const plan = reliable ? null : (h.fidelity ?? null);
  // With a plan every message is a CoarseDelta (a level code per entity, no residuals), even when no entity in it
  // is coarse: the client then never reads acked-baseline mode bits the server did not write.
  let coarse = plan !== null;
  for (let i = 0; i < d.dirtyCount; i++) {
    const eid = d.dirty[i];
    if (plan !== null && plan.hold[eid] !== 0) continue;
    if (k !== null ? !k.load(d.pending, eid, s.masks) : !loadMasks(s, comps, d, reliable, eid)) continue;
    const netId = reg.netIdOf[eid];
    const shift = plan === null ? 0 : plan.shift[eid];
    // With a plan each entity may carry a level code: counted as if the message were coarse.
    const code = plan === null ? 0 : shift > 0 ? 3 : 1;
    const block =
      k === null
        ? entityBlockBits(comps, s.masks, shadow, eid, shift, coder, count)
        : coder === undefined
          ? k.bits(s.masks, shadow.wire, eid)
          : k.bitsCoded(s.masks, shadow.wire, eid, coder, count);
    const bits = idBits(coder !== undefined, count, netId, lastNetId) + code + block;
    // A reliable Delta takes its first entity whatever its size, so one larger than the budget still goes.
    if (used + bits > budgetBits && !(reliable && count === 0)) {
      if (++misses > MAX_PACK_MISSES) break;
      continue;
    }
    used += bits;
    if (count === s.selected.length) {
      s.selected = grown(s.selected, count * 2);
      s.selectedEids = grown(s.selectedEids, count * 2);
    }
    // Sort key: network id, then the slot of its entity (a packet holds far fewer than 2^16 entities).
    s.selected[count] = netId * 65536 + count;
    s.selectedEids[count] = eid;
    count++;
    if (shift > 0) coarse = true;
    if (netId < lastNetId) ascending = false;
    lastNetId = netId;
  }
  if (count === 0) return null;
  // 2. order by network id so each id is a small gap (unless already in order)
  const keys = ascending ? s.selected.subarray(0, count) : s.selected.subarray(0, count).sort();
  // 3. header
  beginMessage(w, coarse ? Tag.CoarseDelta : coder !== undefined ? Tag.BaselineDelta : Tag.Delta);
  w.writeVarUint(h.tick);
  w.writeBits(h.dependsOn & 0xffff, 16);
  w.writeVarUint(count);
  if (coder !== undefined) w.writeBits(coder.refAge, REF_AGE_BITS);
  // 4. entities
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const key = keys[i];
    const netId = Math.floor(key / 65536);
    const slot = key % 65536;
    const eid = s.selectedEids[slot];
    if (coder !== undefined && i > 0) writePositive(w, netId - prev);
    else w.writeVarUint(netId - prev);
    prev = netId;
    if (k !== null) {
      k.load(d.pending, eid, s.masks);
      if (coder === undefined) k.write(w, s.masks, shadow.wire, eid);
      else k.writeCoded(w, s.masks, shadow.wire, eid, coder, slot);
    } else {
      loadMasks(s, comps, d, reliable, eid);
      const shift = plan === null ? 0 : plan.shift[eid];
      if (coarse) {
        if (shift === 0) w.writeBits(0, 1);
        else w.writeBits(4 + shift - 1, 3);
      }
      writeEntityBlock(w, comps, s.present, s.masks, shadow, eid, shift, coder, slot);
      plan?.written(eid, shift, s.masks);
    }
    for (let c = 0; c < n; c++) {
      if (s.masks[c] === 0) continue;
      if (reliable) d.pending[c][eid] &= ~s.masks[c];
      else d.take(eid, c, s.masks[c]);
    }
  }
  d.compactDirty();
  return w.finish();
}
