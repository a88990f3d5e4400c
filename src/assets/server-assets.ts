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
import { NetError, usageError, type ErrorCodeName } from '../errors.ts';
import { Emitter } from '../events.ts';
import { DEFAULT_CAPABILITIES, senderAllowed, type Sender } from '../authority/roles.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerPeer } from '../session/server-peer.ts';
import { decodeAssetChunk } from './asset-chunk-wire.ts';
import { AssetDownload } from './asset-download.ts';
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
import { hashHex, type AssetManifest } from './asset-manifest.ts';
import { AssetStreams } from './asset-stream.ts';
import { chunkCount, encodeDone, encodeOffer, encodeResume, parseDone, parseOffer, parseResume } from './asset-wire.ts';
import type { AssetOffer } from './asset-wire.ts';
import { ContentCache } from './content-cache.ts';

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

interface Upload {
  readonly download: AssetDownload;
  /** Clients that offered this asset and wait for its AssetDone. */
  readonly offerers: Set<number>;
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
  const uploads = new Map<string, Upload>();
  const streams = new Map<number, AssetStreams>();
  const stats: ServerAssetStats = {
    catalog: 0,
    uploads: 0,
    uploadBytes: 0,
    downloads: 0,
    offersAccepted: 0,
    offersHeld: 0,
    uploadsVerified: 0,
    downloadsDone: 0,
    pulls: 0,
    resumes: 0,
    chunksReceived: 0,
    chunksSent: 0,
    wireBytesSent: 0,
    rawBytesSent: 0,
    paced: 0,
    catalogEvicted: 0,
    refusedTooLarge: 0,
    refusedBusy: 0,
    refusedForbidden: 0,
    unavailable: 0,
    corrupt: 0,
    malformed: 0,
    unsolicitedChunks: 0,
    outOfOrderChunks: 0,
    stalled: 0,
    abandoned: 0,
    clientRefusals: 0,
  };

  const live = (p: ServerPeer) => p.state === 'connected';
  const transfersOf = (id: number) => {
    let n = 0;
    for (const u of uploads.values()) if (u.download.from === id) n++;
    return n;
  };
  const totalTransfers = () => {
    let n = uploads.size;
    for (const s of streams.values()) n += s.active.length;
    return n;
  };
  const uploadBytes = () => {
    let n = 0;
    for (const u of uploads.values()) n += u.download.manifest.size;
    return n;
  };
  const count = () => {
    stats.catalog = catalog.size;
    stats.uploads = uploads.size;
    stats.uploadBytes = uploadBytes();
    stats.downloads = totalTransfers() - uploads.size;
  };

  const refuse = (peer: ServerPeer, hash: string, code: ErrorCodeName, why: string) => {
    peer.connection.sendReliable(encodeDone(hash, code, why));
    const e = new NetError(code, `client ${peer.clientId}: ${why}`);
    onError?.(e);
    events.emit('refused', peer.clientId, e);
  };
  const malformed = (peer: ServerPeer, what: string) => {
    stats.malformed++;
    peer.counters.decodeErrors++; // the session disconnects a peer that keeps sending bad data
    onError?.(new NetError('DecodeError', `client ${peer.clientId}: malformed ${what}`));
  };

  /** Adds a held asset to the catalog (the oldest leaves when full) and offers it to every connected client. */
  const publish = (offer: AssetOffer, except: number) => {
    const hash = offer.manifest.hash;
    if (!catalog.has(hash)) {
      if (catalog.size >= maxCatalog) {
        catalog.delete(catalog.keys().next().value as string);
        stats.catalogEvicted++;
      }
      catalog.set(hash, offer);
      const message = encodeOffer(offer);
      for (const p of replicator.peers.values())
        if (p.peer.clientId !== except && live(p.peer)) p.peer.connection.sendReliable(message);
    }
    count();
  };

