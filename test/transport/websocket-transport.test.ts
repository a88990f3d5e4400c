/**
 * The WebSocket transport over real TCP on 127.0.0.1: the `ws` server and the client transport in Node with `ws`'s
 * WebSocket (browsers use their own). Needs no network namespace but runs fine inside one.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import type { NetError } from '../../src/errors.ts';
import { createWebSocketClientTransport } from '../../src/transport/websocket-client-transport.ts';
import type { WebSocketClientTransportOptions } from '../../src/transport/websocket-client-transport.ts';
import { createWebSocketServerTransport } from '../../src/transport/websocket-server-transport.ts';
import type { WebSocketServerTransportOptions } from '../../src/transport/websocket-server-transport.ts';
import { MAX_PACKET_BYTES } from '../../src/transport/transport.ts';
import type { Link } from '../../src/transport/transport.ts';
import { exchangePackets, sleep, waitFor } from './real-link-kit.ts';

const HOST = '127.0.0.1';

/** Everything a test opened, closed at the end even when the test failed. */
const cleanups: Array<() => unknown> = [];

async function startServer(options: WebSocketServerTransportOptions = { port: 0, host: HOST }) {
  const server = await createWebSocketServerTransport(options);
  cleanups.push(() => server.close());
  const accepted: Link[] = [];
  server.onconnection = (link) => accepted.push(link);
  const url = `ws://${HOST}:${server.port}${options.path ?? '/ecsync'}`;
  const connect = async (extra?: Partial<WebSocketClientTransportOptions>): Promise<{ client: Link; server: Link }> => {
    const before = accepted.length;
    const client = await createWebSocketClientTransport({ url, WebSocket, ...extra }).connect();
    cleanups.push(() => client.close());
    await waitFor(() => accepted.length > before, 3000, 'the server to accept the link');
    return { client, server: accepted[accepted.length - 1] };
  };
  /** A bare `ws` socket to the endpoint, to send what a well-behaved link never would. */
  const raw = async (): Promise<{ socket: WebSocket; server: Link }> => {
    const before = accepted.length;
    const socket = new WebSocket(url);
    socket.on('error', () => {});
    cleanups.push(() => socket.terminate());
    await new Promise((resolve) => socket.once('open', resolve));
    await waitFor(() => accepted.length > before, 3000, 'the server to accept the raw socket');
    return { socket, server: accepted[accepted.length - 1] };
  };
  return { server, accepted, connect, raw, url };
}

function closes(link: Link): string[] {
  const reasons: string[] = [];
  link.onclose = (reason) => reasons.push(reason);
  return reasons;
}

