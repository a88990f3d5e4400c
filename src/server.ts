/**
 * Node-only entry (`ecsync/server`): the server transports. Kept out of `index.ts` so a browser bundle of the
 * client never pulls in @geckos.io/server, node-datachannel or ws.
 */
export { createGeckosServerTransport, isGeckosServerLink } from './transport/geckos-server-transport.ts';
export type {
  GeckosServerTransport,
  GeckosServerTransportOptions,
  GeckosServerLink,
} from './transport/geckos-server-transport.ts';
export { createWebSocketServerTransport } from './transport/websocket-server-transport.ts';
export type { WebSocketServerTransportOptions } from './transport/websocket-server-transport.ts';
