/**
 * The geckos.io transport over real WebRTC on loopback: the real @geckos.io/server on native node-datachannel
 * (libdatachannel) and the real @geckos.io/client in Node on node-datachannel/polyfill's RTCPeerConnection. Must run
 * inside a loopback-only network namespace (see harness/netns.ts); fails, never skips, elsewhere.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { afterAll, describe, expect, it } from 'vitest';
import { NetError } from '../../src/errors.ts';
import { createRandom } from '../../src/random.ts';
import { createGeckosClientTransport } from '../../src/transport/geckos-client-transport.ts';
import type { GeckosClientTransportOptions } from '../../src/transport/geckos-client-transport.ts';
import { createGeckosServerTransport, isGeckosServerLink } from '../../src/transport/geckos-server-transport.ts';
import type { GeckosServerTransport } from '../../src/transport/geckos-server-transport.ts';
import { MAX_PACKET_BYTES } from '../../src/transport/transport.ts';
import type { Link } from '../../src/transport/transport.ts';
import { requireLoopbackOnlyNetwork } from '../../harness/netns.ts';
import { exchangePackets, makePacket, sleep, waitFor } from './real-link-kit.ts';

const HOST = '127.0.0.1';
/** Connecting takes ~0.3 s on loopback; this leaves room for a loaded CI machine. */
const CONNECT_TIMEOUT_MS = 5000;

/** Packets a burst may take to fill SCTP's send buffer and the channel's queue (~900 full packets, measured). */
const BURST_BOUND_PACKETS = 10_000;

/** Everything a test opened, closed at the end even when the test failed. */
const cleanups: Array<() => unknown> = [];

function clientOptions(port: number, extra: Partial<GeckosClientTransportOptions> = {}): GeckosClientTransportOptions {
  requireLoopbackOnlyNetwork();
  return {
    url: `http://${HOST}`,
    port,
    RTCPeerConnection,
    // libdatachannel gathers no candidate in a loopback-only namespace unless bound to loopback.
    rtcConfiguration: { bindAddress: HOST },
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    ...extra,
  };
}

/** A server whose accepted links are collected, and a way to connect clients to it. */
async function startServer(options: Parameters<typeof createGeckosServerTransport>[0] = { port: 0, host: HOST }) {
  requireLoopbackOnlyNetwork();
  const server = await createGeckosServerTransport(options);
  cleanups.push(() => server.close());
  const accepted: Link[] = [];
  server.onconnection = (link) => accepted.push(link);
  const connect = async (extra?: Partial<GeckosClientTransportOptions>): Promise<{ client: Link; server: Link }> => {
    const before = accepted.length;
    const client = await createGeckosClientTransport(clientOptions(server.port, extra)).connect();
    cleanups.push(() => client.close());
    await waitFor(() => accepted.length > before, 3000, 'the server to accept the link');
    return { client, server: accepted[accepted.length - 1] };
  };
  return { server, accepted, connect };
}

/** Records every onclose call of a link. */
function closes(link: Link): string[] {
  const reasons: string[] = [];
  link.onclose = (reason) => reasons.push(reason);
  return reasons;
}

/** The polyfill's data channel under a client link, to send what a well-behaved link never would. */
function rawChannel(link: Link): { send(data: string | Uint8Array): void } {
  return (link as unknown as { dataChannel: { send(data: string | Uint8Array): void } }).dataChannel;
}

