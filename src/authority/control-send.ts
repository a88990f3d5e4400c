/** Sending reliable control messages from the server authority layer to one client, a client by id, or all. */
import { encodeControl } from '../codec/message-frame.ts';
import type { ServerPeer, ServerSession } from '../session/server-session.ts';

/** True when the client offered deflate and the server grants it (its Welcome capabilities). */
export function deflates(peer: ServerPeer): boolean {
  return peer.capabilities.includes('deflate');
}

/** Sends to a client that is connected and whose connection is open; otherwise drops the message. */
export function sendControl(peer: ServerPeer, tag: number, body: unknown): void {
  if (peer.state === 'connected' && peer.connection.isOpen) peer.connection.sendReliable(encodeControl(tag, body));
}

/** Sends to a client by id, if it is in the session. */
export function sendControlToId(session: ServerSession, clientId: number, tag: number, body: unknown): void {
  const peer = session.peers.get(clientId);
  if (peer) sendControl(peer, tag, body);
}

/** Encodes once and sends to every open connection of the session. */
export function broadcastControl(session: ServerSession, tag: number, body: unknown): void {
  const msg = encodeControl(tag, body);
  for (const p of session.peers.values()) if (p.connection.isOpen) p.connection.sendReliable(msg);
}
