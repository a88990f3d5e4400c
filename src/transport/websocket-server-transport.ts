/**
 * The server side of the WebSocket transport (the fallback where WebRTC is blocked), on `ws`: one binary frame per
 * packet, text frames dropped, frames above the MTU refused by `ws` itself (it closes such a connection). Node only.
 */
import http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { usageError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import { MAX_PACKET_BYTES } from './transport.ts';
import type { CloseReason, ServerTransport } from './transport.ts';
import { SocketLink, createLinkCounters } from './socket-link.ts';
import type { LinkCounters } from './socket-link.ts';
import { loadPeer } from './load-peer.ts';

/**
 * Bytes a socket may hold before `send` drops: ~13 full packets, ~200 ms of a 60 Hz stream. TCP never loses data,
 * but a packet queued behind a congested socket arrives too late to matter; ecsync resends what must arrive.
 */
export const WEBSOCKET_MAX_BUFFERED_BYTES = 16 * 1024;

/** How long `close()` waits for clients to finish the closing handshake before cutting their sockets. */
const CLOSE_GRACE_MS = 1000;

/** WebSocket close code for "going away" (RFC 6455 7.4.1): the server shuts down. */
const CLOSE_GOING_AWAY = 1001;
/** WebSocket close code for a normal close. */
const CLOSE_NORMAL = 1000;
/** Close reasons are cut to this many characters: at most 3 UTF-8 bytes each, 120 fit a close frame's 123. */
const CLOSE_REASON_MAX_CHARS = 40;

/** Options of `createWebSocketServerTransport`. */
export interface WebSocketServerTransportOptions {
  /** Port to listen on (0 picks a free one). Required unless `server` is given. */
  port?: number;
  /** Address to listen on (default '127.0.0.1'). */
  host?: string;
  /** Accept upgrades on this existing HTTP(S) server (e.g. Vite's); other upgrades are left to their owners. */
  server?: http.Server | https.Server;
  /**
   * Neither listen nor attach: the caller routes upgrades to `transport.handleUpgrade` itself (one HTTP server for
   * many endpoints, e.g. the rooms of a room host, without one 'upgrade' listener each).
   */
  manual?: boolean;
  /** URL path of the endpoint (default '/ecsync'). */
  path?: string;
  /** Bytes a socket may hold before `send` drops (default `WEBSOCKET_MAX_BUFFERED_BYTES`). */
  maxBufferedBytes?: number;
  /** Receives every problem caused by network input (text frames). */
  onError?: ErrorHandler;
}

/** The WebSocket server transport. */
export interface WebSocketServerTransport extends ServerTransport {
  /** Port the server listens on (that of `server` when attached to one). */
  readonly port: number;
  /** Counters of every link together, closed ones included. */
  readonly counters: LinkCounters;
  /** Takes one upgrade request for this endpoint's path (others are left alone): for `manual` transports. */
  handleUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every link and stops listening (or detaches from `server`). */
  close(): Promise<void>;
}

class WebSocketLink extends SocketLink {
  /** The client's IP as the socket sees it (behind a proxy: the proxy's). */
  readonly remoteAddress: string | undefined;

  constructor(
    remoteAddress: string | undefined,
    private readonly socket: WebSocket,
    private readonly links: Set<WebSocketLink>,
    total: LinkCounters,
    maxBufferedBytes: number,
    onError: ErrorHandler | undefined,
  ) {
    super(total, maxBufferedBytes, onError);
    this.remoteAddress = remoteAddress;
    links.add(this);
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) this.receive(data);
      else this.dropNonBinary('text frame');
    });
    socket.on('close', (code: number, reason: Buffer) =>
      this.finish(reason.length > 0 ? String(reason) : `closed (${code})`),
    );
    // ws reports protocol violations (e.g. a frame above maxPayload) here, then closes the socket: counted there.
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.counters.droppedOversize++;
        total.droppedOversize++;
      }
    });
  }

  protected bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  protected write(packet: Uint8Array): boolean {
    // No copy: `send` owns the packet (see SocketLink), and ws writes it as is.
    this.socket.send(packet, { binary: true });
    return true;
  }

  protected shutdown(reason: CloseReason): void {
    this.socket.close(CLOSE_NORMAL, reason.slice(0, CLOSE_REASON_MAX_CHARS));
  }

  protected override released(): void {
    this.links.delete(this);
  }

  /** Closes for server shutdown; resolves when the socket is gone (cut after CLOSE_GRACE_MS). */
  end(): Promise<void> {
    const socket = this.socket;
    return new Promise((resolve) => {
      if (socket.readyState === socket.CLOSED) return resolve();
      const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.finish('server closed');
      socket.close(CLOSE_GOING_AWAY, 'server closed');
    });
  }
}

