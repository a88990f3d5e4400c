/**
 * OwnerHash, the check of an owner's write stream: when everything a client owns is settled (acked, nothing
 * pending) it sends the hash of what it sent, with a gapless epoch; the server hashes what it applied for that
 * client's entities and compares. Both sides hash the same way (state-hash.ts `ownedEntityHash`).
 *
 * Body: varuint epoch, varuint tick, u32 component mask, varuint entity count, u32 hash.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import { Tag } from '../protocol/tags.ts';
import type { RegisteredComponent } from '../register.ts';
import { readWireValue } from './compiled-field.ts';
import type { DeliveryState } from './delivery-state.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { ShadowStore } from './shadow-store.ts';
import { ownedEntityHash } from './state-hash.ts';
import { beginMessage } from './wire-bodies.ts';

/** A decoded OwnerHash. */
export interface OwnerHashBody {
  epoch: number;
  tick: number;
  mask: number;
  count: number;
  hash: number;
}

/**
 * The client's OwnerHash message for its owned entities, or null when there is none or one is not settled.
 * `excluded[c]` marks components whose owner writes travel elsewhere (an extension's stream): not hashed.
 */
export function writeOwnerHash(
  w: BitWriter,
  body: { epoch: number; tick: number },
  clientId: number,
  comps: readonly RegisteredComponent[],
  reg: EntityRegistry,
  shadow: ShadowStore,
  delivery: DeliveryState,
  excluded: Uint8Array,
): Uint8Array | null {
  let mask = 0;
  for (let c = 0; c < comps.length && c < 32; c++) if (!excluded[c]) mask |= 1 << c;
  let count = 0;
  let sum = 0;
  for (let i = 0; i < reg.count; i++) {
    const eid = reg.list[i];
    if (reg.owner[eid] !== clientId) continue;
    if (!delivery.isSettled(eid)) return null;
    count++;
    sum = (sum + ownedEntityHash(comps, reg, eid, mask, (c, f) => shadow.wire[c][f][eid])) >>> 0;
  }
  if (count === 0) return null;
  beginMessage(w, Tag.OwnerHash);
  w.writeVarUint(body.epoch);
  w.writeVarUint(body.tick);
  w.writeU32(mask >>> 0);
  w.writeVarUint(count);
  w.writeU32(sum);
  return w.toBytes();
}

/** Reads an OwnerHash body (`r` opened on it); null when it is malformed. */
export function readOwnerHash(r: BitReader): OwnerHashBody | null {
  const epoch = r.readVarUint();
  const tick = r.readVarUint();
  const mask = r.readU32();
  const count = r.readVarUint();
  const hash = r.readU32();
  return r.ok ? { epoch, tick, mask, count, hash: hash >>> 0 } : null;
}

/**
 * The server's verdict on an OwnerHash from `clientId`: true when it matches what the server applied, false when
 * it differs, null when writes newer than the hash already landed (nothing to compare this time).
 */
export function matchesApplied(
  body: OwnerHashBody,
  clientId: number,
  comps: readonly RegisteredComponent[],
  reg: EntityRegistry,
  shadow: ShadowStore,
): boolean | null {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < reg.count; i++) {
    const eid = reg.list[i];
    if (reg.owner[eid] !== clientId) continue;
    for (let c = 0; c < comps.length; c++) for (const t of shadow.tick[c]) if (t[eid] > body.tick) return null;
    n++;
    sum =
      (sum + ownedEntityHash(comps, reg, eid, body.mask, (c, f) => readWireValue(comps[c].fields[f], eid, reg))) >>> 0;
  }
  return n === body.count && sum === body.hash;
}
