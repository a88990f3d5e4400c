/**
 * Client side of asset streaming. The server's offers fill a catalog; an asset the content cache already holds is
 * handed to the application at once (and not transferred), others are pulled in chunks, a few at a time, checked
 * against their SHA-256 and only then handed on. After a reconnect every unfinished pull continues from the first
 * chunk not yet received. `offer` sends an asset of this client's to the server, which pulls it, checks it and
 * offers it to everyone else.
 */
import type { Connection } from '../connection/connection.ts';
import { messageBody } from '../codec/message-frame.ts';
import { createBodyDecoder } from '../codec/msgpack-body.ts';
import { getNetContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { Emitter } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import { manifestOf, type AssetMeta, type ClientAssetEvents, type ClientAssetStats } from './asset-api.ts';
import {
  DEFAULT_ASSET_CATALOG,
  DEFAULT_ASSET_CHUNK_BYTES,
  DEFAULT_ASSET_STALL_MS,
  DEFAULT_ASSET_TRANSFERS_PER_CLIENT,
  DEFAULT_ASSET_UPLOAD_KBPS,
  DEFAULT_MAX_ASSET_BYTES,
  checkChunkBytes,
  checkPositive,
} from './asset-limits.ts';
import type { AssetManifest } from './asset-manifest.ts';
import { AssetStreams } from './asset-stream.ts';
import { encodeOffer } from './asset-wire.ts';
import { ContentCache } from './content-cache.ts';
import { assetsReconnected, onServerDone, onServerResume } from './client-asset-answers.ts';
import { checkDownloadStalls, onDownloadChunk, onDownloadOffer } from './client-asset-downloads.ts';
import {
  countClientAssets,
  createClientAssetStats,
  enqueuePull,
  malformedServerAsset,
  type ClientAssetHost,
} from './client-asset-host.ts';

/** Options of `createClientAssets`. */
export interface ClientAssetsOptions {
  /** Largest asset pulled (default 32 MiB); a larger offer is refused locally with `AssetTooLarge`. */
  maxAssetBytes?: number;
  /** Downloads at once (default 2); further offers wait in the queue. */
  maxTransfers?: number;
  /** Offers kept (default 256); past it the oldest finished one is forgotten, or the new one dropped. */
  maxCatalog?: number;
  /** The content cache (default: a new 64 MiB one); share one between sessions to keep assets across them. */
  cache?: ContentCache;
  /** Upload rate in kbps (default 1,000, below the server's default per-client byte limit). */
  uploadKbps?: number;
  /** Chunk size of uploads (1-16 KiB, default 16 KiB). */
  chunkBytes?: number;
  /** Which offers to pull (default: all); a declined one can still be pulled later with `pull`. */
  accept?: (manifest: AssetManifest) => boolean;
  /** A download that receives nothing for this long while connected is dropped (default 30 s). */
  stallMs?: number;
}

/** A client's asset layer. */
export interface ClientAssets {
  /** Events of the client's asset layer: offered, progress, received, uploaded, refused. */
  readonly events: Emitter<ClientAssetEvents>;
  /** The content cache verified assets are kept in (and looked up in before pulling). */
  readonly cache: ContentCache;
  /** Offers `bytes` to the server (SHA-256 by WebCrypto); resolves to the manifest, `uploaded` fires once taken. */
  offer(bytes: Uint8Array, meta: AssetMeta): Promise<AssetManifest>;
  /** Pulls an offered asset the `accept` hook declined; false when no such offer is known or it is held already. */
  pull(hash: string): boolean;
  /** The verified bytes of an asset, or undefined. */
  get(hash: string): Uint8Array | undefined;
  /** The server's offers this client knows. */
  catalog(): AssetManifest[];
  /** Bytes received of an asset under way, or undefined. */
  progress(hash: string): number | undefined;
  /** The client's asset counters. */
  stats(): ClientAssetStats;
}

/**
 * Receives the server's assets and offers this client's.
 * @example
 * const assets = createClientAssets(world);
 * assets.events.on('received', ({ manifest, bytes }) => loadModel(manifest.name, bytes));
 * await assets.offer(fileBytes, { name: file.name, mime: 'model/gltf-binary' });
 */
export function createClientAssets(world: object, options: ClientAssetsOptions = {}): ClientAssets {
  const ctx = getNetContext(world);
  if (ctx.role !== 'client') usageError('createClientAssets needs a client world', 'use createServerAssets');
  const maxAssetBytes = options.maxAssetBytes ?? DEFAULT_MAX_ASSET_BYTES;
  const maxTransfers = options.maxTransfers ?? DEFAULT_ASSET_TRANSFERS_PER_CLIENT;
  const maxCatalog = options.maxCatalog ?? DEFAULT_ASSET_CATALOG;
  const uploadKbps = options.uploadKbps ?? DEFAULT_ASSET_UPLOAD_KBPS;
  const chunkBytes = checkChunkBytes(options.chunkBytes ?? DEFAULT_ASSET_CHUNK_BYTES);
  const stallMs = options.stallMs ?? DEFAULT_ASSET_STALL_MS;
  checkPositive({ maxAssetBytes, maxTransfers, maxCatalog }, true);
  checkPositive({ uploadKbps, stallMs }, false);
  const accept = options.accept ?? (() => true);
  const { clock, session, onError } = ctx;
  const cache = options.cache ?? new ContentCache();
  const decoder = createBodyDecoder();
  const host: ClientAssetHost = {
    settings: { maxAssetBytes, maxTransfers, maxCatalog, uploadKbps, chunkBytes, stallMs, accept },
    clock,
    cache,
    events: new Emitter<ClientAssetEvents>(),
    catalog: new Map(),
    downloads: new Map(),
    queue: [],
    uploads: new Map(),
    outbox: [],
    streams: new AssetStreams((uploadKbps * 1000) / 8, chunkBytes, clock.now()),
    stats: createClientAssetStats(),
    onError,
  };
  const { events, catalog, downloads, uploads, outbox, stats } = host;
  let connection: Connection | null = null;

  ctx.replicator.extensions.push({
    message(tag, message) {
      if (tag < Tag.AssetOffer || tag > Tag.AssetDone) return false;
      if (tag === Tag.AssetChunk) {
        onDownloadChunk(host, message);
        return true;
      }
      const decoded = decoder.decode(messageBody(message));
      if (!decoded.ok) malformedServerAsset(host, `asset message (${decoded.error})`);
      else if (tag === Tag.AssetOffer) onDownloadOffer(host, decoded.value);
      else if (tag === Tag.AssetResume) onServerResume(host, decoded.value);
      else onServerDone(host, decoded.value);
      return true;
    },
    send(conn) {
      const now = clock.now();
      if (conn !== connection) {
        connection = conn;
        assetsReconnected(host, now);
      }
      checkDownloadStalls(host, now);
      for (const m of outbox) conn.sendReliable(m);
      outbox.length = 0;
      if (host.streams.active.length > 0) {
        const deflate = session.welcome?.capabilities.includes('deflate') ?? false;
        host.streams.send(conn, deflate, now, stats);
      }
    },
  });

  return {
    events,
    cache,
    async offer(bytes, meta) {
      if (bytes.length === 0 || bytes.length > maxAssetBytes)
        usageError(`asset of ${bytes.length} bytes`, `offer 1..${maxAssetBytes} bytes (maxAssetBytes)`);
      const manifest = await manifestOf(bytes, meta);
      cache.put(manifest.hash, bytes);
      const offer = { manifest, chunkBytes };
      uploads.set(manifest.hash, { offer, bytes });
      outbox.push(encodeOffer(offer));
      countClientAssets(host);
      return manifest;
    },
    pull(hash) {
      const e = catalog.get(hash);
      if (e === undefined || (e.state !== 'offered' && e.state !== 'refused')) return false;
      if (e.offer.manifest.size > maxAssetBytes) return false;
      enqueuePull(host, e);
      return true;
    },
    get: (hash) => cache.get(hash),
    catalog: () => [...catalog.values()].map((e) => e.offer.manifest),
    progress: (hash) => downloads.get(hash)?.receivedBytes,
    stats: () => ({ ...stats }),
  };
}
