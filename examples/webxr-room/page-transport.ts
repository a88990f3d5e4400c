/**
 * Which transport the page uses: geckos.io (WebRTC data channels, UDP) by default, falling back to the WebSocket
 * when WebRTC fails (blocked UDP, a strict proxy); `?transport=ws` or `?transport=geckos` forces one. Both reach
 * the server on the page's own origin, so the certificate accepted for the page covers them.
 */
import { createWebSocketClientTransport } from '../../src/index.ts';
import { createGeckosClientTransport } from '../../src/geckos.ts';
import type { ClientTransport } from '../../src/index.ts';

/** WebRTC gets this long before the page falls back: loopback and LAN connect in well under a second. */
export const WEBRTC_FALLBACK_AFTER_MS = 5000;

/** Path of the WebSocket endpoint on the server (see server.ts). */
export const WEBSOCKET_PATH = '/ecsync';

/** What the page asked for and what it got. */
export interface PageTransport {
  transport: ClientTransport;
  /** 'geckos', 'ws', or 'auto' (geckos first). */
  readonly requested: string;
  /** The transport of the open link: '' until connected, then 'geckos', 'ws' or 'ws (fallback)'. */
  readonly used: string;
}

/** Builds the transport `?transport=` asks for, on `location`'s origin. */
export function createPageTransport(location: Location): PageTransport {
  const requested = new URLSearchParams(location.search).get('transport') ?? 'auto';
  const secure = location.protocol === 'https:';
  const port = Number(location.port) || (secure ? 443 : 80);
  const ws = createWebSocketClientTransport({ url: `${secure ? 'wss' : 'ws'}://${location.host}${WEBSOCKET_PATH}` });
  let geckos: ClientTransport;
  try {
    geckos = createGeckosClientTransport({
      url: `${location.protocol}//${location.hostname}`,
      port,
      connectTimeoutMs: WEBRTC_FALLBACK_AFTER_MS,
    });
  } catch (error) {
    // No WebRTC in this browser at all: every connect fails, and 'auto' falls back at once.
    geckos = { connect: () => Promise.reject(error) };
  }
  const result: PageTransport = { transport: geckos, requested, used: '' };
  const settle = (used: string) => ((result as { used: string }).used = used);
  result.transport = {
    async connect() {
      if (requested === 'ws') return ws.connect().then((link) => (settle('ws'), link));
      if (requested === 'geckos') return geckos.connect().then((link) => (settle('geckos'), link));
      try {
        const link = await geckos.connect();
        settle('geckos');
        return link;
      } catch {
        const link = await ws.connect();
        settle('ws (fallback)');
        return link;
      }
    },
  };
  return result;
}
