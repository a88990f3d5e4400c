/**
 * State the server's asset layer shares between its parts (uploads from clients, pulls by clients), and the few
 * helpers they all use: counting, refusing, reporting malformed input and publishing to the catalog.
 */
import { NetError, type ErrorCodeName, type ErrorHandler } from '../errors.ts';
import type { Emitter } from '../events.ts';
import type { Sender } from '../authority/roles.ts';
import type { PeerReplication } from '../replication/peer-replication.ts';
import type { ServerPeer } from '../session/server-peer.ts';
import type { ServerAssetEvents, ServerAssetStats } from './asset-api.ts';
import type { AssetDownload } from './asset-download.ts';
import type { AssetStreams } from './asset-stream.ts';
import { encodeDone, encodeOffer, type AssetOffer } from './asset-wire.ts';
import type { ContentCache } from './content-cache.ts';

/** An upload from a client under way. */
export interface ServerUpload {
  readonly download: AssetDownload;
  /** Clients that offered this asset and wait for its AssetDone. */
  readonly offerers: Set<number>;
}

/** The resolved limits of the server's asset layer. */
export interface ServerAssetSettings {
  readonly maxAssetBytes: number;
  readonly chunkBytes: number;
  readonly perClient: number;
  readonly maxTransfers: number;
  readonly maxCatalog: number;
  readonly maxUploadBytes: number;
  readonly stallMs: number;
  readonly offerRoles: readonly Sender[];
}

/** What the parts of the server's asset layer share. */
export interface ServerAssetHost {
  readonly settings: ServerAssetSettings;
  readonly cache: ContentCache;
  readonly events: Emitter<ServerAssetEvents>;
  readonly catalog: Map<string, AssetOffer>;
  readonly uploads: Map<string, ServerUpload>;
  readonly streams: Map<number, AssetStreams>;
  readonly stats: ServerAssetStats;
  readonly peers: ReadonlyMap<number, PeerReplication>;
  readonly onError: ErrorHandler | undefined;
}

/** Zeroed counters of the server's asset layer. */
export function createServerAssetStats(): ServerAssetStats {
  return {
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
}

/** Whether a peer is connected (not waiting to resume). */
export const isLive = (p: ServerPeer): boolean => p.state === 'connected';

/** Uploads under way from one client. */
export function transfersOf(host: ServerAssetHost, id: number): number {
  let n = 0;
  for (const u of host.uploads.values()) if (u.download.from === id) n++;
  return n;
}

/** Transfers under way both ways, all clients. */
export function totalTransfers(host: ServerAssetHost): number {
  let n = host.uploads.size;
  for (const s of host.streams.values()) n += s.active.length;
  return n;
}

/** Bytes the uploads under way hold. */
export function uploadBytes(host: ServerAssetHost): number {
  let n = 0;
  for (const u of host.uploads.values()) n += u.download.manifest.size;
  return n;
}

/** Refreshes the gauges among the stats. */
export function countAssets(host: ServerAssetHost): void {
  const { stats } = host;
  stats.catalog = host.catalog.size;
  stats.uploads = host.uploads.size;
  stats.uploadBytes = uploadBytes(host);
  stats.downloads = totalTransfers(host) - host.uploads.size;
}

/** Tells a client its transfer is refused, and reports it. */
export function refuseAsset(host: ServerAssetHost, peer: ServerPeer, hash: string, code: ErrorCodeName, why: string) {
  peer.connection.sendReliable(encodeDone(hash, code, why));
  const e = new NetError(code, `client ${peer.clientId}: ${why}`);
  host.onError?.(e);
  host.events.emit('refused', peer.clientId, e);
}

/** Counts and reports a malformed asset message of a client. */
export function malformedAsset(host: ServerAssetHost, peer: ServerPeer, what: string): void {
  host.stats.malformed++;
  peer.counters.decodeErrors++; // the session disconnects a peer that keeps sending bad data
  host.onError?.(new NetError('DecodeError', `client ${peer.clientId}: malformed ${what}`));
}

/** Adds a held asset to the catalog (the oldest leaves when full) and offers it to every connected client. */
export function publishAsset(host: ServerAssetHost, offer: AssetOffer, except: number): void {
  const { catalog } = host;
  const hash = offer.manifest.hash;
  if (!catalog.has(hash)) {
    if (catalog.size >= host.settings.maxCatalog) {
      catalog.delete(catalog.keys().next().value as string);
      host.stats.catalogEvicted++;
    }
    catalog.set(hash, offer);
    const message = encodeOffer(offer);
    for (const p of host.peers.values())
      if (p.peer.clientId !== except && isLive(p.peer)) p.peer.connection.sendReliable(message);
  }
  countAssets(host);
}
