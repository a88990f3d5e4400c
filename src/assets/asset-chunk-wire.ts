/**
 * The AssetChunk codec (binary, on the reliable lane). Layout after the u16 tag:
 *   1. hash      32 bytes, the asset's SHA-256
 *   2. index     u32 little-endian, the chunk's position (0-based)
 *   3. flags     u8: bit 0 = deflated; other bits must be 0
 *   4. rawLength u32 little-endian, the chunk's length once inflated (= data length when not deflated)
 *   5. data      the rest of the message
 * The decoder checks every length before it reads and never inflates past `rawLength` (itself capped).
 */
import { deflateSync } from 'fflate';
import { inflateExactly } from '../codec/exact-inflate.ts';
import { writeMessageHeader, MESSAGE_HEADER_BYTES } from '../codec/message-frame.ts';
import { Tag } from '../protocol/tags.ts';

/** Bytes of a SHA-256 digest. */
export const ASSET_HASH_BYTES = 32;
/** Bytes of an AssetChunk before its data: tag, hash, index, flags, raw length. */
export const CHUNK_HEADER_BYTES = MESSAGE_HEADER_BYTES + ASSET_HASH_BYTES + 4 + 1 + 4;
/** Chunk flag: the data is deflated. */
export const CHUNK_DEFLATED = 1;
/** Deflate a chunk only when it saves at least this share: below it, inflating costs more than the bytes saved. */
const DEFLATE_MIN_SAVING = 0.1;

/** A decoded AssetChunk; `data` is a copy (or the inflated bytes), safe to keep. */
export interface AssetChunk {
  hash: Uint8Array;
  index: number;
  data: Uint8Array;
  /** Bytes the chunk took on the wire (data only). */
  wireBytes: number;
}

/** Encodes chunk `index` of the asset `hash`, deflated when `deflate` and it pays. */
export function encodeAssetChunk(hash: Uint8Array, index: number, raw: Uint8Array, deflate: boolean): Uint8Array {
  let data = raw;
  let flags = 0;
  if (deflate && raw.length > 0) {
    const packed = deflateSync(raw, { level: 6 });
    if (packed.length <= raw.length * (1 - DEFLATE_MIN_SAVING)) {
      data = packed;
      flags = CHUNK_DEFLATED;
    }
  }
  const out = new Uint8Array(CHUNK_HEADER_BYTES + data.length);
  // 1.
  let pos = writeMessageHeader(out, 0, Tag.AssetChunk);
  out.set(hash.subarray(0, ASSET_HASH_BYTES), pos);
  pos += ASSET_HASH_BYTES;
  const view = new DataView(out.buffer);
  // 2.
  view.setUint32(pos, index >>> 0, true);
  pos += 4;
  // 3.
  out[pos++] = flags;
  // 4.
  view.setUint32(pos, raw.length, true);
  pos += 4;
  // 5.
  out.set(data, pos);
  return out;
}

/** Decodes an AssetChunk whose raw length is at most `maxChunkBytes`; null when it is malformed in any way. */
export function decodeAssetChunk(message: Uint8Array, maxChunkBytes: number): AssetChunk | null {
  if (message.length < CHUNK_HEADER_BYTES) return null;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  // 1.
  let pos = MESSAGE_HEADER_BYTES;
  const hash = message.slice(pos, pos + ASSET_HASH_BYTES);
  pos += ASSET_HASH_BYTES;
  // 2.
  const index = view.getUint32(pos, true);
  pos += 4;
  // 3.
  const flags = message[pos++];
  if ((flags & ~CHUNK_DEFLATED) !== 0) return null;
  // 4.
  const rawLength = view.getUint32(pos, true);
  pos += 4;
  if (rawLength === 0 || rawLength > maxChunkBytes) return null;
  // 5.
  const body = message.subarray(pos);
  const wireBytes = body.length;
  if ((flags & CHUNK_DEFLATED) === 0) {
    if (body.length !== rawLength) return null;
    return { hash, index, data: body.slice(), wireBytes };
  }
  const data = inflateExactly(body, rawLength);
  return typeof data === 'string' ? null : { hash, index, data, wireBytes };
}
