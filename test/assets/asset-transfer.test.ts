/**
 * Asset streaming over the memory network with the link conditioner: a client's multi-MB asset reaches another
 * client intact under 10 % loss, paced below the bandwidth cap; a transfer cut by a disconnect continues after the
 * reconnect from the last chunk received; a tampered chunk is caught by the SHA-256 check (refused, never handed
 * on); an asset the receiver's cache holds is not sent again.
 */
import { describe, expect, it } from 'vitest';
import { ContentCache, MAX_ASSET_CHUNK_BYTES, type Link, type LinkConditions } from '../../src/index.ts';
import { assetRoom, noise, same, watch } from './asset-room.ts';

const LOSSY: LinkConditions = { latencyMs: 30, jitterMs: 10, loss: 0.1 };
const CHUNK_TAG = [0x59, 0x1b]; // 7001, little-endian

/** A link whose incoming packets pass `tamper` first (it may change them in place). */
function tampering(inner: Link, tamper: (p: Uint8Array) => void): Link {
  const outer: Link = {
    get mtuBytes() {
      return inner.mtuBytes;
    },
    get isOpen() {
      return inner.isOpen;
    },
    send: (p) => inner.send(p),
    close: (r) => inner.close(r),
    onpacket: null,
    onclose: null,
  };
  inner.onpacket = (p) => {
    tamper(p);
    outer.onpacket?.(p);
  };
  inner.onclose = (r) => outer.onclose?.(r);
  return outer;
}

/** Flips one data byte of the first AssetChunk with `index` of asset `hash` seen in a packet; once. */
function chunkTamper(hash: () => string | null, index: number) {
  const state = { done: false };
  const tamper = (p: Uint8Array) => {
    const h = hash();
    if (state.done || h === null) return;
    const needle = [...CHUNK_TAG, ...h.match(/../g)!.map((x) => parseInt(x, 16))];
    outer: for (let i = 0; i + needle.length + 60 < p.length; i++) {
      for (let k = 0; k < needle.length; k++) if (p[i + k] !== needle[k]) continue outer;
      const at = i + needle.length;
      if (new DataView(p.buffer, p.byteOffset).getUint32(at, true) !== index) continue;
      p[at + 9 + 20] ^= 0x5a; // index u32, flags u8, raw length u32, then data
      state.done = true;
      return;
    }
  };
  return { tamper, state };
}

