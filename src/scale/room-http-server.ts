/**
 * The HTTP server of a room process: serves the matchmaker when given one (else 404), and routes each WebSocket
 * upgrade on `/rooms/<id>` to that room's transport, cutting anything else.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { RoomRuntime } from './hosted-room.ts';
import type { Matchmaker } from './matchmaker.ts';
import { createMatchmakerHandler } from './matchmaker-http.ts';
import type { ScaleBackend } from './scale-backend.ts';

/** Creates the server and resolves once it listens on `port` (0: a free one) at `host`. */
export async function listenRoomServer(
  options: { matchmaker?: Matchmaker; backend: ScaleBackend; port: number; host: string },
  runtimes: ReadonlyMap<string, RoomRuntime>,
): Promise<http.Server> {
  const matchmake = options.matchmaker
    ? createMatchmakerHandler({ matchmaker: options.matchmaker, backend: options.backend })
    : () => false;
  const server = http.createServer((req, res) => {
    if (!matchmake(req, res)) res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  });
  // One upgrade listener routes `/rooms/<id>` to that room's transport; anything else is cut.
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    const m = /^\/rooms\/([^/]{1,400})$/.exec(path);
    let id: string | undefined;
    try {
      id = m ? decodeURIComponent(m[1]) : undefined;
    } catch {
      id = undefined;
    }
    const room = id === undefined ? undefined : runtimes.get(id);
    if (room && !room.detached) room.transport.websocket.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
