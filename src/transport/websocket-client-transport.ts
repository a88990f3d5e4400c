/**
 * The client side of the WebSocket transport: the platform's WebSocket (browsers, Node >= 22), an injected
 * constructor, or on Node 20 the optional peer `ws`, loaded at `connect()`. One binary frame per packet. Imports
 * nothing from Node, so bundlers can ship it to the browser.
 */
import { NetError, usageError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import type { ClientTransport, CloseReason, Link } from './transport.ts';
import { SocketLink } from './socket-link.ts';
import type { LinkCounters } from './socket-link.ts';
import { loadPeer } from './load-peer.ts';

/** How long `connect()` waits for the socket to open by default. */
export const WEBSOCKET_CONNECT_TIMEOUT_MS = 10_000;

/** Bytes the socket may hold before `send` drops (see WEBSOCKET_MAX_BUFFERED_BYTES on the server). */
export const WEBSOCKET_CLIENT_MAX_BUFFERED_BYTES = 16 * 1024;

/** WebSocket close code for a normal close. */
const CLOSE_NORMAL = 1000;
/** Close reasons are cut to this many characters: at most 3 UTF-8 bytes each, 120 fit a close frame's 123. */
const CLOSE_REASON_MAX_CHARS = 40;

/** The members of a browser-compatible WebSocket used here (the browser's and `ws`'s alike). */
interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor (the browser's, or `ws`'s in Node). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown;

/** Options of `createWebSocketClientTransport`. */
export interface WebSocketClientTransportOptions {
  /** Full endpoint URL, e.g. 'ws://127.0.0.1:8080/ecsync' or 'wss://example.com/ecsync'. */
  url: string;
  /**
   * WebSocket constructor to use instead of the global one. Without it and without a global one (Node 20),
   * `connect()` loads the optional peer `ws`.
   */
  WebSocket?: WebSocketConstructor;
  /** `connect()` rejects with a `Timeout` NetError when the socket is not open by then (default 10 s). */
  connectTimeoutMs?: number;
  /** Bytes the socket may hold before `send` drops (default `WEBSOCKET_CLIENT_MAX_BUFFERED_BYTES`). */
  maxBufferedBytes?: number;
  /** Receives every problem caused by network input (text frames). */
  onError?: ErrorHandler;
}

/** A link to a WebSocket server transport. */
export interface WebSocketClientLink extends Link {
  /** Packet counters of this link since creation. */
  readonly counters: LinkCounters;
}

/** WebSocket.OPEN, the same in every implementation. */
const OPEN = 1;

class WebSocketLink extends SocketLink implements WebSocketClientLink {
  constructor(
    private readonly socket: WebSocketLike,
    maxBufferedBytes: number,
    onError: ErrorHandler | undefined,
  ) {
    super(null, maxBufferedBytes, onError);
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') this.dropNonBinary('text frame');
      else this.receive(event.data);
    };
    socket.onclose = (event) => this.finish(event.reason || `closed (${event.code})`);
    // An error is always followed by a close event, which ends the link.
    socket.onerror = () => {};
  }

  protected bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  protected write(packet: Uint8Array): boolean {
    if (this.socket.readyState !== OPEN) return false;
    this.socket.send(packet);
    return true;
  }

  protected shutdown(reason: CloseReason): void {
    // Browsers throw SyntaxError on a reason above 123 UTF-8 bytes: 40 characters fit whatever they are.
    this.socket.close(CLOSE_NORMAL, reason.slice(0, CLOSE_REASON_MAX_CHARS));
  }
}

/** The package name, in a variable so that bundlers do not try to resolve `ws` for the browser. */
const WS_PACKAGE = 'ws';

/** `ws`'s WebSocket, for Node versions without a global one. */
async function loadNodeWebSocket(): Promise<WebSocketConstructor> {
  const ws = await loadPeer(
    WS_PACKAGE,
    'createWebSocketClientTransport without a global WebSocket (Node < 22)',
    () =>
      import(/* @vite-ignore */ /* webpackIgnore: true */ WS_PACKAGE) as Promise<{ WebSocket: WebSocketConstructor }>,
  );
  return ws.WebSocket;
}

/** True in Node, Deno and Bun (which may lack a global WebSocket but can load `ws`). */
function isServerRuntime(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof process?.versions?.node === 'string';
}

function connect(options: WebSocketClientTransportOptions, Ctor: WebSocketConstructor): Promise<Link> {
  const timeoutMs = options.connectTimeoutMs ?? WEBSOCKET_CONNECT_TIMEOUT_MS;
  return new Promise<Link>((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = new Ctor(options.url) as WebSocketLike;
    } catch (error) {
      reject(new NetError('Timeout', `cannot open WebSocket ${options.url}: ${(error as Error).message}`));
      return;
    }
    socket.binaryType = 'arraybuffer';
    let settled = false;
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.onopen = null;
      socket.onclose = null;
      socket.onerror = () => {}; // `ws` throws an 'error' event nobody listens to
      try {
        socket.close();
      } catch {
        // Closing a socket that never opened may throw in some implementations; it is dead either way.
      }
      reject(new NetError('Timeout', message, { fix: 'check that the server is running and the url is right' }));
    };
    const timer = setTimeout(() => fail(`WebSocket ${options.url} not open within ${timeoutMs} ms`), timeoutMs);
    socket.onerror = () => fail(`could not connect to WebSocket ${options.url}`);
    socket.onclose = (event) => fail(`WebSocket ${options.url} closed while connecting (${event.code})`);
    socket.onopen = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.onopen = null;
      resolve(
        new WebSocketLink(socket, options.maxBufferedBytes ?? WEBSOCKET_CLIENT_MAX_BUFFERED_BYTES, options.onError),
      );
    };
  });
}

/**
 * Creates a client transport to a WebSocket server transport; each `connect()` opens a new socket.
 * @example
 * const transport = createWebSocketClientTransport({ url: 'ws://127.0.0.1:8080/ecsync' });
 * // Node 20 loads `ws` by itself (npm install ws); or pass one: createWebSocketClientTransport({ url, WebSocket });
 * const link = await transport.connect();
 */
export function createWebSocketClientTransport(options: WebSocketClientTransportOptions): ClientTransport {
  if (typeof options.url !== 'string' || !/^wss?:\/\//.test(options.url)) {
    usageError(
      `bad url ${JSON.stringify(options.url)}`,
      "pass a ws:// or wss:// URL, e.g. 'ws://127.0.0.1:8080/ecsync'",
    );
  }
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof Ctor !== 'function' && !isServerRuntime()) {
    usageError('no WebSocket in this environment', 'pass { WebSocket } (in Node: npm install ws, or use Node >= 22)');
  }
  if (options.connectTimeoutMs !== undefined && !(options.connectTimeoutMs > 0)) {
    usageError(`connectTimeoutMs must be > 0, got ${options.connectTimeoutMs}`, 'pass a positive number of ms');
  }
  let loaded: Promise<WebSocketConstructor> | null = null;
  return {
    connect: async () => {
      if (typeof Ctor === 'function') return connect(options, Ctor);
      loaded ??= loadNodeWebSocket();
      return connect(options, await loaded);
    },
  };
}
