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
  /** What the page tells the user about WebRTC: how long it waits, or why it fell back; '' once WebRTC is up. */
  readonly note: string;
}

/** The reason of a failed WebRTC attempt, without the fix the page says in its own words. */
function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/ \(fix: .*\)$/, '');
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
  const result: PageTransport = { transport: geckos, requested, used: '', note: '' };
  const settle = (used: string) => ((result as { used: string }).used = used);
  const tell = (note: string) => ((result as { note: string }).note = note);
  const waitSeconds = WEBRTC_FALLBACK_AFTER_MS / 1000;
  result.transport = {
    async connect() {
      if (requested === 'ws') return ws.connect().then((link) => (settle('ws'), link));
      if (requested === 'geckos') {
        tell(`WebRTC: connecting (forced by ?transport=geckos, no fallback; gives up after ${waitSeconds} s)`);
        try {
          const link = await geckos.connect();
          tell('');
          settle('geckos');
          return link;
        } catch (error) {
          tell(`WebRTC failed: ${reasonOf(error)}. Retrying (forced by ?transport=geckos); the server logs why.`);
          console.warn('[room] WebRTC failed:', error);
          throw error;
        }
      }
      tell(`WebRTC: connecting; falls back to WebSocket after ${waitSeconds} s`);
      try {
        const link = await geckos.connect();
        tell('');
        settle('geckos');
        return link;
      } catch (error) {
        tell(`Fell back to WebSocket: WebRTC failed: ${reasonOf(error)}. The server logs why.`);
        console.warn('[room] WebRTC failed, using the WebSocket:', error);
        const link = await ws.connect();
        settle('ws (fallback)');
        return link;
      }
    },
  };
  return result;
}
