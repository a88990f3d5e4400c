/**
 * An asset's manifest, as its AssetOffer carries it: the SHA-256 of its bytes (32 bytes, shown as 64 hex digits),
 * its size, a MIME type and a display name. The hash is WebCrypto's (`crypto.subtle.digest`), never hand-written.
 */
import { ASSET_HASH_BYTES } from './asset-chunk-wire.ts';
import { toHex } from '../session/identity.ts';

/** Longest MIME type and name accepted in an offer (bytes of UTF-16 code units, checked before use). */
export const MAX_ASSET_LABEL_CHARS = 128;

/** What a receiver knows of an asset before it has the bytes. */
export interface AssetManifest {
  /** SHA-256 of the bytes as 64 lowercase hex digits: the asset's identity and its cache key. */
  hash: string;
  /** Size of the asset, in bytes. */
  size: number;
  /** The MIME type, e.g. `model/gltf-binary` (at most 128 characters). */
  mime: string;
  /** Display name of the asset (at most 128 characters). */
  name: string;
}

/** The SHA-256 of `bytes` as 32 bytes, by WebCrypto. */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** 32 digest bytes as 64 lowercase hex digits. */
export function hashHex(hash: Uint8Array): string {
  return toHex(hash);
}

/** 64 hex digits as 32 bytes, or null when `hex` is not a SHA-256 in hex. */
export function hashBytes(hex: string): Uint8Array | null {
  if (!/^[0-9a-f]{64}$/.test(hex)) return null;
  const out = new Uint8Array(ASSET_HASH_BYTES);
  for (let i = 0; i < ASSET_HASH_BYTES; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A manifest from an untrusted value (a decoded AssetOffer body), or null when any field is out of shape. */
export function parseManifest(v: unknown): AssetManifest | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const { h, s, m, n } = o;
  if (!(h instanceof Uint8Array) || h.length !== ASSET_HASH_BYTES) return null;
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s <= 0) return null;
  if (typeof m !== 'string' || m.length > MAX_ASSET_LABEL_CHARS) return null;
  if (typeof n !== 'string' || n.length > MAX_ASSET_LABEL_CHARS) return null;
  return { hash: hashHex(h), size: s, mime: m, name: n };
}

/** The AssetOffer body of a manifest (hash as 32 bytes on the wire). */
export function manifestBody(m: AssetManifest): { h: Uint8Array; s: number; m: string; n: string } {
  return { h: hashBytes(m.hash) ?? new Uint8Array(ASSET_HASH_BYTES), s: m.size, m: m.mime, n: m.name };
}
