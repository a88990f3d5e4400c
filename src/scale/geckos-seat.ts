/**
 * The geckos.io side of `joinRoom` (entry `ecsync/geckos`, so `ecsync` itself never needs @geckos.io/client): a
 * connector that opens a geckos.io client transport to a room process's signalling origin, presenting the seat
 * reservation as geckos.io's authorization, which names the room (the room host routes on it).
 */
import { usageError } from '../errors.ts';
import { createGeckosClientTransport } from '../transport/geckos-client-transport.ts';
import type { GeckosClientTransportOptions } from '../transport/geckos-client-transport.ts';
import type { GeckosSeatConnector } from './join-room.ts';

/** Options of `geckosSeatConnector`: the geckos.io client options but where to connect and the authorization. */
export type GeckosSeatOptions = Omit<GeckosClientTransportOptions, 'url' | 'port' | 'authorization'>;

/**
 * A connector for `joinRoom({ transport: 'geckos' | 'auto', geckos })`.
 * @example
 * import { joinRoom } from 'ecsync';
 * import { geckosSeatConnector } from 'ecsync/geckos';
 * const client = await joinRoom({ matchmaker, room: 'lobby', create, transport: 'auto', geckos: geckosSeatConnector() });
 * // Node: geckosSeatConnector({ RTCPeerConnection }) with node-datachannel/polyfill's RTCPeerConnection
 */
export function geckosSeatConnector(options: GeckosSeatOptions = {}): GeckosSeatConnector {
  return ({ url, token }) => {
    let origin: URL;
    try {
      origin = new URL(url);
    } catch {
      return usageError(`geckos.io URL ${JSON.stringify(url)} is not a URL`, 'the room host advertises an origin');
    }
    const port = origin.port !== '' ? Number(origin.port) : origin.protocol === 'https:' ? 443 : 80;
    return createGeckosClientTransport({
      ...options,
      url: `${origin.protocol}//${origin.hostname}`,
      port,
      authorization: token,
    });
  };
}
