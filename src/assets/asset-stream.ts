/**
 * The sending side of transfers to one peer: the assets it pulled, each from the chunk it asked for, sent as
 * AssetChunks on the reliable lane, round robin, paced by a token bucket that holds only the assets' share of
 * the peer's bandwidth, and never more than a few chunks queued on the connection (so a transfer cannot fill the
 * reliable queue, and poses and state keep flowing beside it).
 */
import type { Connection } from '../connection/connection.ts';
import { TokenBucket } from '../session/rate-limiter.ts';
import { encodeAssetChunk } from './asset-chunk-wire.ts';
import { hashBytes } from './asset-manifest.ts';
import { chunkCount } from './asset-wire.ts';

/** Chunks queued on a connection at most (unacked included): enough to fill the window at a 100 ms round trip. */
export const ASSET_QUEUED_CHUNKS = 4;
/** Tokens a stream's bucket saves up: a quarter second of its rate (an idle peer cannot burst for long). */
const BUCKET_SECONDS = 0.25;

/** One asset being sent. */
export interface OutgoingAsset {
  readonly hash: string;
  readonly hashRaw: Uint8Array;
  readonly bytes: Uint8Array;
  readonly chunkBytes: number;
  readonly chunks: number;
  /** The next chunk to send. */
  next: number;
}

/** Counters a stream raises. */
export interface StreamCounters {
  chunksSent: number;
  /** Bytes of chunk data on the wire (after deflate) and before it. */
  wireBytesSent: number;
  rawBytesSent: number;
  /** Ticks a chunk waited for tokens or for room in the connection's queue. */
  paced: number;
}

/** The transfers to one peer and their pacing. */
export class AssetStreams {
  readonly active: OutgoingAsset[] = [];
  private readonly bucket: TokenBucket;
  private turn = 0;

  constructor(
    bytesPerSec: number,
    private readonly maxChunkBytes: number,
    nowMs: number,
  ) {
    this.bucket = new TokenBucket(bytesPerSec, Math.max(maxChunkBytes, bytesPerSec * BUCKET_SECONDS), nowMs);
  }

  /** The transfer of `hash`, if any. */
  find(hash: string): OutgoingAsset | undefined {
    return this.active.find((a) => a.hash === hash);
  }

  /** Starts (or restarts) sending `bytes` from chunk `from` (nothing to send when `from` is past the end). */
  start(hash: string, bytes: Uint8Array, chunkBytes: number, from: number): OutgoingAsset {
    this.stop(hash);
    const chunks = chunkCount(bytes.length, chunkBytes);
    const a: OutgoingAsset = { hash, hashRaw: hashBytes(hash)!, bytes, chunkBytes, chunks, next: from };
    if (from < chunks) this.active.push(a);
    return a;
  }

  /** Stops sending `hash`; true when it was being sent. */
  stop(hash: string): boolean {
    const i = this.active.findIndex((a) => a.hash === hash);
    if (i < 0) return false;
    this.active.splice(i, 1);
    return true;
  }

  /** Queues the chunks the tokens and the connection's queue allow; transfers whose last chunk went are removed. */
  send(connection: Connection, deflate: boolean, now: number, counters: StreamCounters): void {
    const room = ASSET_QUEUED_CHUNKS * (this.maxChunkBytes + 64);
    while (this.active.length > 0) {
      // The bucket may go one chunk into debt: the average rate holds, and a chunk is never split across ticks.
      if (connection.reliablePendingBytes >= room || !this.bucket.take(0, now) || this.bucket.tokens <= 0) {
        counters.paced++;
        return;
      }
      this.turn %= this.active.length;
      const a = this.active[this.turn];
      const start = a.next * a.chunkBytes;
      const raw = a.bytes.subarray(start, Math.min(a.bytes.length, start + a.chunkBytes));
      const message = encodeAssetChunk(a.hashRaw, a.next, raw, deflate);
      this.bucket.take(message.length, now);
      connection.sendReliable(message);
      counters.chunksSent++;
      counters.rawBytesSent += raw.length;
      counters.wireBytesSent += message.length;
      if (++a.next >= a.chunks) this.active.splice(this.turn, 1);
      else this.turn++;
    }
  }
}
