/**
 * The matchmaker over HTTP, served by any room process (`createRoomHost({ matchmaker })`) or standalone
 * (`createMatchmakerServer`). `POST /matchmake/join` with `{name}` or `{roomId}` (and optionally `userId`)
 * answers 200 `{roomId, name, url, token, userId, expiresAtMs}` or an error `{code, message}`:
 * 400 bad request, 404 RoomUnknown, 409 RoomFull, 423 RoomLocked, 503 MatchmakerUnavailable.
 * `GET /matchmake/rooms[?name=]` lists the public rooms. Bodies are bounded and validated; joins in flight are capped.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JoinFailureCode, Matchmaker } from './matchmaker.ts';
import type { ScaleBackend } from './scale-backend.ts';
import { isId, isRoomName, parseJson } from './scale-records.ts';

/** A join request body is at most 4 KiB: a name or id and a user id. */
export const MAX_JOIN_BODY_BYTES = 4096;
/** Joins in flight at once per server: beyond, 503 (a client retries); bounds memory and registry load. */
export const MAX_JOINS_IN_FLIGHT = 256;

/** Who the caller is: a user id from the request (your session cookie or bearer token), or null to refuse (401). */
export type Identify = (request: IncomingMessage, body: { userId?: string }) => string | null | Promise<string | null>;

/** Options of the HTTP matchmaker. */
export interface MatchmakerHttpOptions {
  /** The matchmaker that grants the seats. */
  matchmaker: Matchmaker;
  /** Lists rooms for `GET /matchmake/rooms`. */
  backend: ScaleBackend;
  /** Default: the body's `userId` when valid, else a fresh id (no authentication). */
  identify?: Identify;
}

const STATUS: Record<JoinFailureCode, number> = {
  RoomUnknown: 404,
  RoomFull: 409,
  RoomLocked: 423,
  MatchmakerUnavailable: 503,
};

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': 'content-type, authorization',
    'Cache-Control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_JOIN_BODY_BYTES) {
        resolve(null);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

/** Counters of one HTTP matchmaker. */
export interface MatchmakerHttpStats {
  /** Requests to `/matchmake/*` handled. */
  requests: number;
  /** 400s: bodies too big, not JSON, or without a valid name or id. */
  badRequests: number;
  /** 503s because `MAX_JOINS_IN_FLIGHT` joins were already running. */
  overloaded: number;
}

/** A `/matchmake/*` request handler (false for other paths, left to the caller), with its counters. */
export type MatchmakerHandler = ((req: IncomingMessage, res: ServerResponse) => boolean) & {
  /** The handler's counters. */
  readonly stats: MatchmakerHttpStats;
};

/** Creates the handler of `/matchmake/*`. */
export function createMatchmakerHandler(options: MatchmakerHttpOptions): MatchmakerHandler {
  let inFlight = 0;
  const stats: MatchmakerHttpStats = { requests: 0, badRequests: 0, overloaded: 0 };
  const bad = (res: ServerResponse, message: string) => {
    stats.badRequests++;
    send(res, 400, { code: 'BadRequest', message });
  };
  const join = async (req: IncomingMessage, res: ServerResponse) => {
    const text = await readBody(req);
    const body = parseJson(text, MAX_JOIN_BODY_BYTES) as
      { name?: unknown; roomId?: unknown; userId?: unknown } | undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return bad(res, 'the body must be a JSON object');
    const target = isId(body.roomId) ? { roomId: body.roomId } : isRoomName(body.name) ? { name: body.name } : null;
    if (!target) return bad(res, 'pass {name} or {roomId}');
    const claimed = isId(body.userId) ? body.userId : undefined;
    const userId = options.identify ? await options.identify(req, { userId: claimed }) : claimed;
    if (options.identify && userId === null) return send(res, 401, { code: 'Unauthorized', message: 'who are you?' });
    const result = await options.matchmaker.join(target, userId ?? undefined);
    if (result.ok) send(res, 200, result.seat);
    else send(res, STATUS[result.code], { code: result.code, message: result.message });
  };
  const list = async (req: IncomingMessage, res: ServerResponse) => {
    const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name') ?? undefined;
    if (name !== undefined && !isRoomName(name)) return bad(res, 'bad name');
    const rooms = (await options.backend.listRooms(name)).filter((r) => !r.private);
    send(
      res,
      200,
      rooms.map(({ id, name: n, clients, reserved, capacity, locked, metadata }) => ({
        id,
        name: n,
        clients,
        reserved,
        capacity,
        locked,
        metadata,
      })),
    );
  };
  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '').split('?')[0];
    if (!path.startsWith('/matchmake/')) return false;
    stats.requests++;
    if (req.method === 'OPTIONS') {
      send(res, 204, null);
      return true;
    }
    const route =
      req.method === 'POST' && path === '/matchmake/join'
        ? join
        : req.method === 'GET' && path === '/matchmake/rooms'
          ? list
          : null;
    if (!route) {
      send(res, 404, { code: 'NotFound', message: 'POST /matchmake/join or GET /matchmake/rooms' });
      return true;
    }
    if (inFlight >= MAX_JOINS_IN_FLIGHT) {
      stats.overloaded++;
      send(res, 503, { code: 'MatchmakerUnavailable', message: 'too many joins in flight; retry' });
      return true;
    }
    inFlight++;
    route(req, res)
      .catch(() => {
        if (!res.headersSent) send(res, 503, { code: 'MatchmakerUnavailable', message: 'the registry did not answer' });
      })
      .finally(() => inFlight--);
    return true;
  };
  return Object.assign(handle, { stats });
}

/** A standalone matchmaker HTTP server. */
export interface MatchmakerServer {
  /** The TCP port the server listens on. */
  readonly port: number;
  /** The HTTP handler's counters. */
  readonly stats: MatchmakerHttpStats;
  /** Base URL, e.g. `http://127.0.0.1:9000`. */
  readonly url: string;
  /** Stops the HTTP server. */
  close(): Promise<void>;
}

/** Starts a standalone HTTP matchmaker (any number of them may run: they share the registry). */
export async function createMatchmakerServer(
  options: MatchmakerHttpOptions & { port?: number; host?: string },
): Promise<MatchmakerServer> {
  const handle = createMatchmakerHandler(options);
  const server = http.createServer((req, res) => {
    if (!handle(req, res)) send(res, 404, { code: 'NotFound', message: 'not found' });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    stats: handle.stats,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
