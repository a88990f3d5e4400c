/**
 * Node-only entry (`ecsync/scale`): many rooms per process, a registry of processes and rooms on Redis (or in
 * memory for unit tests), a matchmaker handing out signed seat reservations, presence and notifications across
 * processes, and drain. Kept out of `index.ts` so a browser bundle never pulls in ioredis or node:http.
 */
export { createMemoryBackend } from './scale/memory-backend.ts';
export type { MemoryBackendOptions } from './scale/memory-backend.ts';
export { createRedisBackend } from './scale/redis-backend.ts';
export type { RedisBackendOptions } from './scale/redis-backend.ts';
export { MAX_COMMAND_BYTES, MAX_METADATA_BYTES, MAX_NOTIFY_BYTES } from './scale/scale-backend.ts';
export type {
  CommandReply,
  ConsumeResult,
  PresenceEntry,
  ProcessCommand,
  ProcessInfo,
  ProcessState,
  ReserveFailure,
  ReserveResult,
  RoomRecord,
  RoomState,
  ScaleBackend,
  ScaleBackendStats,
} from './scale/scale-backend.ts';
export {
  createRoomHost,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_IDLE_DISPOSE_MS,
  DEFAULT_MAX_ROOMS,
  DEFAULT_PROCESS_TTL_MS,
} from './scale/room-host.ts';
export type { RoomHost, RoomHostOptions } from './scale/room-host.ts';
export type { GeckosRouteStats, RoomHostGeckos, RoomHostGeckosOptions } from './scale/geckos-router.ts';
export type { NotifyOptions } from './scale/host-notify.ts';
export type { RoomHostStats } from './scale/hosted-room.ts';
export { defineRoom } from './scale/room-definition.ts';
export type { HostedRoom, RoomDefinition } from './scale/room-definition.ts';
export type { DrainOptions, DrainReport } from './scale/room-drain.ts';
export { createMatchmaker, DEFAULT_JOIN_TIMEOUT_MS, DEFAULT_RESERVATION_MS } from './scale/matchmaker.ts';
export type {
  JoinFailureCode,
  JoinResult,
  JoinTarget,
  Matchmaker,
  MatchmakerOptions,
  MatchmakerStats,
  SeatGrant,
} from './scale/matchmaker.ts';
export {
  createMatchmakerHandler,
  createMatchmakerServer,
  MAX_JOIN_BODY_BYTES,
  MAX_JOINS_IN_FLIGHT,
} from './scale/matchmaker-http.ts';
export type {
  Identify,
  MatchmakerHandler,
  MatchmakerHttpOptions,
  MatchmakerHttpStats,
  MatchmakerServer,
} from './scale/matchmaker-http.ts';
export { signReservation, verifyReservation, MAX_RESERVATION_CHARS } from './scale/seat-reservation.ts';
export type { ReservationProblem, SeatClaims } from './scale/seat-reservation.ts';
