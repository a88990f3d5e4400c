/**
 * Client side of asset streaming. The server's offers fill a catalog; an asset the content cache already holds is
 * handed to the application at once (and not transferred), others are pulled in chunks, a few at a time, checked
 * against their SHA-256 and only then handed on. After a reconnect every unfinished pull continues from the first
 * chunk not yet received. `offer` sends an asset of this client's to the server, which pulls it, checks it and
 * offers it to everyone else.
 */
import type { Connection } from '../connection/connection.ts';
import { messageBody, readMessageTag } from '../codec/message-frame.ts';
import { createBodyDecoder } from '../codec/msgpack-body.ts';
import { getNetContext } from '../context.ts';
import { NetError, usageError, type ErrorCodeName } from '../errors.ts';
import { Emitter } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import { manifestOf, type AssetMeta, type ClientAssetEvents, type ClientAssetStats } from './asset-api.ts';
import { ASSET_HASH_BYTES, decodeAssetChunk } from './asset-chunk-wire.ts';
import { AssetDownload } from './asset-download.ts';
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
import { hashHex, type AssetManifest } from './asset-manifest.ts';
import { AssetStreams } from './asset-stream.ts';
import { encodeDone, encodeOffer, encodeResume, parseDone, parseOffer, parseResume } from './asset-wire.ts';
import type { AssetOffer } from './asset-wire.ts';
import { ContentCache } from './content-cache.ts';

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

interface Entry {
  readonly offer: AssetOffer;
  state: 'offered' | 'queued' | 'pulling' | 'held' | 'refused';
  /** A pull the server refused as busy waits until then before it is asked again. */
  notBeforeMs: number;
}