describe('geckos transport (WebRTC on loopback)', () => {
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('geckos: carries hundreds of packets up to the MTU both ways, byte-identical, for two clients', async () => {
    const { connect, server } = await startServer();
    const a = await connect();
    const b = await connect();
    expect(a.client.mtuBytes).toBe(MAX_PACKET_BYTES);
    expect(a.server.isOpen && b.client.isOpen).toBe(true);
    await exchangePackets(
      [
        [a.client, a.server],
        [b.client, b.server],
      ],
      300,
      11,
    );
    expect(server.counters.droppedCongested + server.counters.droppedOversize).toBe(0);
    expect(server.counters.packetsReceived).toBe(600);
  });

  it('geckos: a burst beyond the buffer limit is dropped and counted, not queued', async () => {
    const { connect } = await startServer();
    const { client, server } = await connect();
    let received = 0;
    client.onpacket = () => received++;
    const counters = isGeckosServerLink(server) ? server.counters : null;
    // libdatachannel hands packets to SCTP's own send buffer first: burst until the channel's queue passes the bound.
    let attempts = 0;
    while (counters!.droppedCongested === 0 && attempts < BURST_BOUND_PACKETS) {
      server.send(new Uint8Array(MAX_PACKET_BYTES));
      attempts++;
    }
    expect(counters!.droppedCongested).toBeGreaterThan(0);
    expect(counters!.packetsSent + counters!.droppedCongested).toBe(attempts);
    await waitFor(
      () => received === counters!.packetsSent,
      3000,
      () => `${counters!.packetsSent} packets (got ${received})`,
    );
    // The queue drained: the next tick's packet goes out again.
    const sentBefore = counters!.packetsSent;
    server.send(new Uint8Array(8));
    expect(counters!.packetsSent).toBe(sentBefore + 1);
    await waitFor(() => received === sentBefore + 1, 3000, 'one more packet');
    expect(server.isOpen).toBe(true);
  });

  it('geckos: a client close fires onclose exactly once on both sides', async () => {
    const { connect } = await startServer();
    const { client, server } = await connect();
    const clientCloses = closes(client);
    const serverCloses = closes(server);
    client.close('bye');
    expect(client.isOpen).toBe(false);
    await waitFor(() => serverCloses.length > 0, 3000, 'the server link to close');
    expect(server.isOpen).toBe(false);
    client.close('again');
    await sleep(200);
    expect(clientCloses).toEqual(['bye']);
    expect(serverCloses).toEqual(['closed by client']);
    client.send(new Uint8Array(8)); // a closed link drops silently
  });

  it('geckos: a server-side close reaches the client', async () => {
    const { connect } = await startServer();
    const { client, server } = await connect();
    const clientCloses = closes(client);
    const serverCloses = closes(server);
    server.close('kicked');
    await waitFor(() => clientCloses.length > 0, 3000, 'the client link to close');
    await sleep(100);
    expect(serverCloses).toEqual(['kicked']);
    expect(clientCloses).toEqual(['closed by server']);
    expect(client.isOpen).toBe(false);
  });

  it('geckos: the server drops garbage (text, geckos events, oversize, random bytes) and keeps working', async () => {
    const { connect, server: transport } = await startServer();
    const victim = await connect();
    const bystander = await connect();
    const channel = rawChannel(victim.client);
    const texts = ['null', 'hello', '{"disconnect":"fake"}', '{"rawMessage":42}', '[1,2]', '{}', '7'];
    for (const text of texts) channel.send(text);
    const random = createRandom(5);
    let oversize = 0;
    for (let i = 0; i < 50; i++) {
      const size = 1 + random.int(3000);
      if (size > MAX_PACKET_BYTES) oversize++;
      channel.send(makePacket(random, i, Math.max(4, size)));
      if (i % 5 === 0) await sleep(1);
    }
    await waitFor(
      () => transport.counters.droppedNonBinary >= texts.length && transport.counters.droppedOversize >= oversize,
      3000,
      () => `drops to be counted (${JSON.stringify(transport.counters)})`,
    );
    expect(victim.server.isOpen).toBe(true);
    await exchangePackets(
      [
        [victim.client, victim.server],
        [bystander.client, bystander.server],
      ],
      20,
      12,
    );
  });

  it('geckos: closing the server closes every client', async () => {
    const { server, connect } = await startServer();
    const a = await connect();
    const b = await connect();
    const aCloses = closes(a.client);
    const bCloses = closes(b.client);
    const serverCloses = closes(a.server);
    await server.close();
    await waitFor(() => aCloses.length > 0 && bCloses.length > 0, 3000, 'both clients to close');
    await sleep(100);
    expect(aCloses.length + bCloses.length).toBe(2);
    expect(serverCloses).toEqual(['server closed']);
    await expect(createGeckosClientTransport(clientOptions(server.port)).connect()).rejects.toThrow(NetError);
  });

  it('geckos: authorization refuses a bad token and hands userData to both ends', async () => {
    const { connect, server } = await startServer({
      port: 0,
      host: HOST,
      authorization: (token) => (token === 'secret' ? { name: 'ada' } : false),
    });
    const refused = createGeckosClientTransport(clientOptions(server.port, { authorization: 'wrong' })).connect();
    await expect(refused).rejects.toMatchObject({ code: 'Unauthorized' });
    const { client, server: link } = await connect({ authorization: 'secret' });
    expect(isGeckosServerLink(link) && link.userData).toEqual({ name: 'ada' });
    expect((client as unknown as { userData: unknown }).userData).toEqual({ name: 'ada' });
  });

  it('geckos: connect() rejects with a Timeout NetError when no channel opens in time', async () => {
    // An HTTP server that accepts the signalling request and never answers it.
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, HOST, resolve));
    cleanups.push(() => new Promise<void>((resolve) => (silent.closeAllConnections(), silent.close(() => resolve()))));
    const port = (silent.address() as AddressInfo).port;
    const started = Date.now();
    const attempt = createGeckosClientTransport(clientOptions(port, { connectTimeoutMs: 300 })).connect();
    await expect(attempt).rejects.toMatchObject({ name: 'NetError', code: 'Timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('geckos: two servers in one process keep their own connections; closing one spares the other', async () => {
    const first = await startServer();
    const second = await startServer();
    await second.connect();
    await sleep(50);
    expect(first.accepted.length).toBe(0);
    await first.server.close();
    const again = await second.connect();
    expect(again.server.isOpen).toBe(true);
    expect(second.accepted.length).toBe(2);
  });

  it('geckos: attaches to an existing HTTP server and gives it back on close', async () => {
    const httpServer = http.createServer((_request, response) => response.end('page'));
    await new Promise<void>((resolve) => httpServer.listen(0, HOST, resolve));
    cleanups.push(
      () => new Promise<void>((resolve) => (httpServer.closeAllConnections(), httpServer.close(() => resolve()))),
    );
    const port = (httpServer.address() as AddressInfo).port;
    const { server, connect } = await startServer({ httpServer });
    expect(server.port).toBe(port);
    const { client, server: link } = await connect();
    await exchangePackets([[client, link]], 10, 13);
    expect(await (await fetch(`http://${HOST}:${port}/index.html`)).text()).toBe('page');
    await (server as GeckosServerTransport).close();
    const after = await fetch(`http://${HOST}:${port}/.wrtc/v2/connections`, { method: 'POST' });
    expect(await after.text()).toBe('page');
  });
});