  const finishUpload = async (up: Upload): Promise<void> => {
    const d = up.download;
    const ok = await d.verify();
    uploads.delete(d.manifest.hash);
    const peers = [...up.offerers].map((id) => replicator.peers.get(id)?.peer).filter((p) => p !== undefined);
    if (!ok) {
      stats.corrupt++;
      const why = `asset ${d.manifest.name} does not hash to its SHA-256 ${d.manifest.hash}`;
      for (const p of peers) refuse(p, d.manifest.hash, 'AssetCorrupt', why);
      count();
      return;
    }
    stats.uploadsVerified++;
    if (!cache.put(d.manifest.hash, d.bytes)) {
      for (const p of peers) refuse(p, d.manifest.hash, 'AssetTooLarge', `asset ${d.manifest.name} exceeds the cache`);
      stats.refusedTooLarge++;
      count();
      return;
    }
    for (const p of peers) if (live(p)) p.connection.sendReliable(encodeDone(d.manifest.hash));
    publish({ manifest: d.manifest, chunkBytes }, d.from);
    events.emit('added', d.manifest, d.from);
  };

  const onOffer = (peer: ServerPeer, v: unknown, now: number) => {
    const offer = parseOffer(v);
    if (offer === null) return malformed(peer, 'AssetOffer');
    const { hash, size, name } = offer.manifest;
    if (!senderAllowed(offerRoles, peer.role, false)) {
      stats.refusedForbidden++;
      return refuse(peer, hash, 'AssetForbidden', `role ${peer.role} may not offer assets`);
    }
    if (size > maxAssetBytes) {
      stats.refusedTooLarge++;
      return refuse(peer, hash, 'AssetTooLarge', `asset ${name} of ${size} bytes (max ${maxAssetBytes})`);
    }
    stats.offersAccepted++;
    const held = uploads.get(hash);
    if (held !== undefined) {
      held.offerers.add(peer.clientId);
      // The same client again (after a reconnect): continue from the first chunk the server lacks.
      if (held.download.from === peer.clientId && !held.download.verifying) {
        held.download.lastActivityMs = now;
        peer.connection.sendReliable(encodeResume(hash, held.download.next));
        if (held.download.next > 0) stats.resumes++;
      }
      return;
    }
    if (cache.has(hash)) {
      stats.offersHeld++;
      peer.connection.sendReliable(encodeDone(hash));
      return publish({ manifest: offer.manifest, chunkBytes }, peer.clientId);
    }
    if (transfersOf(peer.clientId) >= perClient || totalTransfers() >= maxTransfers) {
      stats.refusedBusy++;
      return refuse(peer, hash, 'AssetBusy', `too many concurrent asset transfers (${perClient} per client)`);
    }
    if (uploadBytes() + size > maxUploadBytes) {
      stats.refusedBusy++;
      return refuse(peer, hash, 'AssetBusy', `uploads under way hold ${maxUploadBytes} bytes already`);
    }
    const download = new AssetDownload(offer.manifest, offer.chunkBytes, peer.clientId, now);
    uploads.set(hash, { download, offerers: new Set([peer.clientId]) });
    peer.connection.sendReliable(encodeResume(hash, 0));
    stats.pulls++;
    count();
  };

  const onChunk = (peer: ServerPeer, message: Uint8Array, now: number) => {
    // The hash sits right after the tag: find the upload first, so the decoder knows its chunk size.
    const up = message.length >= 34 ? uploads.get(hashHex(message.subarray(2, 34))) : undefined;
    if (up === undefined || up.download.from !== peer.clientId) {
      stats.unsolicitedChunks++;
      return;
    }
    const chunk = decodeAssetChunk(message, up.download.chunkBytes);
    if (chunk === null) return malformed(peer, 'AssetChunk');
    const verdict = up.download.accept(chunk, now);
    if (verdict === 'duplicate') return;
    if (verdict === 'out-of-order' || verdict === 'bad-length') {
      stats.outOfOrderChunks++;
      return malformed(peer, `AssetChunk (${verdict})`);
    }
    stats.chunksReceived++;
    if (verdict === 'complete')
      finishUpload(up).catch((e: unknown) => onError?.(new NetError('InternalError', `asset check failed: ${e}`)));
  };

