/**
 * The full state of one entity, as Spawn, Snapshot and ComponentAdd carry it:
 *   varuint netId, varuint owner (0 = server), entity block with every carried component and all its fields.
 */
import type { BitReader } from '../codec/bit-reader.ts';
import type { BitWriter } from '../codec/bit-writer.ts';
import type { RegisteredComponent } from '../register.ts';
import { readEntityBlock, writeEntityBlock } from './entity-block.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { PackScratch } from './delta-packer.ts';
import type { ShadowStore } from './shadow-store.ts';

/** Largest snapshot chunk: big enough to amortise headers, small enough not to stall other reliable traffic. */
export const SNAPSHOT_CHUNK_BYTES = 16 * 1024;

/** Writes `eid` in full (or only component `only` when >= 0). */
export function writeFullEntity(
  w: BitWriter,
  s: PackScratch,
  comps: readonly RegisteredComponent[],
  shadow: ShadowStore,
  reg: EntityRegistry,
  eid: number,
  only = -1,
): void {
  // 1. ids
  w.writeVarUint(reg.netIdOf[eid]);
  w.writeVarUint(reg.owner[eid]);
  // 2. block: every component the entity has, all fields
  for (let c = 0; c < comps.length; c++) {
    const carried = reg.has[c][eid] !== 0 && (only < 0 || only === c);
    s.present[c] = carried ? 1 : 0;
    s.masks[c] = carried ? comps[c].allFieldsMask : 0;
  }
  writeEntityBlock(w, comps, s.present, s.masks, shadow, eid);
}

/** Reads one full entity into the scratch (present, masks, values); returns its netId, or -1 when malformed. */
export function readFullEntity(r: BitReader, s: PackScratch, comps: readonly RegisteredComponent[]): number {
  // 1. ids
  const netId = r.readVarUint();
  s.owner = r.readVarUint();
  // 2. block
  if (!readEntityBlock(r, comps, s.offsets, s.present, s.masks, s.values, s.text) || netId === 0) return -1;
  for (let c = 0; c < comps.length; c++) {
    if (s.present[c] && comps[c].fields.length > 0 && s.masks[c] !== comps[c].allFieldsMask) return -1;
  }
  return netId;
}
