/**
 * Downloads of the server's offers: an AssetOffer enters the catalog and is taken from the cache, queued or
 * declined; its chunks fill an AssetDownload whose SHA-256 is checked before the bytes are cached and handed on.
 */
import { NetError } from '../errors.ts';
import { ASSET_HASH_BYTES, decodeAssetChunk } from './asset-chunk-wire.ts';
import type { AssetDownload } from './asset-download.ts';
import { hashHex } from './asset-manifest.ts';
import { encodeDone, parseOffer, type AssetOffer } from './asset-wire.ts';
import {
  countClientAssets,
  enqueuePull,
  failAsset,
  malformedServerAsset,
  pumpPulls,
  type ClientAssetEntry,
  type ClientAssetHost,
} from './client-asset-host.ts';

/** Keeps an offer; past `maxCatalog` the oldest finished entry goes, or the offer is dropped when none has. */
function remember(host: ClientAssetHost, offer: AssetOffer): ClientAssetEntry | undefined {
  const { catalog } = host;
  if (catalog.size >= host.settings.maxCatalog) {
    let victim: string | undefined;
    for (const [h, e] of catalog)
      if (e.state === 'held' || e.state === 'refused' || e.state === 'offered') {
        victim = h;
        break;
      }
    if (victim === undefined) {
      host.stats.catalogFull++;
      return undefined;
    }
    catalog.delete(victim);
  }
  const e: ClientAssetEntry = { offer, state: 'offered', notBeforeMs: 0 };
  catalog.set(offer.manifest.hash, e);
  return e;
}

/** The server's AssetOffer: remember it, then hand it on from the cache, queue its pull or decline it. */
export function onDownloadOffer(host: ClientAssetHost, v: unknown): void {
  const { stats, settings } = host;
  const offer = parseOffer(v);
  if (offer === null) return malformedServerAsset(host, 'AssetOffer');
  const m = offer.manifest;
  if (host.catalog.has(m.hash)) return; // re-offered on resume: held, under way or refused already
  const e = remember(host, offer);
  if (e === undefined) return;
  host.events.emit('offered', m);
  if (m.size > settings.maxAssetBytes) {
    stats.refusedTooLarge++;
    e.state = 'refused';
    const why = `asset ${m.name} of ${m.size} bytes (max ${settings.maxAssetBytes})`;
    return failAsset(host, m.hash, 'AssetTooLarge', why, false);
  }
  const bytes = host.cache.has(m.hash) ? host.cache.get(m.hash) : undefined;
  if (bytes !== undefined) {
    e.state = 'held';
    stats.fromCache++;
    host.outbox.push(encodeDone(m.hash));
    host.events.emit('received', { manifest: m, bytes, cached: true });
  } else if (settings.accept(m)) enqueuePull(host, e);
  else stats.declined++;
  countClientAssets(host);
}

/** Checks a complete download, caches and hands it on (or refuses it), and starts the next pull. */
async function finish(host: ClientAssetHost, d: AssetDownload): Promise<void> {
  const { stats } = host;
  const m = d.manifest;
  const ok = await d.verify();
  host.downloads.delete(m.hash);
  const e = host.catalog.get(m.hash);
  if (!ok) {
    stats.corrupt++;
    if (e) e.state = 'refused';
    failAsset(host, m.hash, 'AssetCorrupt', `asset ${m.name} does not hash to its SHA-256 ${m.hash}`, true);
  } else {
    if (e) e.state = 'held';
    stats.received++;
    host.cache.put(m.hash, d.bytes);
    host.outbox.push(encodeDone(m.hash));
    host.events.emit('received', { manifest: m, bytes: d.bytes, cached: false });
  }
  pumpPulls(host);
}

/** A chunk of a download; the last one starts the SHA-256 check. */
export function onDownloadChunk(host: ClientAssetHost, message: Uint8Array): void {
  const { stats } = host;
  const d = message.length >= 2 + ASSET_HASH_BYTES ? host.downloads.get(hashHex(message.subarray(2, 34))) : undefined;
  if (d === undefined) {
    stats.unsolicitedChunks++;
    return;
  }
  const chunk = decodeAssetChunk(message, d.chunkBytes);
  if (chunk === null) return malformedServerAsset(host, 'AssetChunk');
  const verdict = d.accept(chunk, host.clock.now());
  if (verdict === 'duplicate') return;
  if (verdict === 'out-of-order' || verdict === 'bad-length') {
    stats.outOfOrderChunks++;
    return malformedServerAsset(host, `AssetChunk (${verdict})`);
  }
  stats.chunksReceived++;
  stats.wireBytesReceived += chunk.wireBytes;
  host.events.emit('progress', d.manifest, d.receivedBytes);
  if (verdict === 'complete')
    finish(host, d).catch((e: unknown) => host.onError?.(new NetError('InternalError', `asset check failed: ${e}`)));
}

/** Drops downloads that received nothing for `stallMs`, and starts the next pulls. */
export function checkDownloadStalls(host: ClientAssetHost, now: number): void {
  const { stallMs } = host.settings;
  for (const [hash, d] of host.downloads) {
    if (d.verifying || now - d.lastActivityMs < stallMs) continue;
    host.downloads.delete(hash);
    host.stats.stalled++;
    const e = host.catalog.get(hash);
    if (e) e.state = 'refused';
    failAsset(host, hash, 'AssetUnavailable', `download of ${d.manifest.name} stalled for ${stallMs} ms`, true);
  }
  pumpPulls(host);
}
