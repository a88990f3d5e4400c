/**
 * The asset layers' bounds and permissions, over the memory network: an oversize offer, more concurrent transfers
 * than allowed, a role that may not offer, full catalogs, a stalled upload, and a hostile client that speaks the
 * wire directly (malformed bodies, unsolicited and misplaced chunks): each refused with its error, counted, never
 * thrown, while an honest transfer beside them completes.
 */
import { describe, expect, it } from 'vitest';
import { encodeAssetChunk } from '../../src/assets/asset-chunk-wire.ts';
import { hashBytes } from '../../src/assets/asset-manifest.ts';
import { encodeMessage } from '../../src/codec/message-frame.ts';
import { createServerAuthority, DEFAULT_CAPABILITIES, ErrorCode, hasCapability } from '../../src/index.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { RawPeer } from '../session/session-harness.ts';
import { assetRoom, noise, same, watch } from './asset-room.ts';

const GLB = 'model/gltf-binary';

describe('asset limits and permissions', () => {
  it('refuses an offer above maxAssetBytes on either side, before pulling a byte', async () => {
    const { server, join, run } = assetRoom({ server: { maxAssetBytes: 50_000 } });
    const a = join();
    const seenA = watch(a.assets);
    const small = join({ assets: { maxAssetBytes: 20_000 } });
    const seenSmall = watch(small.assets);
    await run(60);
    const big = await a.assets.offer(noise(60_000), { name: 'big.glb', mime: GLB });
    await run(60, () => seenA.refused.length > 0);
    expect(seenA.refused).toEqual([{ hash: big.hash, code: 'AssetTooLarge' }]);
    expect(server.stats().refusedTooLarge).toBe(1);
    expect(server.stats().chunksReceived).toBe(0);
    // The server's 30 kB asset is above the small client's own bound: refused there, never pulled.
    const mid = await server.offer(noise(30_000), { name: 'mid.glb', mime: GLB });
    await run(120);
    expect(seenSmall.refused).toEqual([{ hash: mid.hash, code: 'AssetTooLarge' }]);
    expect(small.assets.stats().refusedTooLarge).toBe(1);
    expect(small.assets.pull(mid.hash)).toBe(false);
    expect(server.stats().downloadsDone).toBe(1); // only A took it
  });

  it('refuses uploads beyond maxTransfersPerClient and in total, and queues downloads beyond maxTransfers', async () => {
    const { server, join, run } = assetRoom({ server: { maxTransfersPerClient: 1, maxTransfers: 2 } });
    const a = join();
    const seenA = watch(a.assets);
    const c = join();
    const seenC = watch(c.assets);
    const b = join({ assets: { maxTransfers: 1 } });
    const seenB = watch(b.assets);
    await run(60);
    const x = await a.assets.offer(noise(100_000, 1), { name: 'x.glb', mime: GLB });
    const y = await a.assets.offer(noise(100_000, 2), { name: 'y.glb', mime: GLB });
    const z = await c.assets.offer(noise(100_000, 3), { name: 'z.glb', mime: GLB });
    let maxDownloads = 0;
    let maxQueued = 0;
    let maxServer = 0;
    await run(1200, () => {
      maxServer = Math.max(maxServer, server.stats().uploads + server.stats().downloads);
      maxDownloads = Math.max(maxDownloads, b.assets.stats().downloads);
      maxQueued = Math.max(maxQueued, b.assets.stats().queued);
      return seenB.received.length >= 2;
    });
    expect(seenA.refused).toEqual([{ hash: y.hash, code: 'AssetBusy' }]);
    expect(seenA.uploaded).toEqual([x.hash]);
    expect(seenC.uploaded).toEqual([z.hash]);
    // The total bound held: pulls past it were refused as busy, and asked again a second later.
    expect(maxServer).toBe(2);
    expect(server.stats().refusedBusy).toBeGreaterThan(1);
    const retries = [a, b, c].reduce((n, x) => n + x.assets.stats().busyRetries, 0);
    expect(retries).toBe(server.stats().refusedBusy - 1);
    // B pulls one at a time; the other offer waited in its queue.
    expect(maxDownloads).toBe(1);
    expect(maxQueued).toBeGreaterThanOrEqual(1);
    expect(seenB.received.map((r) => r.hash).sort()).toEqual([x.hash, z.hash].sort());
  });

  it('refuses an upload that would take the uploads under way past maxUploadBytes', async () => {
    const { server, join, run } = assetRoom({ server: { maxUploadBytes: 150_000 } });
    const a = join();
    const b = join();
    const seenA = watch(a.assets);
    const seenB = watch(b.assets);
    await run(60);
    const x = await a.assets.offer(noise(100_000, 1), { name: 'x.glb', mime: GLB });
    const y = await b.assets.offer(noise(100_000, 2), { name: 'y.glb', mime: GLB });
    let most = 0;
    await run(600, () => {
      most = Math.max(most, server.stats().uploadBytes);
      return seenA.uploaded.length + seenA.refused.length > 0 && seenB.uploaded.length + seenB.refused.length > 0;
    });
    expect(seenA.uploaded).toEqual([x.hash]);
    expect(seenB.refused).toEqual([{ hash: y.hash, code: 'AssetBusy' }]);
    expect(most).toBe(100_000);
    expect(server.stats().uploadBytes).toBe(0);
  });

  it('lets only the roles with the offer-assets capability offer', async () => {
    const { server, join, run } = assetRoom();
    const viewer = join({ role: 'viewer' });
    const seenV = watch(viewer.assets);
    const admin = join({ role: 'admin' });
    const seenAdmin = watch(admin.assets);
    await run(60);
    const v = await viewer.assets.offer(noise(5000, 1), { name: 'v.glb', mime: GLB });
    const ad = await admin.assets.offer(noise(5000, 2), { name: 'a.glb', mime: GLB });
    await run(240, () => seenV.refused.length > 0 && seenAdmin.uploaded.length > 0);
    expect(seenV.refused).toEqual([{ hash: v.hash, code: 'AssetForbidden' }]);
    expect(seenAdmin.uploaded).toEqual([ad.hash]);
    expect(server.stats().refusedForbidden).toBe(1);
    // The viewer still receives assets (pulling is for every role).
    await run(240, () => viewer.assets.get(ad.hash) !== undefined);
    expect(viewer.assets.get(ad.hash)).toBeDefined();

    // The capability table: the server always may; clients per role.
    expect(DEFAULT_CAPABILITIES.offerAssets).toEqual(['participant', 'admin']);
    expect(['viewer', 'participant', 'admin'].map((r) => hasCapability('offerAssets', r))).toEqual([false, true, true]);
    expect(hasCapability('offerAssets', 'viewer', false, { offerAssets: ['viewer'] })).toBe(true);

    // offerRoles narrows it to admins: a participant is refused.
    const r2 = assetRoom({ server: { offerRoles: ['admin'] } });
    const p = r2.join({ role: 'participant' });
    const seenP = watch(p.assets);
    await r2.run(60);
    const ph = await p.assets.offer(noise(5000, 3), { name: 'p.glb', mime: GLB });
    await r2.run(120, () => seenP.refused.length > 0);
    expect(seenP.refused).toEqual([{ hash: ph.hash, code: 'AssetForbidden' }]);
  });

  it('with the authority layer attached, a viewer’s offer still gets its AssetForbidden answer', async () => {
    const r = assetRoom();
    createServerAuthority(r.s.server.world, {});
    const viewer = r.join({ role: 'viewer' });
    const part = r.join();
    const seenV = watch(viewer.assets);
    const seenP = watch(part.assets);
    await r.run(60);
    const v = await viewer.assets.offer(noise(5000, 1), { name: 'v.glb', mime: GLB });
    const p = await part.assets.offer(noise(5000, 2), { name: 'p.glb', mime: GLB });
    await r.run(240, () => seenV.refused.length > 0 && seenP.uploaded.length > 0);
    expect(seenV.refused).toEqual([{ hash: v.hash, code: 'AssetForbidden' }]);
    expect(seenP.uploaded).toEqual([p.hash]);
    await r.run(120, () => seenV.received.length > 0);
    expect(seenV.received.map((x) => x.hash)).toEqual([p.hash]);
  });

  it('bounds both catalogs: the server forgets its oldest offer, a client drops offers it has no room for', async () => {
    const { server, join, run } = assetRoom({ server: { maxCatalog: 2 } });
    const b = join({ assets: { maxCatalog: 2, maxTransfers: 1 } });
    await run(60);
    const m1 = await server.offer(noise(40_000, 1), { name: '1.glb', mime: GLB });
    await server.offer(noise(40_000, 2), { name: '2.glb', mime: GLB });
    await server.offer(noise(40_000, 3), { name: '3.glb', mime: GLB });
    expect(server.catalog().map((m) => m.name)).toEqual(['2.glb', '3.glb']);
    expect(server.stats().catalogEvicted).toBe(1);
    expect(server.get(m1.hash)).toBeUndefined();
    await run(5);
    // B: 1 pulling, 2 queued, 3 has no room (neither entry is finished).
    expect(b.assets.stats().catalogFull).toBe(1);
    expect(b.assets.catalog().map((m) => m.name)).toEqual(['1.glb', '2.glb']);
  });

  it('drops an upload that stalls, and refuses a hostile client’s malformed and misplaced asset messages', async () => {
    const { s, server, join, run } = assetRoom({ server: { stallMs: 2000 } });
    const honest = join();
    const seen = watch(honest.assets);
    const raw = new RawPeer(s.network.connect(), s.clock, {});
    raw.hello({ schemaHash: honest.peer.protocol.schemaHash });
    const rawRun = (n: number) => run(n, () => (raw.receive(), false));
    await rawRun(30);
    const hash = '11'.repeat(32);
    const h = hashBytes(hash)!;
    // Malformed bodies of every asset message, a chunk of no upload, an offer with a bad chunk size.
    raw.send(Tag.AssetOffer, { h: new Uint8Array(5), s: 10, m: GLB, n: 'x', c: 16384 });
    raw.send(Tag.AssetOffer, { h, s: 10, m: GLB, n: 'x', c: 7 });
    raw.send(Tag.AssetResume, { h, f: -1 });
    raw.send(Tag.AssetDone, { h: 'nope' });
    raw.connection.sendReliable(encodeMessage(Tag.AssetOffer, new Uint8Array([0xc1])));
    raw.connection.sendReliable(encodeAssetChunk(h, 0, noise(100), false));
    raw.send(Tag.AssetResume, { h, f: 0 }); // an asset the server does not hold
    // A valid offer the raw client never serves beyond one chunk that is too short: counted, then stalled.
    raw.send(Tag.AssetOffer, { h, s: 40_000, m: GLB, n: 'stall.glb', c: 16384 });
    await rawRun(10);
    raw.connection.sendReliable(encodeAssetChunk(h, 1, noise(16384), false)); // out of order
    raw.connection.sendReliable(encodeAssetChunk(h, 0, noise(100), false)); // wrong length
    raw.connection.flush();
    const good = await server.offer(noise(50_000, 8), { name: 'ok.glb', mime: GLB });
    await rawRun(200);
    const st = server.stats();
    expect(st.malformed).toBeGreaterThanOrEqual(7);
    expect(st.unsolicitedChunks).toBe(1);
    expect(st.outOfOrderChunks).toBe(2);
    expect(st.unavailable).toBe(1);
    expect(st.stalled).toBe(1);
    expect(st.uploads).toBe(0);
    const refusals = raw.messages(Tag.AssetDone).map((m) => (m.body as { e?: number }).e);
    expect(refusals).toContain(ErrorCode.AssetUnavailable);
    // Nothing was thrown into the loop, and the honest client got its asset.
    expect(s.server.errors.some((e) => (e as { code?: string }).code === 'InternalError')).toBe(false);
    expect(same(seen.received[0]?.bytes, server.get(good.hash)!)).toBe(true);
  });
});
