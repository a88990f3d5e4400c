/**
 * The geckos.io client entry (`ecsync/geckos`): WebRTC data channels to a geckos.io server transport. Kept out of
 * `index.ts` so that an application using only WebSockets never needs the optional peer `@geckos.io/client`.
 */
export {
  createGeckosClientTransport,
  GECKOS_CONNECT_TIMEOUT_MS,
  GECKOS_CLIENT_MAX_BUFFERED_BYTES,
} from './transport/geckos-client-transport.ts';
export type {
  GeckosClientTransportOptions,
  GeckosClientLink,
  PeerConnectionConstructor,
} from './transport/geckos-client-transport.ts';
// Scale-out over WebRTC: the connector `joinRoom({ transport: 'geckos' | 'auto', geckos })` opens links with.
export { geckosSeatConnector } from './scale/geckos-seat.ts';
export type { GeckosSeatOptions } from './scale/geckos-seat.ts';