/** Wait before pulling again an asset the server was too busy to send: a second, a few transfers' worth of chunks. */
const BUSY_RETRY_MS = 1000;

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
  const events = new Emitter<ClientAssetEvents>();
  const catalog = new Map<string, Entry>();
  const downloads = new Map<string, AssetDownload>();
  const queue: string[] = [];
  /** This client's offers not yet answered by the server: their bytes, and whether the offer went out. */
  const uploads = new Map<string, { offer: AssetOffer; bytes: Uint8Array }>();
  const outbox: Uint8Array[] = [];
  let streams = new AssetStreams((uploadKbps * 1000) / 8, chunkBytes, clock.now());
  let connection: Connection | null = null;
  const stats: ClientAssetStats = {
    catalog: 0,
    downloads: 0,
    queued: 0,
    uploads: 0,
    received: 0,
    fromCache: 0,
    resumes: 0,
    resumedChunks: 0,
    chunksReceived: 0,
    wireBytesReceived: 0,
    uploadsAccepted: 0,
    chunksSent: 0,
    wireBytesSent: 0,
    rawBytesSent: 0,
    paced: 0,
    refusedTooLarge: 0,
    declined: 0,
    catalogFull: 0,
    corrupt: 0,
    refusedByServer: 0,
    busyRetries: 0,
    malformed: 0,
    unsolicitedChunks: 0,
    outOfOrderChunks: 0,
    stalled: 0,
  };
  const count = () => {
    stats.catalog = catalog.size;
    stats.downloads = downloads.size;
    stats.queued = queue.length;
    stats.uploads = uploads.size;
  };

  const fail = (hash: string, code: ErrorCodeName, why: string, tell: boolean) => {
    const e = new NetError(code, why);
    if (tell) outbox.push(encodeDone(hash, code, why));
    onError?.(e);
    events.emit('refused', hash, e);
  };
  const malformed = (what: string) => {
    stats.malformed++;
    onError?.(new NetError('DecodeError', `server sent a malformed ${what}`));
  };

  /** Starts queued pulls while transfer slots are free. */
  const pump = () => {
    const now = clock.now();
    for (let i = 0; i < queue.length && downloads.size < maxTransfers;) {
      const hash = queue[i];
      const e = catalog.get(hash);
      if (e !== undefined && e.state === 'queued' && e.notBeforeMs > now) {
        i++;
        continue;
      }
      queue.splice(i, 1);
      if (e === undefined || e.state !== 'queued') continue;
      e.state = 'pulling';
      downloads.set(hash, new AssetDownload(e.offer.manifest, e.offer.chunkBytes, 0, clock.now()));
      outbox.push(encodeResume(hash, 0));
    }
    count();
  };

  const enqueue = (e: Entry) => {
    e.state = 'queued';
    queue.push(e.offer.manifest.hash);
    pump();
  };

  /** Keeps an offer; past `maxCatalog` the oldest finished entry goes, or the offer is dropped when none has. */
  const remember = (offer: AssetOffer): Entry | undefined => {
    if (catalog.size >= maxCatalog) {
      let victim: string | undefined;
      for (const [h, e] of catalog)
        if (e.state === 'held' || e.state === 'refused' || e.state === 'offered') {
          victim = h;
          break;
        }
      if (victim === undefined) {
        stats.catalogFull++;
        return undefined;
      }
      catalog.delete(victim);
    }
    const e: Entry = { offer, state: 'offered', notBeforeMs: 0 };
    catalog.set(offer.manifest.hash, e);
    return e;
  };

  const onOffer = (v: unknown) => {
    const offer = parseOffer(v);
    if (offer === null) return malformed('AssetOffer');
    const m = offer.manifest;
    if (catalog.has(m.hash)) return; // re-offered on resume: held, under way or refused already
    const e = remember(offer);
    if (e === undefined) return;
    events.emit('offered', m);
    if (m.size > maxAssetBytes) {
      stats.refusedTooLarge++;
      e.state = 'refused';
      return fail(m.hash, 'AssetTooLarge', `asset ${m.name} of ${m.size} bytes (max ${maxAssetBytes})`, false);
    }
    const bytes = cache.has(m.hash) ? cache.get(m.hash) : undefined;
    if (bytes !== undefined) {
      e.state = 'held';
      stats.fromCache++;
      outbox.push(encodeDone(m.hash));
      events.emit('received', { manifest: m, bytes, cached: true });
    } else if (accept(m)) enqueue(e);
    else stats.declined++;
    count();
  };

  const finish = async (d: AssetDownload): Promise<void> => {
    const m = d.manifest;
    const ok = await d.verify();
    downloads.delete(m.hash);
    const e = catalog.get(m.hash);
    if (!ok) {
      stats.corrupt++;
      if (e) e.state = 'refused';
      fail(m.hash, 'AssetCorrupt', `asset ${m.name} does not hash to its SHA-256 ${m.hash}`, true);
    } else {
      if (e) e.state = 'held';
      stats.received++;
      cache.put(m.hash, d.bytes);
      outbox.push(encodeDone(m.hash));
      events.emit('received', { manifest: m, bytes: d.bytes, cached: false });
    }
    pump();
  };

  const onChunk = (message: Uint8Array) => {
    const d = message.length >= 2 + ASSET_HASH_BYTES ? downloads.get(hashHex(message.subarray(2, 34))) : undefined;
    if (d === undefined) {
      stats.unsolicitedChunks++;
      return;
    }
    const chunk = decodeAssetChunk(message, d.chunkBytes);
    if (chunk === null) return malformed('AssetChunk');
    const verdict = d.accept(chunk, clock.now());
    if (verdict === 'duplicate') return;
    if (verdict === 'out-of-order' || verdict === 'bad-length') {
      stats.outOfOrderChunks++;
      return malformed(`AssetChunk (${verdict})`);
    }
    stats.chunksReceived++;
    stats.wireBytesReceived += chunk.wireBytes;
    events.emit('progress', d.manifest, d.receivedBytes);
    if (verdict === 'complete')
      finish(d).catch((e: unknown) => onError?.(new NetError('InternalError', `asset check failed: ${e}`)));
  };

  const onResume = (v: unknown) => {
    const r = parseResume(v);
    if (r === null) return malformed('AssetResume');
    const up = uploads.get(r.hash);
    if (up === undefined) return outbox.push(encodeDone(r.hash, 'AssetUnavailable', 'not offered by this client'));
    streams.start(r.hash, up.bytes, up.offer.chunkBytes, r.fromChunk);
  };

  const onDone = (v: unknown) => {
    const d = parseDone(v);
    if (d === null) return malformed('AssetDone');
    const up = uploads.get(d.hash);
    if (up !== undefined) {
      uploads.delete(d.hash);
      streams.stop(d.hash);
      if (d.code === null) {
        stats.uploadsAccepted++;
        events.emit('uploaded', up.offer.manifest);
      } else {
        stats.refusedByServer++;
        fail(d.hash, d.code, `server refused asset ${up.offer.manifest.name}: ${d.why}`, false);
      }
    } else if (d.code !== null && downloads.delete(d.hash)) {
      stats.refusedByServer++;
      const e = catalog.get(d.hash);
      if (e && d.code === 'AssetBusy') {
        // Not a verdict on the asset: ask again a little later.
        stats.busyRetries++;
        e.notBeforeMs = clock.now() + BUSY_RETRY_MS;
        enqueue(e);
      } else {
        if (e) e.state = 'refused';
        fail(d.hash, d.code, `server refused the transfer: ${d.why}`, false);
        pump();
      }
    }
    count();
  };

  /** A new connection (the first, or after a reconnect): offers go again, pulls continue where they stopped. */
  const reconnected = (now: number) => {
    streams = new AssetStreams((uploadKbps * 1000) / 8, chunkBytes, now);
    // Receipts still go; offers and pulls are made again below from the current state.
    const receipts = outbox.filter((m) => readMessageTag(m) === Tag.AssetDone);
    outbox.length = 0;
    outbox.push(...receipts);
    for (const up of uploads.values()) outbox.push(encodeOffer(up.offer));
    for (const [hash, d] of downloads) {
      if (d.verifying) continue;
      d.lastActivityMs = now;
      d.resumedFrom = d.next;
      outbox.push(encodeResume(hash, d.next));
      if (d.next > 0) {
        stats.resumes++;
        stats.resumedChunks += d.next;
      }
    }
  };

  const checkStalls = (now: number) => {
    for (const [hash, d] of downloads) {
      if (d.verifying || now - d.lastActivityMs < stallMs) continue;
      downloads.delete(hash);
      stats.stalled++;
      const e = catalog.get(hash);
      if (e) e.state = 'refused';
      fail(hash, 'AssetUnavailable', `download of ${d.manifest.name} stalled for ${stallMs} ms`, true);
    }
    pump();
  };

  ctx.replicator.extensions.push({
    message(tag, message) {
      if (tag < Tag.AssetOffer || tag > Tag.AssetDone) return false;
      if (tag === Tag.AssetChunk) {
        onChunk(message);
        return true;
      }
      const decoded = decoder.decode(messageBody(message));
      if (!decoded.ok) malformed(`asset message (${decoded.error})`);
      else if (tag === Tag.AssetOffer) onOffer(decoded.value);
      else if (tag === Tag.AssetResume) onResume(decoded.value);
      else onDone(decoded.value);
      return true;
    },
    send(conn) {
      const now = clock.now();
      if (conn !== connection) {
        connection = conn;
        reconnected(now);
      }
      checkStalls(now);
      for (const m of outbox) conn.sendReliable(m);
      outbox.length = 0;
      if (streams.active.length > 0) {
        const deflate = session.welcome?.capabilities.includes('deflate') ?? false;
        streams.send(conn, deflate, now, stats);
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
      count();
      return manifest;
    },
    pull(hash) {
      const e = catalog.get(hash);
      if (e === undefined || (e.state !== 'offered' && e.state !== 'refused')) return false;
      if (e.offer.manifest.size > maxAssetBytes) return false;
      enqueue(e);
      return true;
    },
    get: (hash) => cache.get(hash),
    catalog: () => [...catalog.values()].map((e) => e.offer.manifest),
    progress: (hash) => downloads.get(hash)?.receivedBytes,
    stats: () => ({ ...stats }),
  };
}
