/** The types both asset layers show the application: what an asset is called, its events, and their counters. */
import type { NetError } from '../errors.ts';
import { hashHex, sha256, MAX_ASSET_LABEL_CHARS, type AssetManifest } from './asset-manifest.ts';
import { usageError } from '../errors.ts';

/** What the offering application says of an asset besides its bytes. */
export interface AssetMeta {
  /** A display name, e.g. the file name (at most 128 characters). */
  name: string;
  /** The MIME type, e.g. `model/gltf-binary` (at most 128 characters). */
  mime: string;
}

/** A verified asset handed to the application. */
export interface ReceivedAsset {
  /** The asset's manifest: SHA-256 hash, size in bytes, MIME type and name. */
  manifest: AssetManifest;
  /** The asset's bytes, verified against `manifest.hash`. */
  bytes: Uint8Array;
  /** True when it came from the local content cache (nothing was transferred). */
  cached: boolean;
}

/** The manifest of `bytes` (its SHA-256 by WebCrypto); throws a Usage NetError on labels that do not fit. */
export async function manifestOf(bytes: Uint8Array, meta: AssetMeta): Promise<AssetManifest> {
  if (meta.name.length > MAX_ASSET_LABEL_CHARS || meta.mime.length > MAX_ASSET_LABEL_CHARS)
    usageError('asset name or mime type too long', `keep both at most ${MAX_ASSET_LABEL_CHARS} characters`);
  return { hash: hashHex(await sha256(bytes)), size: bytes.length, mime: meta.mime, name: meta.name };
}

/** Events of the server's asset layer. */
export type ServerAssetEvents = {
  /** A verified asset joined the catalog, from a client's upload (its id) or the server's own `offer` (0). */
  added: [manifest: AssetManifest, fromClientId: number];
  /** A client has an asset now (it verified a transfer, or already had it cached). */
  delivered: [manifest: AssetManifest, clientId: number];
  /** A client's offer or request was refused (the error says why). */
  refused: [clientId: number, error: NetError];
};

/** Counters of the server's asset layer: every bound has one. */
export interface ServerAssetStats {
  /** Assets in the catalog, uploads and downloads under way now. */
  catalog: number;
  /** Uploads under way now: assets the server is pulling from clients. */
  uploads: number;
  /** Downloads under way now: assets the server is streaming to clients. */
  downloads: number;
  /** Bytes the uploads under way hold (their buffers), bounded by `maxUploadBytes`. */
  uploadBytes: number;
  /** Offers accepted, of which the server already held the bytes (nothing was pulled). */
  offersAccepted: number;
  /** Offers the server answered at once because it already held the bytes (nothing was pulled). */
  offersHeld: number;
  /** Uploads whose bytes hashed to their offer and joined the catalog. */
  uploadsVerified: number;
  /** AssetDone receipts from clients. */
  downloadsDone: number;
  /** Transfers started from chunk 0, and continued from a later chunk after an interruption. */
  pulls: number;
  /** Transfers continued from a later chunk after an interruption (either direction). */
  resumes: number;
  /** Upload chunks accepted from clients, in order. */
  chunksReceived: number;
  /** Chunk messages sent to clients. */
  chunksSent: number;
  /** Chunk message bytes sent (after deflate) and the asset bytes they carried. */
  wireBytesSent: number;
  /** Asset bytes carried by the chunks sent, before deflate. */
  rawBytesSent: number;
  /** Send ticks where a chunk waited for the bandwidth share or the connection's queue. */
  paced: number;
  /** Catalog entries dropped for newer ones (`maxCatalog`). */
  catalogEvicted: number;
  /** Offers over `maxAssetBytes`, and verified uploads the content cache could not hold (`AssetTooLarge`). */
  refusedTooLarge: number;
  /** Offers and pulls refused for the per-client or total transfer limit or the upload byte bound (`AssetBusy`). */
  refusedBusy: number;
  /** Offers from a role that may not offer assets (`AssetForbidden`). */
  refusedForbidden: number;
  /** Requests for an asset the server does not hold. */
  unavailable: number;
  /** Uploads whose bytes did not hash to their offer. */
  corrupt: number;
  /** Asset messages that did not decode or fit their layout. */
  malformed: number;
  /** Chunks of no upload from that client, and chunks out of order or of the wrong length. */
  unsolicitedChunks: number;
  /** Upload chunks out of order or of the wrong length (the message is counted as malformed too). */
  outOfOrderChunks: number;
  /** Uploads dropped for silence (`stallMs`) and because their client left. */
  stalled: number;
  /** Uploads dropped because their client left. */
  abandoned: number;
  /** AssetDone refusals clients sent (a corrupt download, an upload they could not serve). */
  clientRefusals: number;
}

/** Events of a client's asset layer. */
export type ClientAssetEvents = {
  /** The server offers an asset (before any transfer). */
  offered: [manifest: AssetManifest];
  /** Chunks of an asset arrived: `receivedBytes` of `manifest.size`. */
  progress: [manifest: AssetManifest, receivedBytes: number];
  /** A verified asset, from a transfer or from the cache. */
  received: [asset: ReceivedAsset];
  /** The server verified this client's upload and offers it to the others. */
  uploaded: [manifest: AssetManifest];
  /** An offer, a transfer or an upload was refused or failed (the error says why); nothing was handed on. */
  refused: [hash: string, error: NetError];
};

/** Counters of a client's asset layer. */
export interface ClientAssetStats {
  /** Offers held (the catalog), downloads under way, offers waiting for a free transfer slot, uploads unanswered. */
  catalog: number;
  /** Downloads under way now. */
  downloads: number;
  /** Offers waiting for a free transfer slot. */
  queued: number;
  /** Uploads this client offered that the server has not answered yet. */
  uploads: number;
  /** Downloads that arrived and hashed to their offer (stored in the content cache). */
  received: number;
  /** Offers answered from the content cache (nothing transferred). */
  fromCache: number;
  /** Pulls re-issued after a reconnect, and chunks they did not have to send again. */
  resumes: number;
  /** Chunks the re-issued pulls did not have to fetch again. */
  resumedChunks: number;
  /** Download chunks accepted, in order. */
  chunksReceived: number;
  /** Chunk data bytes as they came on the wire (deflated or not). */
  wireBytesReceived: number;
  /** Uploads the server verified and accepted. */
  uploadsAccepted: number;
  /** Upload chunk messages sent to the server. */
  chunksSent: number;
  /** Upload chunk message bytes sent, after deflate. */
  wireBytesSent: number;
  /** Asset bytes the upload chunks carried, before deflate. */
  rawBytesSent: number;
  /** Send ticks where an upload chunk waited for the bandwidth share or the connection's queue. */
  paced: number;
  /** Offers over `maxAssetBytes`; offers the `accept` hook declined; offers dropped because the catalog was full. */
  refusedTooLarge: number;
  /** Offers the `accept` hook declined. */
  declined: number;
  /** Offers dropped because the catalog was full. */
  catalogFull: number;
  /** Transfers whose bytes did not hash to their offer. */
  corrupt: number;
  /** Refusals from the server (AssetDone with an error) for uploads and downloads. */
  refusedByServer: number;
  /** Pulls the server refused as busy (`AssetBusy`), queued again to be asked a second later. */
  busyRetries: number;
  /** Asset messages from the server that did not decode or fit their layout. */
  malformed: number;
  /** Chunks of no download under way. */
  unsolicitedChunks: number;
  /** Download chunks out of order or of the wrong length. */
  outOfOrderChunks: number;
  /** Downloads dropped because nothing arrived for `stallMs` while connected. */
  stalled: number;
}
