/**
 * Pulls from the server: a client's AssetResume starts (or continues) streaming a catalog asset to it, and its
 * AssetDone ends the transfer, either way.
 */
import type { ServerPeer } from '../session/server-peer.ts';
import { chunkCount, parseDone, parseResume } from './asset-wire.ts';
import { countAssets, malformedAsset, refuseAsset, totalTransfers, type ServerAssetHost } from './server-asset-host.ts';

/** A client's AssetResume: stream the asset from the chunk it asks for, unless unknown or too busy. */
export function onPullResume(host: ServerAssetHost, peer: ServerPeer, v: unknown): void {
  const { stats, settings } = host;
  const { chunkBytes, perClient, maxTransfers } = settings;
  const r = parseResume(v);
  if (r === null) return malformedAsset(host, peer, 'AssetResume');
  const offer = host.catalog.get(r.hash);
  const bytes = offer && host.cache.get(r.hash);
  if (offer === undefined || bytes === undefined) {
    stats.unavailable++;
    return refuseAsset(host, peer, r.hash, 'AssetUnavailable', `asset ${r.hash} is not held by the server`);
  }
  if (r.fromChunk > chunkCount(bytes.length, chunkBytes))
    return malformedAsset(host, peer, 'AssetResume (past the end)');
  const s = host.streams.get(peer.clientId);
  if (s === undefined) return;
  if (s.find(r.hash) === undefined && (s.active.length >= perClient || totalTransfers(host) >= maxTransfers)) {
    stats.refusedBusy++;
    return refuseAsset(
      host,
      peer,
      r.hash,
      'AssetBusy',
      `too many concurrent asset transfers (${perClient} per client)`,
    );
  }
  s.start(r.hash, bytes, chunkBytes, r.fromChunk);
  if (r.fromChunk > 0) stats.resumes++;
  else stats.pulls++;
  countAssets(host);
}

/** A client's AssetDone: a download delivered or refused, or an upload its uploader cannot serve after all. */
export function onPullDone(host: ServerAssetHost, peer: ServerPeer, v: unknown): void {
  const { stats, uploads } = host;
  const d = parseDone(v);
  if (d === null) return malformedAsset(host, peer, 'AssetDone');
  host.streams.get(peer.clientId)?.stop(d.hash);
  const up = uploads.get(d.hash);
  if (d.code === null) {
    const m = host.catalog.get(d.hash)?.manifest;
    if (m) {
      stats.downloadsDone++;
      host.events.emit('delivered', m, peer.clientId);
    }
  } else {
    stats.clientRefusals++;
    // The uploader cannot serve its offer after all: the upload ends.
    if (up && up.download.from === peer.clientId && !up.download.verifying) uploads.delete(d.hash);
  }
  countAssets(host);
}
