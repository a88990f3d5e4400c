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
