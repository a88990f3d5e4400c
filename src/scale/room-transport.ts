/**
 * The server transport of one hosted room: the room's own WebSocket endpoint (upgrades on `/rooms/<id>` routed to it
 * by the host) plus the geckos.io links the host's one geckos.io server routes to this room. The room's plugin sees
 * one transport; both kinds of link go through the same handshake and `authorize`.
 */
import type { Link, ServerTransport } from '../transport/transport.ts';
import type { WebSocketServerTransport } from '../transport/websocket-server-transport.ts';

/** One room's transport: its WebSocket endpoint and its share of the host's geckos.io server. */
export class RoomTransport implements ServerTransport {
  onconnection: ((link: Link) => void) | null = null;
  private closed = false;

  constructor(readonly websocket: WebSocketServerTransport) {
    websocket.onconnection = (link) => this.accept(link);
  }

  /** Hands a link (WebSocket, or geckos.io routed by the host) to the room; closed at once when the room is closed. */
  accept(link: Link): void {
    const deliver = this.onconnection;
    if (this.closed || !deliver) {
      link.close('room closed');
      return;
    }
    deliver(link);
  }

  /** Stops taking links and closes the WebSocket endpoint (the plugin closes the links it holds). */
  async close(): Promise<void> {
    this.closed = true;
    await this.websocket.close();
  }
}