function closeHttp(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

describe('websocket transport (TCP on 127.0.0.1)', () => {
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('websocket: carries hundreds of packets up to the MTU both ways, byte-identical, for two clients', async () => {
    const { connect, server } = await startServer();
    const a = await connect();
    const b = await connect();
    expect(a.client.mtuBytes).toBe(MAX_PACKET_BYTES);
    await exchangePackets(
      [
        [a.client, a.server],
        [b.client, b.server],
      ],
      300,
      21,
    );
    expect(server.counters.packetsReceived).toBe(600);
    expect(server.counters.droppedCongested + server.counters.droppedOversize).toBe(0);
  });

  it('websocket: a client close fires onclose exactly once on both sides', async () => {
    const { connect } = await startServer();
    const { client, server } = await connect();
    const clientCloses = closes(client);
    const serverCloses = closes(server);
    client.close('bye');
    expect(client.isOpen).toBe(false);
    await waitFor(() => serverCloses.length > 0, 3000, 'the server link to close');
    client.close('again');
    await sleep(100);
    expect(clientCloses).toEqual(['bye']);
    expect(serverCloses).toEqual(['bye']);
  });

  it('websocket: a server-side close reaches the client with its reason', async () => {
    const { connect } = await startServer();
    const { client, server } = await connect();
    const clientCloses = closes(client);
    const serverCloses = closes(server);
    server.close('kicked');
    await waitFor(() => clientCloses.length > 0, 3000, 'the client link to close');
    await sleep(50);
    expect(serverCloses).toEqual(['kicked']);
    expect(clientCloses).toEqual(['kicked']);
  });

  it('websocket: a frame above the MTU is refused by the server, which closes that socket only', async () => {
    const { connect, raw, server } = await startServer();
    const good = await connect();
    const bad = await raw();
    const badCloses = closes(bad.server);
    const socketClosed = new Promise<number>((resolve) => bad.socket.once('close', resolve));
    bad.socket.send(new Uint8Array(MAX_PACKET_BYTES + 1));
    expect(await socketClosed).toBe(1009); // "message too big"
    await waitFor(() => badCloses.length > 0, 3000, 'the server link to close');
    expect(server.counters.droppedOversize).toBe(1);
    // A well-behaved link refuses to send an oversize packet (dropped and counted, link stays open).
    const before = (good.client as unknown as { counters: { droppedOversize: number } }).counters.droppedOversize;
    good.client.send(new Uint8Array(MAX_PACKET_BYTES + 1));
    expect((good.client as unknown as { counters: { droppedOversize: number } }).counters.droppedOversize).toBe(
      before + 1,
    );
    await exchangePackets([[good.client, good.server]], 20, 22);
  });

  it('websocket: text frames are dropped and counted; the link keeps working', async () => {
    const errors: NetError[] = [];
    const { raw, server } = await startServer({ port: 0, host: HOST, onError: (error) => errors.push(error) });
    const { socket, server: link } = await raw();
    const received: Uint8Array[] = [];
    link.onpacket = (packet) => received.push(new Uint8Array(packet));
    for (const text of ['null', 'hello', '{"x":1}']) socket.send(text);
    socket.send(Uint8Array.of(1, 2, 3));
    await waitFor(() => received.length === 1, 3000, 'the binary frame');
    expect(server.counters.droppedNonBinary).toBe(3);
    expect(errors.map((e) => e.code)).toEqual(['DecodeError', 'DecodeError', 'DecodeError']);
    expect(received[0]).toEqual(Uint8Array.of(1, 2, 3));
    expect(link.isOpen).toBe(true);
  });

  it('websocket: closing the server closes every client', async () => {
    const { server, connect, url } = await startServer();
    const a = await connect();
    const b = await connect();
    const aCloses = closes(a.client);
    const bCloses = closes(b.client);
    const serverCloses = closes(a.server);
    await server.close();
    await waitFor(() => aCloses.length > 0 && bCloses.length > 0, 3000, 'both clients to close');
    expect(serverCloses).toEqual(['server closed']);
    await expect(createWebSocketClientTransport({ url, WebSocket }).connect()).rejects.toMatchObject({
      code: 'Timeout',
    });
  });

  it('websocket: connect() rejects with a Timeout NetError when the socket does not open in time', async () => {
    // Accepts TCP and the upgrade request, never answers it.
    const silent = http.createServer();
    const held: Duplex[] = [];
    silent.on('upgrade', (_request, socket: Duplex) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, HOST, resolve));
    cleanups.push(() => {
      for (const socket of held) socket.destroy(); // upgraded sockets are no longer the HTTP server's to close
      return closeHttp(silent);
    });
    const port = (silent.address() as AddressInfo).port;
    const started = Date.now();
    const attempt = createWebSocketClientTransport({
      url: `ws://${HOST}:${port}/ecsync`,
      WebSocket,
      connectTimeoutMs: 300,
    });
    await expect(attempt.connect()).rejects.toMatchObject({ name: 'NetError', code: 'Timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('websocket: shares an existing HTTP server with other upgrade handlers and gives it back on close', async () => {
    const httpServer = http.createServer((_request, response) => response.end('page'));
    const other = new WebSocketServer({ noServer: true });
    httpServer.on('upgrade', (request, socket, head) => {
      if (request.url === '/other') other.handleUpgrade(request, socket, head, (ws) => ws.send('other says hi'));
    });
    await new Promise<void>((resolve) => httpServer.listen(0, HOST, resolve));
    cleanups.push(() => closeHttp(httpServer));
    const { server, connect } = await startServer({ server: httpServer, path: '/game' });
    expect(server.port).toBe((httpServer.address() as AddressInfo).port);
    const { client, server: link } = await connect();
    await exchangePackets([[client, link]], 10, 23);
    const otherSocket = new WebSocket(`ws://${HOST}:${server.port}/other`);
    const greeting = await new Promise<string>((resolve) =>
      otherSocket.once('message', (data) => resolve(String(data))),
    );
    expect(greeting).toBe('other says hi');
    otherSocket.close();
    expect(await (await fetch(`http://${HOST}:${server.port}/`)).text()).toBe('page');
    await server.close();
    expect(httpServer.listening).toBe(true);
    other.close();
  });
});
