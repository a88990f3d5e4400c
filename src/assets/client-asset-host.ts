/**
 * State a client's asset layer shares between its parts (downloads of the server's offers, uploads of its own),
 * and the helpers they all use: counting, failing, reporting malformed input and the pull queue.
 */
import type { Clock } from '../clock.ts';
import { NetError, type ErrorCodeName, type ErrorHandler } from '../errors.ts';
import type { Emitter } from '../events.ts';
import type { ClientAssetEvents, ClientAssetStats } from './asset-api.ts';
import { AssetDownload } from './asset-download.ts';
import type { AssetManifest } from './asset-manifest.ts';
import type { AssetStreams } from './asset-stream.ts';
import { encodeDone, encodeResume, type AssetOffer } from './asset-wire.ts';
import type { ContentCache } from './content-cache.ts';

/** A server offer the client knows, and where its pull stands. */
export interface ClientAssetEntry {
  readonly offer: AssetOffer;
  state: 'offered' | 'queued' | 'pulling' | 'held' | 'refused';
  /** A pull the server refused as busy waits until then before it is asked again. */
  notBeforeMs: number;
}

/** The resolved limits of a client's asset layer. */
export interface ClientAssetSettings {
  readonly maxAssetBytes: number;
  readonly maxTransfers: number;
  readonly maxCatalog: number;
  readonly uploadKbps: number;
  readonly chunkBytes: number;
  readonly stallMs: number;
  readonly accept: (manifest: AssetManifest) => boolean;
}

/** What the parts of a client's asset layer share. */
export interface ClientAssetHost {
  readonly settings: ClientAssetSettings;
  readonly clock: Clock;
  readonly cache: ContentCache;
  readonly events: Emitter<ClientAssetEvents>;
  readonly catalog: Map<string, ClientAssetEntry>;
  readonly downloads: Map<string, AssetDownload>;
  readonly queue: string[];
  /** This client's offers not yet answered by the server: their bytes, and whether the offer went out. */
  readonly uploads: Map<string, { offer: AssetOffer; bytes: Uint8Array }>;
  /** Messages for the server, sent on the next `send`. */
  readonly outbox: Uint8Array[];
  /** Streams of this client's uploads; a new one per connection. */
  streams: AssetStreams;
  readonly stats: ClientAssetStats;
  readonly onError: ErrorHandler | undefined;
}

/** Zeroed counters of a client's asset layer. */
export function createClientAssetStats(): ClientAssetStats {
  return {
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
}

/** Refreshes the gauges among the stats. */
export function countClientAssets(host: ClientAssetHost): void {
  const { stats } = host;
  stats.catalog = host.catalog.size;
  stats.downloads = host.downloads.size;
  stats.queued = host.queue.length;
  stats.uploads = host.uploads.size;
}

/** Reports a failed transfer, and tells the server when `tell`. */
export function failAsset(host: ClientAssetHost, hash: string, code: ErrorCodeName, why: string, tell: boolean) {
  const e = new NetError(code, why);
  if (tell) host.outbox.push(encodeDone(hash, code, why));
  host.onError?.(e);
  host.events.emit('refused', hash, e);
}

/** Counts and reports a malformed asset message of the server. */
export function malformedServerAsset(host: ClientAssetHost, what: string): void {
  host.stats.malformed++;
  host.onError?.(new NetError('DecodeError', `server sent a malformed ${what}`));
}

/** Starts queued pulls while transfer slots are free. */
export function pumpPulls(host: ClientAssetHost): void {
  const { queue, catalog, downloads, clock } = host;
  const now = clock.now();
  for (let i = 0; i < queue.length && downloads.size < host.settings.maxTransfers;) {
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
    host.outbox.push(encodeResume(hash, 0));
  }
  countClientAssets(host);
}

/** Queues a pull of an entry and starts what fits. */
export function enqueuePull(host: ClientAssetHost, e: ClientAssetEntry): void {
  e.state = 'queued';
  host.queue.push(e.offer.manifest.hash);
  pumpPulls(host);
}
