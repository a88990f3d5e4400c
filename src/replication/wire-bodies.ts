/**
 * Bit-packed bodies of the replication messages (after the u16 tag). Every body starts byte-aligned.
 *
 *   Spawn          varuint tick, varuint count, count x { varuint netId, varuint owner (0 = server), entity block }
 *   Snapshot       varuint snapshotId, varuint chunkIndex, varuint chunkCount, then a Spawn body
 *   Despawn        varuint count, count x { varuint netId, 1 bit reason (0 destroyed, 1 out of interest) }
 *   ComponentAdd   varuint tick, varuint netId, entity block (presence of the added component only)
 *   ComponentRemove varuint netId, varuint componentId
 *   OwnershipGrant varuint netId, varuint owner (0 = server), varuint authoritySeq
 *   Delta          varuint tick, 16 bits dependsOn (reliable id the receiver must have), varuint count,
 *                  count x { varuint netId gap (ascending order; first is the id itself), entity block }
 */
import { BitReader } from '../codec/bit-reader.ts';
import { BitWriter } from '../codec/bit-writer.ts';

/** Despawn reason: the entity no longer exists. */
export const DESPAWN_DESTROYED = 0;
/** Despawn reason: the entity still exists but left this client's interest. */
export const DESPAWN_OUT_OF_INTEREST = 1;

/** Starts a message in `w`: resets it and writes the u16 little-endian tag. */
export function beginMessage(w: BitWriter, tag: number): void {
  w.reset();
  w.writeBits(tag & 0xff, 8);
  w.writeBits(tag >>> 8, 8);
}

/** Positions `r` on the body of a framed message (after its tag). */
export function openBody(r: BitReader, msg: Uint8Array): void {
  r.reset(msg, 2);
}

export { BitReader, BitWriter };