function checkOptions(options: WebSocketServerTransportOptions): void {
  const { port, path, maxBufferedBytes } = options;
  if (options.server === undefined && port === undefined && !options.manual) {
    usageError('WebSocket server transport needs a port', 'pass { port } (0 picks a free one) or { server }');
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    usageError(`port must be an integer in 0..65535, got ${port}`, 'pass a valid TCP port');
  }
  if (path !== undefined && !path.startsWith('/')) {
    usageError(`path must start with '/', got ${JSON.stringify(path)}`, "pass e.g. '/ecsync'");
  }
  if (maxBufferedBytes !== undefined && !(maxBufferedBytes >= 0)) {
    usageError(`maxBufferedBytes must be >= 0, got ${maxBufferedBytes}`, 'pass a byte count');
  }
}

/**
 * Starts a WebSocket endpoint carrying ecsync packets; clients use `createWebSocketClientTransport`. Loads the
 * optional peer `ws` when called (a `Usage` NetError when it is not installed).
 * @example
 * const transport = await createWebSocketServerTransport({ port: 8080, host: '0.0.0.0' });
 * transport.onconnection = (link) => { link.onpacket = (packet) => link.send(packet.slice()); };
 * // browser: createWebSocketClientTransport({ url: 'ws://host:8080/ecsync' })
 */
export async function createWebSocketServerTransport(
  options: WebSocketServerTransportOptions,
): Promise<WebSocketServerTransport> {
  checkOptions(options);
  const { WebSocketServer } = await loadPeer('ws', 'createWebSocketServerTransport', () => import('ws'));
  const path = options.path ?? '/ecsync';
  const maxBufferedBytes = options.maxBufferedBytes ?? WEBSOCKET_MAX_BUFFERED_BYTES;
  const manual = options.manual === true;
  const external = options.server;
  const server: http.Server =
    (external as http.Server | undefined) ??
    http.createServer((_request, response) => {
      response.writeHead(426, { 'Content-Type': 'text/plain' }).end('WebSocket only\n');
    });
  // noServer: ws would answer 400 to every upgrade outside `path`, breaking e.g. Vite's HMR socket on a shared server.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PACKET_BYTES, perMessageDeflate: false });
  const counters = createLinkCounters();
  const links = new Set<WebSocketLink>();
  let closed = false;

  const onUpgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = request.url ?? '';
    const query = url.indexOf('?');
    if ((query < 0 ? url : url.slice(0, query)) !== path) return; // someone else's upgrade
    if (closed) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const address = request.socket.remoteAddress;
      const link = new WebSocketLink(address, ws, links, counters, maxBufferedBytes, options.onError);
      transport.onconnection?.(link);
    });
  };
  if (!manual) server.on('upgrade', onUpgrade);

  const transport: WebSocketServerTransport = {
    onconnection: null,
    port: 0,
    counters,
    handleUpgrade: onUpgrade,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      server.off('upgrade', onUpgrade);
      await Promise.all([...links].map((link) => link.end()));
      wss.close();
      if (!external && !manual) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
    },
  };

  if (!external && !manual) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }
  const address = server.address() as AddressInfo | null;
  (transport as { port: number }).port = address?.port ?? options.port ?? 0;
  return transport;
}
