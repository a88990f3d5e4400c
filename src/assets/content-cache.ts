/**
 * A content-addressed cache of verified assets, keyed by SHA-256 hex and bounded by bytes: inserting past the
 * bound evicts the least recently used entries. A receiver asks it before pulling, so a cached asset is never
 * transferred twice. Share one cache between sessions to keep assets across reconnects.
 */

/** Default cache bound: 64 MiB holds a room's worth of glTF models and textures on a headset. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

/** Counters of a content cache. */
export interface ContentCacheStats {
  /** Assets held now. */
  entries: number;
  /** Bytes held now, at most `maxBytes`. */
  bytes: number;
  /** Lookups that found the asset. */
  hits: number;
  /** Lookups that did not find the asset. */
  misses: number;
  /** Entries dropped, least recently used first, to make room for newer ones. */
  evictions: number;
  /** Assets refused because they alone exceed the bound. */
  tooLarge: number;
}

/** A cache of verified asset bytes by hash, bounded by `maxBytes`. */
export class ContentCache {
  private readonly entries = new Map<string, Uint8Array>();
  /** The cache's counters, updated in place. */
  readonly stats: ContentCacheStats = { entries: 0, bytes: 0, hits: 0, misses: 0, evictions: 0, tooLarge: 0 };

  /** Creates an empty cache bounded by `maxBytes` bytes (default 64 MiB). */
  constructor(
    /** Bound of the cache, in bytes (default 64 MiB). */
    readonly maxBytes: number = DEFAULT_CACHE_BYTES,
  ) {}

  /** True when the asset `hash` is cached (counts a hit or a miss, and refreshes its age). */
  has(hash: string): boolean {
    const bytes = this.entries.get(hash);
    if (bytes === undefined) {
      this.stats.misses++;
      return false;
    }
    this.stats.hits++;
    this.entries.delete(hash);
    this.entries.set(hash, bytes);
    return true;
  }

  /** The cached bytes of `hash`, or undefined. */
  get(hash: string): Uint8Array | undefined {
    return this.entries.get(hash);
  }

  /** Stores verified bytes; false when they alone exceed the bound. Evicts the oldest entries to make room. */
  put(hash: string, bytes: Uint8Array): boolean {
    if (bytes.length > this.maxBytes) {
      this.stats.tooLarge++;
      return false;
    }
    const old = this.entries.get(hash);
    if (old !== undefined) {
      this.entries.delete(hash);
      this.stats.bytes -= old.length;
    }
    while (this.stats.bytes + bytes.length > this.maxBytes) {
      const [oldest, b] = this.entries.entries().next().value as [string, Uint8Array];
      this.entries.delete(oldest);
      this.stats.bytes -= b.length;
      this.stats.evictions++;
    }
    this.entries.set(hash, bytes);
    this.stats.bytes += bytes.length;
    this.stats.entries = this.entries.size;
    return true;
  }
}