describe('asset streaming over the memory network', () => {
  it('a 3 MiB asset offered by a client reaches another client intact under 10 % loss, below the cap', async () => {
    const { s, server, join, run } = assetRoom({ bandwidthKbps: 8000 });
    const a = join({ conditions: LOSSY });
    const b = join({ conditions: LOSSY });
    const seenB = watch(b.assets);
    const seenA = watch(a.assets);
    await run(60);
    const bytes = noise(3 * 1024 * 1024, 5);
    bytes.fill(7, 0, 512 * 1024); // a compressible part: those chunks are deflated
    const m = await a.assets.offer(bytes, { name: 'big.glb', mime: 'model/gltf-binary' });
    let uploadedAtMs = -1;
    let lastChunkAtMs = -1;
    server.events.on('added', () => (uploadedAtMs = s.clock.now()));
    b.assets.events.on('progress', (x, n) => n === x.size && (lastChunkAtMs = s.clock.now()));
    await run(3000, () => seenB.received.length > 0);
    expect(seenA.uploaded).toEqual([m.hash]);
    expect(seenB.received).toHaveLength(1);
    expect(seenB.received[0].cached).toBe(false);
    expect(same(seenB.received[0].bytes, bytes)).toBe(true);
    expect(same(b.assets.get(m.hash), bytes)).toBe(true);
    const st = server.stats();
    expect(st.uploadsVerified).toBe(1);
    expect(st.corrupt).toBe(0);
    expect(st.wireBytesSent).toBeLessThan(st.rawBytesSent); // deflate paid on the compressible part
    // Paced at half the 8,000 kbps cap (500 kB/s): 3 MiB to B takes at least ~5 s, and the share was respected.
    const seconds = (lastChunkAtMs - uploadedAtMs) / 1000;
    expect(st.wireBytesSent / seconds).toBeLessThan(500_000 * 1.1);
    expect(st.paced).toBeGreaterThan(0);
    expect(b.peer.errors).toEqual([]);
  }, 60_000);

  it('a download is paced at the asset share of the bandwidth cap (half by default), whatever the link allows', async () => {
    const { s, server, join, run } = assetRoom({ bandwidthKbps: 4000 });
    const b = join({ conditions: { latencyMs: 5 } });
    const seen = watch(b.assets);
    await run(60);
    const bytes = noise(1024 * 1024, 2);
    await server.offer(bytes, { name: 'paced.glb', mime: 'model/gltf-binary' });
    const t0 = s.clock.now();
    let lastChunkAtMs = 0;
    b.assets.events.on('progress', (m, n) => n === m.size && (lastChunkAtMs = s.clock.now()));
    await run(3000, () => seen.received.length > 0);
    // Up to the last chunk (the hash check after it runs in real time while the manual clock goes on).
    const rate = bytes.length / ((lastChunkAtMs - t0) / 1000);
    // 4,000 kbps = 500 kB/s; the assets' half is 250 kB/s (the bucket's quarter-second burst on top).
    expect(rate).toBeGreaterThan(250_000 * 0.85);
    expect(rate).toBeLessThan(250_000 * 1.15);
  });

  it('a transfer cut by a disconnect resumes after the reconnect from the last chunk received', async () => {
    const { s, server, join, run } = assetRoom({ bandwidthKbps: 2000 });
    const b = join();
    const seen = watch(b.assets);
    await run(60);
    const bytes = noise(1024 * 1024, 9);
    const m = await server.offer(bytes, { name: 'mid.glb', mime: 'model/gltf-binary' });
    const chunks = Math.ceil(bytes.length / MAX_ASSET_CHUNK_BYTES);
    await run(2000, () => (b.assets.progress(m.hash) ?? 0) > bytes.length * 0.4);
    const before = b.assets.progress(m.hash)!;
    expect(before).toBeLessThan(bytes.length * 0.6);
    s.network.cut(b.links[0]);
    // Silence is noticed after 3 heartbeats; the client reconnects on a new link and resumes its session.
    await run(1200, () => b.links.length > 1 && b.assets.stats().resumes > 0);
    expect(b.links.length).toBe(2);
    await run(3000, () => seen.received.length > 0);
    expect(same(seen.received[0]?.bytes, bytes)).toBe(true);
    const cs = b.assets.stats();
    expect(cs.resumes).toBe(1);
    expect(cs.resumedChunks).toBe(before / MAX_ASSET_CHUNK_BYTES);
    const st = server.stats();
    expect(st.resumes).toBe(1);
    expect(st.pulls).toBe(1);
    // Only what was queued on the dead link went twice: far from a restart at chunk 0.
    expect(st.chunksSent).toBeLessThan(chunks + 8);
    expect(st.chunksSent).toBeGreaterThanOrEqual(chunks);
  }, 60_000);

  it('a chunk tampered on the way to a client is caught by the SHA-256 check: refused, never handed on', async () => {
    const { server, join, run } = assetRoom();
    let hash: string | null = null;
    const t = chunkTamper(() => hash, 3);
    const b = join({ wrap: (l) => tampering(l, t.tamper) });
    const seen = watch(b.assets);
    await run(60);
    const bytes = noise(200_000, 3);
    hash = (await server.offer(bytes, { name: 'x.glb', mime: 'model/gltf-binary' })).hash;
    await run(600, () => seen.refused.length > 0);
    expect(t.state.done).toBe(true);
    expect(seen.refused).toEqual([{ hash, code: 'AssetCorrupt' }]);
    expect(seen.received).toEqual([]);
    expect(b.assets.get(hash)).toBeUndefined();
    expect(b.assets.stats().corrupt).toBe(1);
    expect(b.peer.errors.map((e) => (e as { code?: string }).code)).toContain('AssetCorrupt');
    await run(30);
    expect(server.stats().clientRefusals).toBe(1);
  }, 30_000);

  it('an upload tampered on the way to the server is refused and never offered to others', async () => {
    const { s, server, join, run } = assetRoom();
    let hash: string | null = null;
    const t = chunkTamper(() => hash, 1);
    const b = join();
    const seenB = watch(b.assets);
    const a = join();
    const seenA = watch(a.assets);
    await run(60);
    // Tamper on the server's side of A's link: wrap the packets A sends.
    const link = a.links[0];
    const send = link.send.bind(link);
    link.send = (p) => {
      t.tamper(p);
      send(p);
    };
    const bytes = noise(100_000, 4);
    const m = await a.assets.offer(bytes, { name: 'y.glb', mime: 'model/gltf-binary' });
    hash = m.hash;
    await run(600, () => seenA.refused.length > 0);
    expect(t.state.done).toBe(true);
    expect(seenA.refused).toEqual([{ hash, code: 'AssetCorrupt' }]);
    expect(server.stats().corrupt).toBe(1);
    expect(server.catalog()).toEqual([]);
    expect(server.get(hash)).toBeUndefined();
    await run(60);
    expect(seenB.received).toEqual([]);
    expect(b.assets.catalog()).toEqual([]);
    expect(s.server.errors.map((e) => (e as { code?: string }).code)).toContain('AssetCorrupt');
  }, 30_000);

  it('an asset already in the cache is not sent again: not to a client that holds it, not from one', async () => {
    const { server, join, run } = assetRoom();
    const cache = new ContentCache();
    const b = join({ assets: { cache } });
    const seen = watch(b.assets);
    await run(60);
    const bytes = noise(300_000, 6);
    const m = await server.offer(bytes, { name: 'z.glb', mime: 'model/gltf-binary' });
    await run(600, () => seen.received.length > 0);
    const sent = server.stats().chunksSent;
    expect(sent).toBe(Math.ceil(bytes.length / MAX_ASSET_CHUNK_BYTES));
    // A later client with the same cache (a reload of the page): handed on from the cache, nothing transferred.
    const b2 = join({ assets: { cache } });
    const seen2 = watch(b2.assets);
    await run(120, () => seen2.received.length > 0);
    expect(seen2.received.map((r) => [r.hash, r.cached])).toEqual([[m.hash, true]]);
    expect(same(seen2.received[0].bytes, bytes)).toBe(true);
    expect(b2.assets.stats().fromCache).toBe(1);
    await run(30);
    expect(server.stats().chunksSent).toBe(sent);
    expect(server.stats().downloadsDone).toBe(2);
    // A client offering what the server holds: accepted at once, no pull.
    const seenB = watch(b.assets);
    await b.assets.offer(bytes, { name: 'z-again.glb', mime: 'model/gltf-binary' });
    await run(60, () => seenB.uploaded.length > 0);
    expect(seenB.uploaded).toEqual([m.hash]);
    expect(server.stats().offersHeld).toBe(1);
    expect(server.stats().chunksReceived).toBe(0);
  }, 30_000);
});