  const onResume = (peer: ServerPeer, v: unknown) => {
    const r = parseResume(v);
    if (r === null) return malformed(peer, 'AssetResume');
    const offer = catalog.get(r.hash);
    const bytes = offer && cache.get(r.hash);
    if (offer === undefined || bytes === undefined) {
      stats.unavailable++;
      return refuse(peer, r.hash, 'AssetUnavailable', `asset ${r.hash} is not held by the server`);
    }
    if (r.fromChunk > chunkCount(bytes.length, chunkBytes)) return malformed(peer, 'AssetResume (past the end)');
    const s = streams.get(peer.clientId);
    if (s === undefined) return;
    if (s.find(r.hash) === undefined && (s.active.length >= perClient || totalTransfers() >= maxTransfers)) {
      stats.refusedBusy++;
      return refuse(peer, r.hash, 'AssetBusy', `too many concurrent asset transfers (${perClient} per client)`);
    }
    s.start(r.hash, bytes, chunkBytes, r.fromChunk);
    if (r.fromChunk > 0) stats.resumes++;
    else stats.pulls++;
    count();
  };

  const onDone = (peer: ServerPeer, v: unknown) => {
    const d = parseDone(v);
    if (d === null) return malformed(peer, 'AssetDone');
    streams.get(peer.clientId)?.stop(d.hash);
    const up = uploads.get(d.hash);
    if (d.code === null) {
      const m = catalog.get(d.hash)?.manifest;
      if (m) {
        stats.downloadsDone++;
        events.emit('delivered', m, peer.clientId);
      }
    } else {
      stats.clientRefusals++;
      // The uploader cannot serve its offer after all: the upload ends.
      if (up && up.download.from === peer.clientId && !up.download.verifying) uploads.delete(d.hash);
    }
    count();
  };

  replicator.extensions.push({
    joined(peer) {
      // Also on resume: chunks in flight on the old connection are gone; the client pulls again from where it is.
      streams.set(peer.clientId, new AssetStreams(rate, chunkBytes, clock.now()));
      for (const [hash, offer] of catalog) {
        if (cache.get(hash) === undefined) catalog.delete(hash);
        else peer.connection.sendReliable(encodeOffer(offer));
      }
      count();
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
      count();
    },
    message(peer, tag, message) {
      if (tag < Tag.AssetOffer || tag > Tag.AssetDone) return false;
      const now = clock.now();
      if (tag === Tag.AssetChunk) {
        onChunk(peer, message, now);
        return true;
      }
      const decoded = decoder.decode(messageBody(message));
      if (!decoded.ok) {
        malformed(peer, `asset message (${decoded.error})`);
        return true;
      }
      if (tag === Tag.AssetOffer) onOffer(peer, decoded.value, now);
      else if (tag === Tag.AssetResume) onResume(peer, decoded.value);
      else onDone(peer, decoded.value);
      return true;
    },
    beforeDetect() {
      const now = clock.now();
      for (const [hash, up] of uploads) {
        const d = up.download;
        const peer = replicator.peers.get(d.from)?.peer;
        if (d.verifying || peer === undefined || !live(peer) || now - d.lastActivityMs < stallMs) continue;
        uploads.delete(hash);
        stats.stalled++;
        refuse(peer, hash, 'AssetUnavailable', `upload of ${d.manifest.name} stalled for ${stallMs} ms`);
      }
      count();
    },
    send(peer, connection) {
      const s = streams.get(peer.clientId);
      if (s === undefined || s.active.length === 0) return;
      const deflate = replicator.compression && peer.capabilities.includes('deflate');
      s.send(connection, deflate, clock.now(), stats);
      count();
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
      publish({ manifest, chunkBytes }, 0);
      events.emit('added', manifest, 0);
      return manifest;
    },
    get: (hash) => (catalog.has(hash) ? cache.get(hash) : undefined),
    catalog: () => [...catalog.values()].map((o) => o.manifest),
    stats: () => ({ ...stats }),
  };
}
