/**
 * The server side of the geckos.io transport: WebRTC data channels (unordered, no retransmission) signalled over HTTP.
 * ecsync packets travel as raw binary messages; geckos.io's own events and its 10x "reliable" mode are not used
 * (ecsync's connection layer does reliability). Node only.
 */
import http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import { isIPv4 } from 'node:net';
import type { ServerChannel } from '@geckos.io/server';
import { usageError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import { MAX_PACKET_BYTES } from './transport.ts';
import type { CloseReason, IceServer, Link, ServerTransport } from './transport.ts';
import { SocketLink, createLinkCounters } from './socket-link.ts';
import {
  GECKOS_MAX_PENDING_ATTEMPTS,
  GECKOS_SERVER_CONNECT_TIMEOUT_MS,
  watchGeckosAttempts,
} from './geckos-attempts.ts';
import type { GeckosAttemptCounters, GeckosConnectFailure } from './geckos-attempts.ts';
import type { LinkCounters } from './socket-link.ts';
import { loadPeer } from './load-peer.ts';

/**
 * Bytes a data channel may hold before `send` drops: four full packets, so one tick may send a burst of five.
 * libdatachannel counts only what waits above SCTP's own send buffer, so this is reached once SCTP is full; not
 * more, because unreliable data queued behind congestion is stale anyway.
 */
export const GECKOS_MAX_BUFFERED_BYTES = 4 * MAX_PACKET_BYTES;

/** What `authorization` returns: true accepts, false answers 401, a number is the HTTP status, an object is userData. */
export type GeckosAuthorizationResult = boolean | number | Record<string, unknown>;

/** Options of `createGeckosServerTransport`. */
export interface GeckosServerTransportOptions {
  /** Port of the signalling HTTP server (0 picks a free one). Required unless `httpServer` is given. */
  port?: number;
  /** Address the signalling server listens on (default '127.0.0.1'); also the default ICE bind address. */
  host?: string;
  /** Serve signalling on this existing HTTP(S) server (e.g. Vite's) instead of listening on `port`. */
  httpServer?: http.Server | https.Server;
  /** STUN/TURN servers; default none, which suits loopback and LAN (the server needs STUN only behind NAT). */
  iceServers?: IceServer[];
  /** UDP ports the data channels may use. */
  portRange?: {
    /** Lowest UDP port. */
    min: number;
    /** Highest UDP port. */
    max: number;
  };
  /**
   * Local address ICE binds to; default `host` when it is a specific IPv4 address, else per attempt: loopback for a
   * client on this machine (libdatachannel gathers no loopback candidate by itself), every interface for others.
   */
  iceBindAddress?: string;
  /** An attempt whose data channel is not open by then is closed and reported (default 15 s). */
  connectTimeoutMs?: number;
  /** Attempts between signalling and the open channel at once; more are answered HTTP 503 (default 256). */
  maxPendingAttempts?: number;
  /** Hears why each WebRTC connection attempt failed (log it: the client only sees a timeout). */
  onConnectFailed?: (failure: GeckosConnectFailure) => void;
  /** CORS of the signalling routes (geckos.io's option), for pages served from another origin. */
  cors?: {
    /** The allowed origin, or a function of the request that returns it. */
    origin?: string | ((request: http.IncomingMessage) => string);
    /** Whether the Authorization header is allowed in cross-origin requests. */
    allowAuthorization?: boolean;
  };
  /**
   * Checks the client's `authorization` string (sent as the HTTP Authorization header) before any WebRTC work.
   * A returned object becomes the link's `userData` (and is echoed to the client: keep secrets out of it).
   */
  authorization?: (
    authorization: string | undefined,
    request: http.IncomingMessage,
    response: http.OutgoingMessage,
  ) => GeckosAuthorizationResult | Promise<GeckosAuthorizationResult>;
  /** Bytes a data channel may hold before `send` drops (default `GECKOS_MAX_BUFFERED_BYTES`). */
  maxBufferedBytes?: number;
  /** Receives every problem caused by network input (non-binary or oversize messages). */
  onError?: ErrorHandler;
}

/** A link accepted by the geckos.io server transport. */
export interface GeckosServerLink extends Link {
  /** geckos.io's channel id (24 characters). */
  readonly id: string;
  /** What `authorization` returned as an object, else `{}`. */
  readonly userData: unknown;
  /** Packet counters of this link since creation. */
  readonly counters: LinkCounters;
}

/** The geckos.io server transport. */
export interface GeckosServerTransport extends ServerTransport {
  /** Port the signalling server listens on. */
  readonly port: number;
  /** Counters of every link together, closed ones included. */
  readonly counters: LinkCounters;
  /** Connection attempts: in flight, failed, refused because too many were in flight. */
  readonly attempts: Readonly<GeckosAttemptCounters>;
  /** Closes every link, then the signalling server (or detaches from `httpServer`). */
  close(): Promise<void>;
}

/** The part of node-datachannel's DataChannel this transport calls. */
interface NativeDataChannel {
  bufferedAmount(): number;
  sendMessageBinary(bytes: Uint8Array): boolean | void;
  onMessage(callback: (message: string | Uint8Array) => void): void;
}

/** True for a link handed out by a geckos.io server transport. */
export function isGeckosServerLink(link: Link): link is GeckosServerLink {
  return link instanceof GeckosLink;
}

class GeckosLink extends SocketLink implements GeckosServerLink {
  readonly id: string;
  readonly userData: unknown;
  /** Reason to report when geckos.io says the connection ended, instead of its state; set by the transport's close. */
  closeReason: CloseReason | null = null;

  constructor(
    private readonly channel: ServerChannel,
    private readonly dataChannel: NativeDataChannel,
    private readonly links: Set<GeckosLink>,
    total: LinkCounters,
    maxBufferedBytes: number,
    onError: ErrorHandler | undefined,
  ) {
    super(total, maxBufferedBytes, onError);
    this.id = channel.id as string;
    this.userData = channel.userData ?? {};
    // Replace geckos.io's message parser: it turns text into events (a client could fake 'disconnect') and throws
    // on some input (the text "null"). Raw binary is all ecsync sends.
    dataChannel.onMessage((message) => this.receive(message));
    channel.onDisconnect((state) => this.finish(this.closeReason ?? describeEnd(state)));
    links.add(this);
  }

  protected override released(): void {
    this.links.delete(this);
  }

  protected bufferedBytes(): number {
    return this.dataChannel.bufferedAmount();
  }

  protected write(packet: Uint8Array): boolean {
    // A Buffer view, no copy: node-datachannel copies natively. It returns false when the message was queued rather
    // than sent at once (still delivered: the bound above is what limits the queue) and throws when it cannot send.
    try {
      this.dataChannel.sendMessageBinary(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
      return true;
    } catch {
      return false;
    }
  }

  protected shutdown(): void {
    // geckos.io's close() rejects only on its own 2 s timeouts; the link is closed for ecsync either way.
    this.channel.close().catch(() => {});
  }
}

/** Turns the connection state geckos.io reports at the end into a close reason. */
function describeEnd(state: unknown): CloseReason {
  // Its close request, or its peer connection closing (libdatachannel reports the remote ending the association as
  // 'disconnected').
  if (state === 'closed' || state === 'disconnected') return 'closed by client';
  if (state === 'failed') return 'connection failed'; // e.g. ICE consent expired: the client vanished
  return String(state);
}

function defaultIceBindAddress(host: string | undefined): string | undefined {
  return host !== undefined && isIPv4(host) && host !== '0.0.0.0' ? host : undefined;
}

function checkOptions(options: GeckosServerTransportOptions): void {
  const { port, portRange, maxBufferedBytes } = options;
  if (options.httpServer === undefined && port === undefined) {
    usageError('geckos.io server transport needs a port', 'pass { port } (0 picks a free one) or { httpServer }');
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    usageError(`port must be an integer in 0..65535, got ${port}`, 'pass a valid TCP port');
  }
  if (portRange !== undefined && !(portRange.min >= 1025 && portRange.max <= 65535 && portRange.min < portRange.max)) {
    usageError(`bad portRange ${JSON.stringify(portRange)}`, 'pass { min, max } with 1025 <= min < max <= 65535');
  }
  if (options.connectTimeoutMs !== undefined && !(options.connectTimeoutMs > 0)) {
    usageError(`connectTimeoutMs must be > 0, got ${options.connectTimeoutMs}`, 'pass a positive number of ms');
  }
  if (
    options.maxPendingAttempts !== undefined &&
    !(Number.isInteger(options.maxPendingAttempts) && options.maxPendingAttempts > 0)
  ) {
    usageError(`maxPendingAttempts must be an integer > 0, got ${options.maxPendingAttempts}`, 'pass a count');
  }
  if (maxBufferedBytes !== undefined && !(maxBufferedBytes >= 0)) {
    usageError(`maxBufferedBytes must be >= 0, got ${maxBufferedBytes}`, 'pass a byte count');
  }
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Starts a geckos.io server carrying ecsync packets. Clients connect with `createGeckosClientTransport` (browser or
 * Node). Needs `@geckos.io/server` and its native `node-datachannel` (0.33.x installs offline: see the README),
 * loaded when called (a `Usage` NetError when `@geckos.io/server` is not installed).
 * @example
 * const transport = await createGeckosServerTransport({ port: 9208, host: '0.0.0.0' });
 * transport.onconnection = (link) => { link.onpacket = (packet) => link.send(packet.slice()); };
 */
export async function createGeckosServerTransport(
  options: GeckosServerTransportOptions,
): Promise<GeckosServerTransport> {
  checkOptions(options);
  const { default: geckosServer } = await loadPeer(
    '@geckos.io/server',
    'createGeckosServerTransport',
    () => import('@geckos.io/server'),
  );
  const external = options.httpServer;
  const server: http.Server = (external as http.Server | undefined) ?? http.createServer();
  const listening = external?.address() as AddressInfo | null | undefined;
  const host = options.host ?? (external ? listening?.address : '127.0.0.1');
  const maxBufferedBytes = options.maxBufferedBytes ?? GECKOS_MAX_BUFFERED_BYTES;
  const bindAddress = options.iceBindAddress ?? defaultIceBindAddress(host);
  const io = geckosServer({
    iceServers: options.iceServers ?? [],
    portRange: options.portRange,
    bindAddress,
    cors: options.cors as never,
    authorization: options.authorization as never,
    // geckos.io's defaults, spelled out: ecsync relies on them.
    ordered: false,
    maxRetransmits: 0,
  });
  const attempts = watchGeckosAttempts(io.connectionsManager, {
    bindAddress,
    connectTimeoutMs: options.connectTimeoutMs ?? GECKOS_SERVER_CONNECT_TIMEOUT_MS,
    maxPendingAttempts: options.maxPendingAttempts ?? GECKOS_MAX_PENDING_ATTEMPTS,
    onFailure: options.onConnectFailed,
  });
  const counters = createLinkCounters();
  const links = new Set<GeckosLink>();
  let closed = false;

  // geckos.io hooks the HTTP server's 'close' to close every connection of the *process* and to drop every
  // onConnection listener of every geckos server (both are module-global). This transport closes its own
  // connections instead, so other servers in the same process keep working.
  const closeListeners = server.listeners('close');
  const requestListeners = server.listeners('request');
  io.addServer(server);
  for (const listener of server.listeners('close')) {
    if (!closeListeners.includes(listener)) server.off('close', listener as () => void);
  }
  const geckosRequestListener = server.listeners('request').find((l) => !requestListeners.includes(l));

  const transport: GeckosServerTransport = {
    onconnection: null,
    port: 0,
    counters,
    attempts: attempts.counters,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      attempts.dispose();
      for (const link of links) link.closeReason = 'server closed';
      const closeAll = () =>
        Promise.allSettled([...io.connectionsManager.connections.values()].map((connection) => connection.close()));
      await closeAll();
      if (!external) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      } else if (geckosRequestListener) {
        // Give the external server its own request listeners back.
        server.off('request', geckosRequestListener as () => void);
        for (const listener of requestListeners) server.on('request', listener as () => void);
      }
      // Connections whose signalling was under way during the first pass.
      await closeAll();
    },
  };

  // geckos.io announces every server's connections to every onConnection listener in the process: keep ours.
  io.onConnection((channel) => {
    if (io.connectionsManager.getConnection(channel.id as string)?.channel !== channel) return;
    attempts.opened(channel.id as string);
    if (closed) {
      channel.close().catch(() => {});
      return;
    }
    const dataChannel = channel.dataChannel as unknown as NativeDataChannel;
    const link = new GeckosLink(channel, dataChannel, links, counters, maxBufferedBytes, options.onError);
    transport.onconnection?.(link);
  });

  if (!external) await listen(server, options.port ?? 0, host ?? '127.0.0.1');
  const address = server.address() as AddressInfo | null;
  (transport as { port: number }).port = address?.port ?? options.port ?? 0;
  return transport;
}
