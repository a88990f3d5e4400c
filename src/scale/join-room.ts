/**
 * The client side of scale-out (browser and Node): ask the matchmaker for a seat, connect to the room's process
 * with the signed reservation, and follow the room when a drain moves it (the Move notice carries the new URL and a
 * fresh reservation). Failures are NetErrors with the scale-out codes: RoomFull, RoomLocked, RoomUnknown,
 * ReservationExpired, ReservationInvalid, MatchmakerUnavailable.
 */
import { NetError } from '../errors.ts';
import type { ErrorCodeName } from '../errors.ts';
import { createNetworkPlugin } from '../plugin.ts';
import type { ClientPluginOptions, NetworkPlugin } from '../plugin-options.ts';
import type { MoveNotice } from '../protocol/session-messages.ts';
import type { Protocol } from '../register.ts';
import { createWebSocketClientTransport } from '../transport/websocket-client-transport.ts';
import type { WebSocketConstructor } from '../transport/websocket-client-transport.ts';
import { connectionErrorOf, onSessionEvent } from '../world-api.ts';

/** A seat the matchmaker granted (as `POST /matchmake/join` answers). */
export interface RoomSeat {
  /** Id of the granted room. */
  roomId: string;
  /** The room definition's name. */
  name: string;
  /** The room's WebSocket URL. */
  url: string;
  /** The signed seat reservation, passed as the client's `auth`. */
  token: string;
  /** The user id the seat is held for. */
  userId: string;
  /** When the reservation expires, in wall-clock ms (`Date.now()` time). */
  expiresAtMs: number;
}

/** How a client plugin is made for a seat: everything of `ClientPluginOptions` but role, link, transport and auth. */
export type RoomClientOptions<W extends object> = Omit<
  ClientPluginOptions,
  'role' | 'link' | 'transport' | 'auth' | 'protocol'
> & {
  /** A fresh world and its protocol for each connection (a move starts over from the new process's state). */
  create: () => {
    /** The fresh bitecs world. */
    world: W;
    /** The protocol its components are registered in (the same on every peer). */
    protocol: Protocol;
  };
  /** WebSocket constructor (default: the global one, or `ws` under Node). */
  WebSocket?: WebSocketConstructor;
  /** How long connecting may take (default 10 s). */
  connectTimeoutMs?: number;
  /** Called after the room moved, with the client now connected to the new process. */
  onMove?: (client: RoomClient<W>) => void;
};

/** Options of `requestSeat`. */
export interface SeatRequest {
  /** The matchmaker's base URL, e.g. `https://play.example.com` (it serves `/matchmake/join`). */
  matchmaker: string;
  /** A room name (join-or-create) or `{ id }` of one room. */
  room:
    | string
    | {
        /** Id of the room. */
        id: string;
      };
  /** The user id to ask the seat for (default: the matchmaker's choice, e.g. a fresh id). */
  userId?: string;
  /** `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

/** Options of `joinRoom`. */
export type JoinRoomOptions<W extends object> = SeatRequest & RoomClientOptions<W>;

/** A client in a room; `world` and `net` change when the room moves to another process. */
export interface RoomClient<W extends object> {
  /** The client's world now (a fresh one after each move). */
  readonly world: W;
  /** The client's network plugin now (a fresh one after each move). */
  readonly net: NetworkPlugin;
  /** The seat the client holds now. */
  readonly seat: RoomSeat;
  /** How many times the room moved under this client. */
  readonly moves: number;
  /** Disposes the current network plugin (closes its connection) and stops following moves. */
  dispose(): Promise<void>;
}

/** Default time to open the socket and finish the handshake. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** While connecting, the plugin is stepped this often (the application takes over once connected). */
const CONNECT_STEP_MS = 10;
const CODES: readonly ErrorCodeName[] = ['RoomFull', 'RoomLocked', 'RoomUnknown', 'MatchmakerUnavailable'];

function isSeat(v: unknown): v is RoomSeat {
  const s = v as Partial<RoomSeat> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.roomId === 'string' &&
    typeof s.name === 'string' &&
    typeof s.url === 'string' &&
    /^wss?:\/\//.test(s.url) &&
    typeof s.token === 'string' &&
    typeof s.userId === 'string' &&
    typeof s.expiresAtMs === 'number'
  );
}

