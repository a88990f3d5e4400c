/**
 * One asset being received: a buffer of its declared size (allocated once, after the size was checked against the
 * limit), filled chunk by chunk in order. Chunks arrive on the reliable ordered lane, so `next` is also the resume
 * token: after a reconnect the transfer continues from the first chunk not yet received. Once full, the bytes are
 * checked against the offered SHA-256 (WebCrypto) before anyone sees them.
 */
import type { AssetChunk } from './asset-chunk-wire.ts';
import { hashHex, sha256, type AssetManifest } from './asset-manifest.ts';
import { chunkCount } from './asset-wire.ts';

/** What a chunk did to a download. */
export type ChunkVerdict = 'stored' | 'complete' | 'duplicate' | 'out-of-order' | 'bad-length';

/** An asset being received. */
export class AssetDownload {
  readonly bytes: Uint8Array;
  readonly chunks: number;
  /** Chunks received in order: the next chunk expected, and the resume point. */
  next = 0;
  /** The chunk a (re)started pull asked for last: what a resume did not have to send again. */
  resumedFrom = 0;
  /** True once every chunk arrived (hash check under way or done). */
  verifying = false;

  constructor(
    readonly manifest: AssetManifest,
    readonly chunkBytes: number,
    /** Client id of the peer the chunks come from (0 = the server). */
    readonly from: number,
    /** Clock time of the last chunk (or of the start): stalled transfers are dropped. */
    public lastActivityMs: number,
  ) {
    this.bytes = new Uint8Array(manifest.size);
    this.chunks = chunkCount(manifest.size, chunkBytes);
  }

  /** Bytes received so far. */
  get receivedBytes(): number {
    return Math.min(this.manifest.size, this.next * this.chunkBytes);
  }

  /** Stores a decoded chunk if it is the next one and has the length its position implies. */
  accept(chunk: AssetChunk, now: number): ChunkVerdict {
    if (this.verifying || chunk.index < this.next) return 'duplicate';
    if (chunk.index !== this.next) return 'out-of-order';
    const start = chunk.index * this.chunkBytes;
    const expected = Math.min(this.chunkBytes, this.manifest.size - start);
    if (chunk.data.length !== expected) return 'bad-length';
    this.bytes.set(chunk.data, start);
    this.next++;
    this.lastActivityMs = now;
    if (this.next < this.chunks) return 'stored';
    this.verifying = true;
    return 'complete';
  }

  /** True when the received bytes hash to the offered SHA-256. */
  async verify(): Promise<boolean> {
    return hashHex(await sha256(this.bytes)) === this.manifest.hash;
  }
}
