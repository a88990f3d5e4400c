/**
 * The one geckos.io (WebRTC) server of a room host, shared by all its rooms: one signalling endpoint and one UDP
 * port range per process. A client connects with its seat reservation as geckos.io's `authorization` (the HTTP
 * Authorization header of the signalling request); the reservation names the room. Before any WebRTC work the
 * token is checked (length, signature, expiry) and its room looked up here: anything else is refused at signalling,
 * counted, and never reaches a room. Attempts between signalling and the open data channel are bounded by the
 * transport's `maxPendingAttempts` (HTTP 503 beyond). An open channel is handed to its room at once, where the
 * handshake and the room's `authorize` (which turns the seat into a client, once) run as for a WebSocket.
 */
import type http from 'node:http';
import { NetError, usageError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import { createGeckosServerTransport, isGeckosServerLink } from '../transport/geckos-server-transport.ts';
import type { GeckosServerTransport } from '../transport/geckos-server-transport.ts';
import type { GeckosAttemptCounters, GeckosConnectFailure } from '../transport/geckos-attempts.ts';
import type { IceServer, Link } from '../transport/transport.ts';
import type { RoomRuntime } from './hosted-room.ts';
import { isGeckosUrl, isId } from './scale-records.ts';
import { decodeReservation, MAX_RESERVATION_CHARS } from './seat-reservation.ts';

/** The geckos.io server of a room host (option `geckos` of `createRoomHost`). */
export interface RoomHostGeckosOptions {
  /**
   * TCP port of a signalling server of its own (0 picks a free one). Default: signalling on the host's HTTP server,
   * next to the WebSocket rooms and the matchmaker (under `/.wrtc/`).
   */
  port?: number;
  /** UDP ports the data channels of all rooms of this process use; publish them as is (default: any). */
  portRange?: {
    /** Lowest UDP port (>= 1025). */
    min: number;
    /** Highest UDP port. */
    max: number;
  };
  /** STUN/TURN servers; default none (loopback and LAN need none; behind NAT the server needs STUN). */
  iceServers?: IceServer[];
  /** Local address ICE binds to (default: the host's `host` when it is a specific IPv4 address; see the transport). */
  iceBindAddress?: string;
  /** The signalling origin advertised to clients, `http(s)://host[:port]` without path (default from the server). */
  publicUrl?: string;
  /** An attempt whose data channel is not open by then is closed and reported (default 15 s). */
  connectTimeoutMs?: number;
  /** Attempts between signalling and the open channel at once, for all rooms; more answer HTTP 503 (default 256). */
  maxPendingAttempts?: number;
  /** Bytes a data channel may hold before `send` drops (default `GECKOS_MAX_BUFFERED_BYTES`). */
  maxBufferedBytes?: number;
  /** CORS of the signalling routes, for pages served from another origin (see `createGeckosServerTransport`). */
  cors?: {
    /** The allowed origin, or a function of the request that returns it. */
    origin?: string | ((request: http.IncomingMessage) => string);
    /** Whether the Authorization header is allowed in cross-origin requests (the reservation travels in it). */
    allowAuthorization?: boolean;
  };
  /** Hears why each WebRTC connection attempt failed (log it: the client only sees a timeout). */
  onConnectFailed?: (failure: GeckosConnectFailure) => void;
}

/** Counters of a room host's geckos.io routing. */
export interface GeckosRouteStats {
  /** Open data channels handed to their room. */
  routed: number;
  /** Signalling refused: no authorization, oversize, malformed or not signed by the deployment key (HTTP 401). */
  refusedInvalid: number;
  /** Signalling refused: the reservation expired (HTTP 401). */
  refusedExpired: number;
  /** Signalling refused: the reservation names a room this process does not host, or no longer (HTTP 404). */
  refusedUnknownRoom: number;
  /** Channels that opened after their room went away (closed at once). */
  unroutable: number;
}

/** The geckos.io endpoint of a running room host. */
export interface RoomHostGeckos {
  /** The signalling origin advertised in the registry and in seats. */
  readonly url: string;
  /** TCP port of the signalling server (the host's HTTP port unless `port` was given). */
  readonly port: number;
  /** Routing counters. */
  readonly stats: Readonly<GeckosRouteStats>;
  /** The transport's attempt counters: pending (bounded by `maxPendingAttempts`), failed, refused busy. */
  readonly attempts: Readonly<GeckosAttemptCounters>;
}

/** The router as the host drives it. */
export interface GeckosRouter extends RoomHostGeckos {
  /** Closes every geckos.io connection and the signalling server (or detaches from the host's). */
  close(): Promise<void>;
}

/** What the router needs from its host. */
export interface GeckosRouterEnv {
  /** The host's HTTP server (signalling goes there unless `port` is given). */
  server: http.Server;
  /** The address the host listens on. */
  host: string;
  /** The deployment's public key (checks reservations at signalling). */
  publicKey: Uint8Array;
  /** The room of an id, when it runs here. */
  room: (id: string) => RoomRuntime | undefined;
  /** Receives every refusal (`GeckosRouteRefused`) and the transport's network problems. */
  onError?: ErrorHandler;
}

/** Starts the host's geckos.io server. */
export async function startGeckosRouter(options: RoomHostGeckosOptions, env: GeckosRouterEnv): Promise<GeckosRouter> {
  if (options.publicUrl !== undefined && !isGeckosUrl(options.publicUrl))
    usageError(
      `geckos.publicUrl ${JSON.stringify(options.publicUrl)} is not an http(s) origin`,
      "pass scheme, host and port without path, e.g. 'https://p1.play.example.com'",
    );
  const stats: GeckosRouteStats = {
    routed: 0,
    refusedInvalid: 0,
    refusedExpired: 0,
    refusedUnknownRoom: 0,
    unroutable: 0,
  };
  const refuse = (counter: 'refusedInvalid' | 'refusedExpired' | 'refusedUnknownRoom', why: string) => {
    stats[counter]++;
    env.onError?.(new NetError('GeckosRouteRefused', `geckos.io connection refused at signalling: ${why}`));
    return counter === 'refusedUnknownRoom' ? 404 : 401;
  };
  const authorization = (token: string | undefined): number | Record<string, unknown> => {
    if (typeof token !== 'string' || token.length === 0) return refuse('refusedInvalid', 'no seat reservation');
    if (token.length > MAX_RESERVATION_CHARS) return refuse('refusedInvalid', 'the authorization is oversize');
    const claims = decodeReservation(token, env.publicKey);
    if (claims === 'invalid') return refuse('refusedInvalid', 'the seat reservation is malformed or not signed');
    if (claims.expiresAtMs <= Date.now()) return refuse('refusedExpired', 'the seat reservation expired');
    const room = env.room(claims.roomId);
    if (!room || room.detached) return refuse('refusedUnknownRoom', `no room ${claims.roomId} runs here`);
    return { roomId: claims.roomId };
  };
  const transport: GeckosServerTransport = await createGeckosServerTransport({
    ...(options.port === undefined ? { httpServer: env.server } : { port: options.port }),
    host: env.host,
    portRange: options.portRange,
    iceServers: options.iceServers,
    iceBindAddress: options.iceBindAddress,
    connectTimeoutMs: options.connectTimeoutMs,
    maxPendingAttempts: options.maxPendingAttempts,
    maxBufferedBytes: options.maxBufferedBytes,
    cors: options.cors,
    onConnectFailed: options.onConnectFailed,
    authorization,
    onError: env.onError,
  });
  transport.onconnection = (link: Link) => {
    const roomId = isGeckosServerLink(link) ? (link.userData as { roomId?: unknown }).roomId : undefined;
    const room = isId(roomId) ? env.room(roomId) : undefined;
    if (!room || room.detached) {
      stats.unroutable++;
      link.close('room gone');
      return;
    }
    stats.routed++;
    room.transport.accept(link);
  };
  const port = transport.port;
  const address = env.host === '0.0.0.0' || env.host === '::' ? '127.0.0.1' : env.host;
  const url = options.publicUrl ?? `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  return {
    url,
    port,
    stats,
    attempts: transport.attempts,
    close: () => transport.close(),
  };
}
