/**
 * Server side of asset streaming. A permitted client offers an asset (AssetOffer); unless the server already
 * holds it, the server pulls it (AssetResume), checks its SHA-256, keeps it in its content cache and offers it to
 * every other client, and to each client that joins later. A client that lacks an asset pulls it with AssetResume
 * from the first chunk it does not have (0, or where an interrupted transfer stopped); the chunks go out on the
 * reliable lane paced at a share of the client's bandwidth cap, and the client's AssetDone ends the transfer.
 */
import { messageBody } from '../codec/message-frame.ts';
import { createBodyDecoder } from '../codec/msgpack-body.ts';
import { getNetContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { Emitter } from '../events.ts';
import { DEFAULT_CAPABILITIES, type Sender } from '../authority/roles.ts';
import { Tag } from '../protocol/tags.ts';
import {
  DEFAULT_ASSET_BANDWIDTH_SHARE,
  DEFAULT_ASSET_CATALOG,
  DEFAULT_ASSET_CHUNK_BYTES,
  DEFAULT_ASSET_STALL_MS,
  DEFAULT_ASSET_TRANSFERS,
  DEFAULT_ASSET_TRANSFERS_PER_CLIENT,
  DEFAULT_ASSET_UPLOAD_BYTES,
  DEFAULT_MAX_ASSET_BYTES,
  DEFAULT_UNCAPPED_ASSET_KBPS,
  checkChunkBytes,
  checkPositive,
} from './asset-limits.ts';
import { manifestOf, type AssetMeta, type ServerAssetEvents, type ServerAssetStats } from './asset-api.ts';
import type { AssetManifest } from './asset-manifest.ts';
import { AssetStreams } from './asset-stream.ts';
import { encodeOffer } from './asset-wire.ts';
import type { AssetOffer } from './asset-wire.ts';
import { ContentCache } from './content-cache.ts';
import {
  countAssets,
  createServerAssetStats,
  isLive,
  malformedAsset,
  publishAsset,
  refuseAsset,
  type ServerAssetHost,
  type ServerUpload,
} from './server-asset-host.ts';
import { onPullDone, onPullResume } from './server-asset-pulls.ts';
import { onUploadChunk, onUploadOffer } from './server-asset-uploads.ts';

/** Options of `createServerAssets`. */
export interface ServerAssetsOptions {
  /** Largest asset accepted (default 32 MiB); a larger offer is refused with `AssetTooLarge`. */
  maxAssetBytes?: number;
  /** Chunk size the server streams with (1-16 KiB, default 16 KiB). */
  chunkBytes?: number;
  /** Share of each client's bandwidth cap (the plugin's `bandwidthKbps`) assets may take (default 0.5). */
  bandwidthShare?: number;
  /** Asset rate per client in kbps when the plugin has no bandwidth cap (default 2,000). */
  uncappedKbps?: number;
  /** Concurrent transfers per client each way (default 2), and in total (default 64); more: `AssetBusy`. */
  maxTransfersPerClient?: number;
  /** Concurrent transfers in total, both ways (default 64); more: `AssetBusy`. */
  maxTransfers?: number;
  /** Bytes of all uploads under way at most (default 128 MiB): each holds a buffer of its size; more: `AssetBusy`. */
  maxUploadBytes?: number;
  /** Assets offered to joiners at most (default 256): the oldest leaves the catalog. */
  maxCatalog?: number;
  /** The content cache (default: a new 64 MiB one); pass one to share it or to bound it otherwise. */
  cache?: ContentCache;
  /** Roles that may offer assets (default: the `offerAssets` capability, participants and admins). */
  offerRoles?: readonly Sender[];
  /** An upload that receives nothing for this long from a connected client is dropped (default 30 s). */
  stallMs?: number;
}

/** The server's asset layer. */
export interface ServerAssets {
  /** Events of the server's asset layer: added, delivered, refused. */
  readonly events: Emitter<ServerAssetEvents>;
  /** The content cache the server keeps verified assets in. */
  readonly cache: ContentCache;
  /** Hashes `bytes` (SHA-256), keeps them and offers them to every client; resolves to the manifest. */
  offer(bytes: Uint8Array, meta: AssetMeta): Promise<AssetManifest>;
  /** The bytes of a held asset, or undefined. */
  get(hash: string): Uint8Array | undefined;
  /** The assets offered to clients, oldest first. */
  catalog(): AssetManifest[];
  /** The server's asset counters. */
  stats(): ServerAssetStats;
}

/**
 * Streams assets between clients through the server.
 * @example
 * const assets = createServerAssets(world, { maxAssetBytes: 8 << 20 });
 * assets.events.on('added', (m, from) => log(`${m.name} from client ${from}`));
 */
export function createServerAssets(world: object, options: ServerAssetsOptions = {}): ServerAssets {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server') usageError('createServerAssets needs a server world', 'use createClientAssets');
  const maxAssetBytes = options.maxAssetBytes ?? DEFAULT_MAX_ASSET_BYTES;
  const chunkBytes = checkChunkBytes(options.chunkBytes ?? DEFAULT_ASSET_CHUNK_BYTES);
  const share = options.bandwidthShare ?? DEFAULT_ASSET_BANDWIDTH_SHARE;
  const perClient = options.maxTransfersPerClient ?? DEFAULT_ASSET_TRANSFERS_PER_CLIENT;
  const maxTransfers = options.maxTransfers ?? DEFAULT_ASSET_TRANSFERS;
  const maxCatalog = options.maxCatalog ?? DEFAULT_ASSET_CATALOG;
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_ASSET_UPLOAD_BYTES;
  const stallMs = options.stallMs ?? DEFAULT_ASSET_STALL_MS;
  checkPositive({ maxAssetBytes, perClient, maxTransfers, maxCatalog, maxUploadBytes }, true);
  checkPositive({ share, stallMs, uncapped: options.uncappedKbps ?? DEFAULT_UNCAPPED_ASSET_KBPS }, false);
  if (share > 1) usageError(`bandwidthShare ${share} is above 1`, 'pass a share in (0, 1], e.g. 0.5');
  const offerRoles = options.offerRoles ?? DEFAULT_CAPABILITIES.offerAssets;
  const { replicator, clock, onError } = ctx;
  const cap = replicator.bandwidthBytesPerSec;
  const rate = cap > 0 ? cap * share : ((options.uncappedKbps ?? DEFAULT_UNCAPPED_ASSET_KBPS) * 1000) / 8;
  const cache = options.cache ?? new ContentCache();
  const decoder = createBodyDecoder();
  const events = new Emitter<ServerAssetEvents>();
  const catalog = new Map<string, AssetOffer>();
  const uploads = new Map<string, ServerUpload>();
  const streams = new Map<number, AssetStreams>();
  const stats = createServerAssetStats();
  const settings = {
    maxAssetBytes,
    chunkBytes,
    perClient,
    maxTransfers,
    maxCatalog,
    maxUploadBytes,
    stallMs,
    offerRoles,
  };
  const host: ServerAssetHost = {
    settings,
    cache,
    events,
    catalog,
    uploads,
    streams,
    stats,
    peers: replicator.peers,
    onError,
  };

  replicator.extensions.push({
    joined(peer) {
      // Also on resume: chunks in flight on the old connection are gone; the client pulls again from where it is.
      streams.set(peer.clientId, new AssetStreams(rate, chunkBytes, clock.now()));
      for (const [hash, offer] of catalog) {
        if (cache.get(hash) === undefined) catalog.delete(hash);
        else peer.connection.sendReliable(encodeOffer(offer));
      }
      countAssets(host);
    },
    left(peer) {
      streams.delete(peer.clientId);
      for (const [hash, up] of uploads) {
        up.offerers.delete(peer.clientId);
        if (up.download.from === peer.clientId && !up.download.verifying) {
          uploads.delete(hash);
          stats.abandoned++;
        }
      }
      countAssets(host);
    },
    message(peer, tag, message) {
      if (tag < Tag.AssetOffer || tag > Tag.AssetDone) return false;
      const now = clock.now();
      if (tag === Tag.AssetChunk) {
        onUploadChunk(host, peer, message, now);
        return true;
      }
      const decoded = decoder.decode(messageBody(message));
      if (!decoded.ok) {
        malformedAsset(host, peer, `asset message (${decoded.error})`);
        return true;
      }
      if (tag === Tag.AssetOffer) onUploadOffer(host, peer, decoded.value, now);
      else if (tag === Tag.AssetResume) onPullResume(host, peer, decoded.value);
      else onPullDone(host, peer, decoded.value);
      return true;
    },
    beforeDetect() {
      const now = clock.now();
      for (const [hash, up] of uploads) {
        const d = up.download;
        const peer = replicator.peers.get(d.from)?.peer;
        if (d.verifying || peer === undefined || !isLive(peer) || now - d.lastActivityMs < stallMs) continue;
        uploads.delete(hash);
        stats.stalled++;
        refuseAsset(host, peer, hash, 'AssetUnavailable', `upload of ${d.manifest.name} stalled for ${stallMs} ms`);
      }
      countAssets(host);
    },
    send(peer, connection) {
      const s = streams.get(peer.clientId);
      if (s === undefined || s.active.length === 0) return;
      const deflate = replicator.compression && peer.capabilities.includes('deflate');
      s.send(connection, deflate, clock.now(), stats);
      countAssets(host);
    },
  });

  return {
    events,
    cache,
    async offer(bytes, meta) {
      if (bytes.length === 0 || bytes.length > maxAssetBytes)
        usageError(`asset of ${bytes.length} bytes`, `offer 1..${maxAssetBytes} bytes (maxAssetBytes)`);
      const manifest = await manifestOf(bytes, meta);
      if (!cache.put(manifest.hash, bytes)) usageError('the asset is larger than the cache', 'pass a larger cache');
      publishAsset(host, { manifest, chunkBytes }, 0);
      events.emit('added', manifest, 0);
      return manifest;
    },
    get: (hash) => (catalog.has(hash) ? cache.get(hash) : undefined),
    catalog: () => [...catalog.values()].map((o) => o.manifest),
    stats: () => ({ ...stats }),
  };
}
