/**
 * Uploads to the server: a client's AssetOffer is refused, answered from the cache or pulled with AssetResume; its
 * chunks fill an AssetDownload whose SHA-256 is checked before the asset is cached and published.
 */
import { NetError } from '../errors.ts';
import { senderAllowed } from '../authority/roles.ts';
import type { ServerPeer } from '../session/server-peer.ts';
import { decodeAssetChunk } from './asset-chunk-wire.ts';
import { AssetDownload } from './asset-download.ts';
import { hashHex } from './asset-manifest.ts';
import { encodeDone, encodeResume, parseOffer } from './asset-wire.ts';
import {
  countAssets,
  isLive,
  malformedAsset,
  publishAsset,
  refuseAsset,
  totalTransfers,
  transfersOf,
  uploadBytes,
  type ServerAssetHost,
  type ServerUpload,
} from './server-asset-host.ts';

/** Checks a verified upload, caches and publishes it, and answers its offerers. */
async function finishUpload(host: ServerAssetHost, up: ServerUpload): Promise<void> {
  const { stats } = host;
  const d = up.download;
  const ok = await d.verify();
  host.uploads.delete(d.manifest.hash);
  const peers = [...up.offerers].map((id) => host.peers.get(id)?.peer).filter((p) => p !== undefined);
  if (!ok) {
    stats.corrupt++;
    const why = `asset ${d.manifest.name} does not hash to its SHA-256 ${d.manifest.hash}`;
    for (const p of peers) refuseAsset(host, p, d.manifest.hash, 'AssetCorrupt', why);
    countAssets(host);
    return;
  }
  stats.uploadsVerified++;
  if (!host.cache.put(d.manifest.hash, d.bytes)) {
    for (const p of peers)
      refuseAsset(host, p, d.manifest.hash, 'AssetTooLarge', `asset ${d.manifest.name} exceeds the cache`);
    stats.refusedTooLarge++;
    countAssets(host);
    return;
  }
  for (const p of peers) if (isLive(p)) p.connection.sendReliable(encodeDone(d.manifest.hash));
  publishAsset(host, { manifest: d.manifest, chunkBytes: host.settings.chunkBytes }, d.from);
  host.events.emit('added', d.manifest, d.from);
}

/** A client's AssetOffer: refuse it, take it from the cache, continue its upload or start pulling it. */
export function onUploadOffer(host: ServerAssetHost, peer: ServerPeer, v: unknown, now: number): void {
  const { stats, uploads, settings } = host;
  const { maxAssetBytes, perClient, maxTransfers, maxUploadBytes, chunkBytes } = settings;
  const offer = parseOffer(v);
  if (offer === null) return malformedAsset(host, peer, 'AssetOffer');
  const { hash, size, name } = offer.manifest;
  if (!senderAllowed(settings.offerRoles, peer.role, false)) {
    stats.refusedForbidden++;
    return refuseAsset(host, peer, hash, 'AssetForbidden', `role ${peer.role} may not offer assets`);
  }
  if (size > maxAssetBytes) {
    stats.refusedTooLarge++;
    return refuseAsset(host, peer, hash, 'AssetTooLarge', `asset ${name} of ${size} bytes (max ${maxAssetBytes})`);
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
  if (host.cache.has(hash)) {
    stats.offersHeld++;
    peer.connection.sendReliable(encodeDone(hash));
    return publishAsset(host, { manifest: offer.manifest, chunkBytes }, peer.clientId);
  }
  if (transfersOf(host, peer.clientId) >= perClient || totalTransfers(host) >= maxTransfers) {
    stats.refusedBusy++;
    return refuseAsset(host, peer, hash, 'AssetBusy', `too many concurrent asset transfers (${perClient} per client)`);
  }
  if (uploadBytes(host) + size > maxUploadBytes) {
    stats.refusedBusy++;
    return refuseAsset(host, peer, hash, 'AssetBusy', `uploads under way hold ${maxUploadBytes} bytes already`);
  }
  const download = new AssetDownload(offer.manifest, offer.chunkBytes, peer.clientId, now);
  uploads.set(hash, { download, offerers: new Set([peer.clientId]) });
  peer.connection.sendReliable(encodeResume(hash, 0));
  stats.pulls++;
  countAssets(host);
}

/** A chunk of an upload; the last one starts the SHA-256 check. */
export function onUploadChunk(host: ServerAssetHost, peer: ServerPeer, message: Uint8Array, now: number): void {
  const { stats } = host;
  // The hash sits right after the tag: find the upload first, so the decoder knows its chunk size.
  const up = message.length >= 34 ? host.uploads.get(hashHex(message.subarray(2, 34))) : undefined;
  if (up === undefined || up.download.from !== peer.clientId) {
    stats.unsolicitedChunks++;
    return;
  }
  const chunk = decodeAssetChunk(message, up.download.chunkBytes);
  if (chunk === null) return malformedAsset(host, peer, 'AssetChunk');
  const verdict = up.download.accept(chunk, now);
  if (verdict === 'duplicate') return;
  if (verdict === 'out-of-order' || verdict === 'bad-length') {
    stats.outOfOrderChunks++;
    return malformedAsset(host, peer, `AssetChunk (${verdict})`);
  }
  stats.chunksReceived++;
  if (verdict === 'complete')
    finishUpload(host, up).catch((e: unknown) =>
      host.onError?.(new NetError('InternalError', `asset check failed: ${e}`)),
    );
}
