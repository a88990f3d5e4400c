/** Defaults and checks of the asset layers' bounds, shared by the server and the client. */
import { usageError } from '../errors.ts';
import { MAX_ASSET_CHUNK_BYTES, MIN_ASSET_CHUNK_BYTES } from './asset-wire.ts';

/** Default largest asset: 32 MiB holds a detailed glTF model with its textures; larger ones are refused. */
export const DEFAULT_MAX_ASSET_BYTES = 32 * 1024 * 1024;
/** Default chunk: the largest (16 KiB), fewest headers and acks; ~13 packets at a 1,200-byte MTU. */
export const DEFAULT_ASSET_CHUNK_BYTES = MAX_ASSET_CHUNK_BYTES;
/** Default share of a client's bandwidth cap that assets may take: half, so poses and state keep the other half. */
export const DEFAULT_ASSET_BANDWIDTH_SHARE = 0.5;
/** Asset rate when the plugin has no bandwidth cap: 2 Mbps, a few seconds for a typical model. */
export const DEFAULT_UNCAPPED_ASSET_KBPS = 2000;
/** Default client upload rate: 1 Mbps, below the server's default 1 MiB/s per-client byte limit with room to spare. */
export const DEFAULT_ASSET_UPLOAD_KBPS = 1000;
/** Default concurrent transfers per client (each way), and on the server in total. */
export const DEFAULT_ASSET_TRANSFERS_PER_CLIENT = 2;
export const DEFAULT_ASSET_TRANSFERS = 64;
/** Default bytes of all uploads under way on the server: 128 MiB, four large models at once, a bounded heap. */
export const DEFAULT_ASSET_UPLOAD_BYTES = 128 * 1024 * 1024;
/** Default offers a receiver keeps (its catalog; the server's is shown to joiners). */
export const DEFAULT_ASSET_CATALOG = 256;
/** A transfer that receives nothing for this long while its sender is connected is dropped (`AssetUnavailable`). */
export const DEFAULT_ASSET_STALL_MS = 30_000;

/** Checks a chunk size option. */
export function checkChunkBytes(n: number): number {
  if (!Number.isInteger(n) || n < MIN_ASSET_CHUNK_BYTES || n > MAX_ASSET_CHUNK_BYTES)
    usageError(`asset chunkBytes ${n} is out of range`, `pass ${MIN_ASSET_CHUNK_BYTES}..${MAX_ASSET_CHUNK_BYTES}`);
  return n;
}

/** Checks that every named option is a positive number (integers where `integer`). */
export function checkPositive(values: Record<string, number>, integer: boolean): void {
  for (const [name, v] of Object.entries(values)) {
    if (!(v > 0) || (integer && !Number.isInteger(v)))
      usageError(`asset option ${name} = ${v} is out of range`, `pass a positive ${integer ? 'integer' : 'number'}`);
  }
}
