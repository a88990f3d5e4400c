import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_DEFLATED,
  CHUNK_HEADER_BYTES,
  decodeAssetChunk,
  encodeAssetChunk,
} from '../../src/assets/asset-chunk-wire.ts';
import { hashBytes, hashHex, parseManifest, sha256 } from '../../src/assets/asset-manifest.ts';
import { ContentCache } from '../../src/assets/content-cache.ts';
import { createRandom } from '../../src/random.ts';

const hash = new Uint8Array(32).map((_, i) => i * 7);
const FLAGS_AT = CHUNK_HEADER_BYTES - 5;

function noise(n: number, seed = 1): Uint8Array {
  const rnd = createRandom(seed);
  return new Uint8Array(n).map(() => rnd.int(256));
}

describe('AssetChunk codec', () => {
  it('round-trips raw and deflated chunks, deflating only when it pays', () => {
    const text = new TextEncoder().encode('glTF '.repeat(2000));
    const packed = encodeAssetChunk(hash, 3, text, true);
    expect(packed[FLAGS_AT]).toBe(CHUNK_DEFLATED);
    expect(packed.length).toBeLessThan(text.length / 4);
    const a = decodeAssetChunk(packed, 16_384)!;
    expect(a.index).toBe(3);
    expect([...a.hash]).toEqual([...hash]);
    expect(a.data).toEqual(text);

    const random = noise(4096);
    const raw = encodeAssetChunk(hash, 0, random, true);
    expect(raw[FLAGS_AT]).toBe(0);
    expect(decodeAssetChunk(raw, 16_384)!.data).toEqual(random);
  });

  it('refuses every malformed chunk with null, never a throw', () => {
    const good = encodeAssetChunk(hash, 1, noise(100), false);
    expect(decodeAssetChunk(good.subarray(0, CHUNK_HEADER_BYTES - 1), 16_384)).toBeNull();
    const badFlags = good.slice();
    badFlags[FLAGS_AT] = 0x82;
    expect(decodeAssetChunk(badFlags, 16_384)).toBeNull();
    expect(decodeAssetChunk(good, 99)).toBeNull(); // raw length over the cap
    expect(decodeAssetChunk(good.subarray(0, good.length - 1), 16_384)).toBeNull(); // length mismatch
    const corrupt = encodeAssetChunk(hash, 1, new Uint8Array(5000), true);
    corrupt.fill(0xff, CHUNK_HEADER_BYTES, CHUNK_HEADER_BYTES + 8);
    expect(() => decodeAssetChunk(corrupt, 16_384)).not.toThrow();
    expect(decodeAssetChunk(corrupt, 16_384)).toBeNull();
  });

  it('never inflates past the declared raw length (a deflate bomb stays bounded)', () => {
    const bomb = deflateSync(new Uint8Array(4 * 1024 * 1024));
    const msg = new Uint8Array(CHUNK_HEADER_BYTES + bomb.length);
    msg.set(encodeAssetChunk(hash, 0, new Uint8Array(64).fill(1), false).subarray(0, CHUNK_HEADER_BYTES));
    msg[FLAGS_AT] = CHUNK_DEFLATED;
    new DataView(msg.buffer).setUint32(CHUNK_HEADER_BYTES - 4, 64, true);
    msg.set(bomb, CHUNK_HEADER_BYTES);
    const out = decodeAssetChunk(msg, 16_384);
    // Either refused or cut at the declared 64 bytes: never 4 MiB.
    expect(out === null || out.data.length === 64).toBe(true);
  });
});

describe('asset manifest and content cache', () => {
  it('hashes with WebCrypto SHA-256 and validates offers', async () => {
    const h = hashHex(await sha256(new TextEncoder().encode('abc')));
    expect(h).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashHex(hashBytes(h)!)).toBe(h);
    expect(hashBytes('xyz')).toBeNull();
    const body = { h: hashBytes(h), s: 3, m: 'model/gltf-binary', n: 'abc.glb' };
    expect(parseManifest(body)).toEqual({ hash: h, size: 3, mime: 'model/gltf-binary', name: 'abc.glb' });
    expect(parseManifest({ ...body, s: -1 })).toBeNull();
    expect(parseManifest({ ...body, s: 1.5 })).toBeNull();
    expect(parseManifest({ ...body, h: new Uint8Array(31) })).toBeNull();
    expect(parseManifest({ ...body, n: 'x'.repeat(129) })).toBeNull();
    expect(parseManifest(null)).toBeNull();
  });

  it('is bounded by bytes: evicts the least recently used, refuses what alone exceeds the bound', () => {
    const cache = new ContentCache(1000);
    expect(cache.put('a', new Uint8Array(400))).toBe(true);
    expect(cache.put('b', new Uint8Array(400))).toBe(true);
    expect(cache.has('a')).toBe(true); // a is now the most recent
    expect(cache.put('c', new Uint8Array(400))).toBe(true); // evicts b
    expect(cache.has('b')).toBe(false);
    expect(cache.get('a')?.length).toBe(400);
    expect(cache.stats).toMatchObject({ entries: 2, bytes: 800, evictions: 1, hits: 1, misses: 1 });
    expect(cache.put('huge', new Uint8Array(1001))).toBe(false);
    expect(cache.stats.tooLarge).toBe(1);
    expect(cache.stats.bytes).toBeLessThanOrEqual(cache.maxBytes);
  });
});
