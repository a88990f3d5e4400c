/**
 * The client side of scale-out (browser and Node): ask the matchmaker for a seat, connect to the room's process
 * with the signed reservation (over WebSocket, or over geckos.io when asked and the process serves it), and follow
 * the room when a drain moves it (the Move notice carries the new URLs and a fresh reservation; the client keeps
 * its transport kind). Failures are NetErrors with the scale-out codes: RoomFull, RoomLocked, RoomUnknown,
 * ReservationExpired, ReservationInvalid, MatchmakerUnavailable, GeckosUnavailable.
 */
import { NetError } from '../errors.ts';
import type { MoveNotice } from '../protocol/session-messages.ts';
import { onSessionEvent } from '../world-api.ts';
import { requestSeat } from './room-seat.ts';
import type { SeatRequest } from './room-seat.ts';
import { checkTransport, connectToSeat } from './seat-connect.ts';
import type { RoomClient, RoomClientOptions } from './seat-connect.ts';

export { requestSeat } from './room-seat.ts';
export type { RoomSeat, SeatRequest } from './room-seat.ts';
export { connectToSeat } from './seat-connect.ts';
export type {
  GeckosSeatConnector,
  RoomClient,
  RoomClientOptions,
  RoomTransportKind,
  SeatAddress,
  SeatConnection,
} from './seat-connect.ts';

/** Options of `joinRoom`. */
export type JoinRoomOptions<W extends object> = SeatRequest & RoomClientOptions<W>;

/**
 * Joins a room through the matchmaker and returns a connected client; follows the room when it moves.
 * @example
 * const client = await joinRoom({ matchmaker: 'https://play.example.com', room: 'lobby', create: defineTableWorld });
 * // each frame: client.net.receive(client.world); ...; client.net.send(client.world);
 * // over WebRTC: joinRoom({ ..., transport: 'auto', geckos: geckosSeatConnector() }) (from 'ecsync/geckos')
 */
export async function joinRoom<W extends object>(options: JoinRoomOptions<W>): Promise<RoomClient<W>> {
  const { matchmaker, room, userId, fetch, ...clientOptions } = options;
  checkTransport(clientOptions as RoomClientOptions<object>);
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
    get transport() {
      return current.transport;
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
      // The same transport kind as now. The reservation in a Move is fresh: its expiry is the server's business,
      // ours only for the error's name.
      const kind = current.transport;
      const next = connectToSeat({ ...notice, expiresAtMs: Date.now() + 60_000 }, clientOptions, kind).catch(
        async () => {
          const again = await requestSeat({ matchmaker, room: { id: seat.roomId }, userId: seat.userId, fetch });
          return connectToSeat(again, clientOptions, kind);
        },
      );
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
