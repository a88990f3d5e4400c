/**
 * The control messages of asset streaming (MessagePack bodies, reliable lane; layouts in wire.md "Assets"):
 *   AssetOffer  {h: bin 32, s: size, m: mime, n: name, c: chunk bytes}  "I hold this asset; pull it if you lack it"
 *   AssetResume {h, f: first chunk}                                       "send me chunks f.. of it" (0 = from the start)
 *   AssetDone   {h, e?: error code, w?: why}                              "done with it": verified, or refused with e
 * The chunks themselves are binary (asset-chunk-wire.ts). Every parser returns null on a body out of shape.
 */
import { encodeControl } from '../codec/message-frame.ts';
import { ErrorCode, errorCodeName, type ErrorCodeName } from '../errors.ts';
import { Tag } from '../protocol/tags.ts';
import { ASSET_HASH_BYTES } from './asset-chunk-wire.ts';
import { hashBytes, hashHex, parseManifest, type AssetManifest } from './asset-manifest.ts';

/** Largest chunk: the SPEC's 16 KiB reliable chunk, small enough that a chunk never delays a pose by much. */
export const MAX_ASSET_CHUNK_BYTES = 16 * 1024;
/** Smallest chunk accepted in an offer: below 1 KiB the per-chunk header (41 bytes) costs too much. */
export const MIN_ASSET_CHUNK_BYTES = 1024;
/** Longest reason text in an AssetDone refusal; longer ones are cut. */
const MAX_WHY_CHARS = 200;

/** An offer: the manifest and the chunk size the offering side streams with. */
export interface AssetOffer {
  manifest: AssetManifest;
  chunkBytes: number;
}

/** The number of chunks an asset of `size` bytes takes. */
export function chunkCount(size: number, chunkBytes: number): number {
  return Math.ceil(size / chunkBytes);
}

/** An AssetOffer message. */
export function encodeOffer(offer: AssetOffer): Uint8Array {
  const m = offer.manifest;
  return encodeControl(Tag.AssetOffer, { h: hashBytes(m.hash), s: m.size, m: m.mime, n: m.name, c: offer.chunkBytes });
}

/** An offer from an untrusted body, or null. */
export function parseOffer(v: unknown): AssetOffer | null {
  const manifest = parseManifest(v);
  if (manifest === null) return null;
  const c = (v as Record<string, unknown>).c;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < MIN_ASSET_CHUNK_BYTES || c > MAX_ASSET_CHUNK_BYTES)
    return null;
  return { manifest, chunkBytes: c };
}

/** An AssetResume message: send chunks from `fromChunk` on. */
export function encodeResume(hash: string, fromChunk: number): Uint8Array {
  return encodeControl(Tag.AssetResume, { h: hashBytes(hash), f: fromChunk });
}

/** A resume request from an untrusted body (hash as hex), or null. */
export function parseResume(v: unknown): { hash: string; fromChunk: number } | null {
  if (typeof v !== 'object' || v === null) return null;
  const { h, f } = v as Record<string, unknown>;
  if (!(h instanceof Uint8Array) || h.length !== ASSET_HASH_BYTES) return null;
  if (typeof f !== 'number' || !Number.isInteger(f) || f < 0 || f > 0xffffffff) return null;
  return { hash: hashHex(h), fromChunk: f };
}

/** An AssetDone message; with `code`, a refusal (the code and a reason), else a verified receipt. */
export function encodeDone(hash: string, code?: ErrorCodeName, why?: string): Uint8Array {
  const body =
    code === undefined
      ? { h: hashBytes(hash) }
      : { h: hashBytes(hash), e: ErrorCode[code], w: (why ?? '').slice(0, MAX_WHY_CHARS) };
  return encodeControl(Tag.AssetDone, body);
}

/** An AssetDone from an untrusted body, or null; an unknown error code reads as `AssetUnavailable`. */
export function parseDone(v: unknown): { hash: string; code: ErrorCodeName | null; why: string } | null {
  if (typeof v !== 'object' || v === null) return null;
  const { h, e, w } = v as Record<string, unknown>;
  if (!(h instanceof Uint8Array) || h.length !== ASSET_HASH_BYTES) return null;
  if (e === undefined) return { hash: hashHex(h), code: null, why: '' };
  if (typeof e !== 'number' || (w !== undefined && typeof w !== 'string')) return null;
  const why = typeof w === 'string' ? w.slice(0, MAX_WHY_CHARS) : '';
  return { hash: hashHex(h), code: errorCodeName(e) ?? 'AssetUnavailable', why };
}