/** Asks the matchmaker for a seat; rejects with a NetError naming why there is none. */
export async function requestSeat(request: SeatRequest): Promise<RoomSeat> {
  const body = typeof request.room === 'string' ? { name: request.room } : { roomId: request.room.id };
  const doFetch = request.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(new URL('/matchmake/join', request.matchmaker), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, userId: request.userId }),
    });
  } catch (e) {
    throw new NetError('MatchmakerUnavailable', `the matchmaker could not be reached: ${String(e)}`);
  }
  const answer = (await response.json().catch(() => null)) as { code?: unknown; message?: unknown } | null;
  if (response.ok && isSeat(answer)) return answer;
  const code = CODES.find((c) => c === answer?.code) ?? 'MatchmakerUnavailable';
  const message = typeof answer?.message === 'string' ? answer.message.slice(0, 300) : `HTTP ${response.status}`;
  throw new NetError(code, message);
}

/** Connects a fresh world to a seat's room; resolves once welcomed. */
export async function connectToSeat<W extends object>(
  seat: Pick<RoomSeat, 'url' | 'token' | 'expiresAtMs'>,
  options: RoomClientOptions<W>,
): Promise<{
  /** The connected world. */
  world: W;
  /** Its client network plugin, welcomed. */
  net: NetworkPlugin;
}> {
  const { create, WebSocket, connectTimeoutMs, onMove: _onMove, ...pluginOptions } = options;
  const { world, protocol } = create();
  const transport = createWebSocketClientTransport({ url: seat.url, WebSocket, connectTimeoutMs });
  let settled = false;
  let resolveDone: ((error: NetError | null) => void) | undefined;
  const done = new Promise<NetError | null>((resolve) => (resolveDone = resolve));
  const settle = (error: NetError | null) => {
    if (settled) return;
    settled = true;
    resolveDone?.(error);
  };
  const net = createNetworkPlugin(world, {
    ...pluginOptions,
    role: 'client',
    protocol,
    transport,
    auth: seat.token,
    onStateChange: (state, previous) => {
      pluginOptions.onStateChange?.(state, previous);
      if (settled) return;
      if (state === 'connected') settle(null);
      if (state === 'error' || state === 'closed')
        settle(connectionErrorOf(world) ?? new NetError('Timeout', 'the room closed the connection'));
    },
  });
  const step = setInterval(() => {
    net.receive(world);
    net.send(world);
  }, CONNECT_STEP_MS);
  const timer = setTimeout(
    () => settle(new NetError('Timeout', 'the room did not welcome us in time')),
    connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  );
  const error = await done;
  clearInterval(step);
  clearTimeout(timer);
  if (!error) return { world, net };
  await net.dispose();
  if (error.code === 'Unauthorized') {
    const expired = Date.now() >= seat.expiresAtMs;
    throw new NetError(
      expired ? 'ReservationExpired' : 'ReservationInvalid',
      expired ? 'the seat reservation expired before it was used' : 'the room refused the seat reservation',
    );
  }
  throw error;
}

/**
 * Joins a room through the matchmaker and returns a connected client; follows the room when it moves.
 * @example
 * const client = await joinRoom({ matchmaker: 'https://play.example.com', room: 'lobby', create: defineTableWorld });
 * // each frame: client.net.receive(client.world); ...; client.net.send(client.world);
 */
export async function joinRoom<W extends object>(options: JoinRoomOptions<W>): Promise<RoomClient<W>> {
  const { matchmaker, room, userId, fetch, ...clientOptions } = options;
  const seat = await requestSeat({ matchmaker, room, userId, fetch });
  let current = await connectToSeat(seat, clientOptions);
  let moves = 0;
  let disposed = false;
  const client: RoomClient<W> = {
    get world() {
      return current.world;
    },
    get net() {
      return current.net;
    },
    seat,
    get moves() {
      return moves;
    },
    async dispose() {
      disposed = true;
      await current.net.dispose();
    },
  };
  const follow = (world: W) =>
    onSessionEvent(world, 'moved', (notice: MoveNotice) => {
      // The reservation in a Move is fresh: its expiry is the server's business, ours only for the error's name.
      const next = connectToSeat({ ...notice, expiresAtMs: Date.now() + 60_000 }, clientOptions).catch(async () => {
        const again = await requestSeat({ matchmaker, room: { id: seat.roomId }, userId: seat.userId, fetch });
        return connectToSeat(again, clientOptions);
      });
      void next.then(
        async (moved) => {
          const old = current;
          current = moved;
          moves++;
          follow(moved.world);
          await old.net.dispose();
          if (disposed) await moved.net.dispose();
          else options.onMove?.(client);
        },
        (e: unknown) => options.onError?.(e instanceof NetError ? e : new NetError('MatchmakerUnavailable', String(e))),
      );
    });
  follow(current.world);
  return client;
}
