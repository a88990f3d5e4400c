/**
 * Node-only entry (`ecsync/server`): the server transports. Kept out of `index.ts` so a browser bundle of the
 * client never pulls in @geckos.io/server, node-datachannel or ws.
 */
export { createGeckosServerTransport, isGeckosServerLink } from './transport/geckos-server-transport.ts';
export { GECKOS_MAX_PENDING_ATTEMPTS, GECKOS_SERVER_CONNECT_TIMEOUT_MS } from './transport/geckos-attempts.ts';
export type { GeckosAttemptCounters, GeckosConnectFailure } from './transport/geckos-attempts.ts';
export type {
  GeckosServerTransport,
  GeckosServerTransportOptions,
  GeckosServerLink,
  GeckosAuthorizationResult,
} from './transport/geckos-server-transport.ts';
export { createWebSocketServerTransport } from './transport/websocket-server-transport.ts';
export type {
  WebSocketServerTransport,
  WebSocketServerTransportOptions,
} from './transport/websocket-server-transport.ts';
