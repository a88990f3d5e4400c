/**
 * The server's answers to a client: AssetResume pulls one of the client's uploads, AssetDone ends an upload or
 * refuses a pull; and what goes again on a new connection.
 */
import { readMessageTag } from '../codec/message-frame.ts';
import { Tag } from '../protocol/tags.ts';
import { AssetStreams } from './asset-stream.ts';
import { encodeDone, encodeOffer, encodeResume, parseDone, parseResume } from './asset-wire.ts';
import {
  countClientAssets,
  enqueuePull,
  failAsset,
  malformedServerAsset,
  pumpPulls,
  type ClientAssetHost,
} from './client-asset-host.ts';

/** Wait before pulling again an asset the server was too busy to send: a second, a few transfers' worth of chunks. */
const BUSY_RETRY_MS = 1000;

/** The server's AssetResume: stream one of this client's uploads from the chunk it asks for. */
export function onServerResume(host: ClientAssetHost, v: unknown): void {
  const r = parseResume(v);
  if (r === null) return malformedServerAsset(host, 'AssetResume');
  const up = host.uploads.get(r.hash);
  if (up === undefined) {
    host.outbox.push(encodeDone(r.hash, 'AssetUnavailable', 'not offered by this client'));
    return;
  }
  host.streams.start(r.hash, up.bytes, up.offer.chunkBytes, r.fromChunk);
}

/** The server's AssetDone: an upload taken or refused, or a pull refused (a busy one is asked again later). */
export function onServerDone(host: ClientAssetHost, v: unknown): void {
  const { stats, uploads, downloads } = host;
  const d = parseDone(v);
  if (d === null) return malformedServerAsset(host, 'AssetDone');
  const up = uploads.get(d.hash);
  if (up !== undefined) {
    uploads.delete(d.hash);
    host.streams.stop(d.hash);
    if (d.code === null) {
      stats.uploadsAccepted++;
      host.events.emit('uploaded', up.offer.manifest);
    } else {
      stats.refusedByServer++;
      failAsset(host, d.hash, d.code, `server refused asset ${up.offer.manifest.name}: ${d.why}`, false);
    }
  } else if (d.code !== null && downloads.delete(d.hash)) {
    stats.refusedByServer++;
    const e = host.catalog.get(d.hash);
    if (e && d.code === 'AssetBusy') {
      // Not a verdict on the asset: ask again a little later.
      stats.busyRetries++;
      e.notBeforeMs = host.clock.now() + BUSY_RETRY_MS;
      enqueuePull(host, e);
    } else {
      if (e) e.state = 'refused';
      failAsset(host, d.hash, d.code, `server refused the transfer: ${d.why}`, false);
      pumpPulls(host);
    }
  }
  countClientAssets(host);
}

/** A new connection (the first, or after a reconnect): offers go again, pulls continue where they stopped. */
export function assetsReconnected(host: ClientAssetHost, now: number): void {
  const { outbox, stats, settings } = host;
  host.streams = new AssetStreams((settings.uploadKbps * 1000) / 8, settings.chunkBytes, now);
  // Receipts still go; offers and pulls are made again below from the current state.
  const receipts = outbox.filter((m) => readMessageTag(m) === Tag.AssetDone);
  outbox.length = 0;
  outbox.push(...receipts);
  for (const up of host.uploads.values()) outbox.push(encodeOffer(up.offer));
  for (const [hash, d] of host.downloads) {
    if (d.verifying) continue;
    d.lastActivityMs = now;
    d.resumedFrom = d.next;
    outbox.push(encodeResume(hash, d.next));
    if (d.next > 0) {
      stats.resumes++;
      stats.resumedChunks += d.next;
    }
  }
}
