/**
 * The Redis `ScaleBackend`, on ioredis (an optional peer, loaded when called): registry writes are Lua scripts
 * (see redis-scripts.ts), notifications are pub/sub channels, durable domains are capped streams, and commands to a
 * process travel on its own channel with a one-off reply channel. Node only.
 */
import { randomUUID } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import { NetError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import { loadPeer } from '../transport/load-peer.ts';
import { REDIS_SCRIPTS } from './redis-scripts.ts';
import type { RedisScriptName } from './redis-scripts.ts';
import { createBackendStats, MAX_COMMAND_BYTES, MAX_NOTIFY_BYTES } from './scale-backend.ts';
import type {
  CommandReply,
  PresenceEntry,
  ProcessInfo,
  ReserveResult,
  RoomRecord,
  ScaleBackend,
} from './scale-backend.ts';
import {
  isId,
  loadOf,
  parseCommandEnvelope,
  parseCommandReply,
  parseJson,
  parseProcessInfo,
  parseRoomRecord,
  processFields,
  roomFields,
} from './scale-records.ts';

/** Options of `createRedisBackend`. */
export interface RedisBackendOptions {
  /** `redis://host:port/db` (default `redis://127.0.0.1:6379`). */
  url?: string;
  /** More ioredis options (password, tls, ...), passed to ioredis as they are. */
  redis?: Record<string, unknown>;
  /** Prefix of every key and channel (default 'ecsync'): deployments may share one Redis. */
  prefix?: string;
  /** Receives records, commands and notifications dropped for their shape or size. */
  onError?: ErrorHandler;
}

/** How long a durable-stream reader blocks in one XREAD before it looks again (and notices a stop). */
const FOLLOW_BLOCK_MS = 250;
/** Entries one XREAD returns at most, so a long backlog is read in bounded steps. */
const FOLLOW_BATCH = 256;

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/** Connects to Redis and returns the backend (rejects when Redis cannot be reached). */
export async function createRedisBackend(options: RedisBackendOptions = {}): Promise<ScaleBackend> {
  const { Redis: RedisClass } = await loadPeer('ioredis', 'createRedisBackend', () => import('ioredis'));
  const url = options.url ?? 'redis://127.0.0.1:6379';
  const P = options.prefix ?? 'ecsync';
  const connect = (): Redis =>
    new RedisClass(url, { lazyConnect: true, maxRetriesPerRequest: 2, ...(options.redis as RedisOptions) });
  const cmd = connect();
  const sub = connect();
  await Promise.all([cmd.connect(), sub.connect()]);
  for (const [name, lua] of Object.entries(REDIS_SCRIPTS)) cmd.defineCommand(name, { numberOfKeys: 0, lua });
  const script = (name: RedisScriptName, ...args: (string | number)[]) =>
    (cmd as unknown as Record<RedisScriptName, ScriptCall>)[name](P, ...args);

  const stats = createBackendStats();
  const invalid = (what: string) => {
    stats.droppedInvalid++;
    options.onError?.(new NetError('BackendInvalid', what));
  };
  const handlers = new Map<string, Set<(message: string) => void>>();
  const followers = new Set<Redis>();
  sub.on('message', (channel: string, message: string) => {
    const set = handlers.get(channel);
    if (!set) return;
    for (const h of set) {
      stats.delivered++;
      try {
        h(message);
      } catch (e) {
        invalid(`a subscriber of ${channel} threw: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  });
  const listen = async (channel: string, handler: (message: string) => void) => {
    let set = handlers.get(channel);
    if (!set) {
      handlers.set(channel, (set = new Set()));
      await sub.subscribe(channel);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && handlers.get(channel) === set) {
        handlers.delete(channel);
        await sub.unsubscribe(channel).catch(() => undefined);
      }
    };
  };
  const readRoom = async (id: string): Promise<RoomRecord | null> => {
    const h = await cmd.hgetall(`${P}:room:${id}`);
    if (Object.keys(h).length === 0) return null;
    const room = parseRoomRecord(h);
    if (!room) invalid(`room record ${id} does not fit its shape`);
    return room;
  };
  const reserved = async (reply: unknown, rid: string | null, seatId: string): Promise<ReserveResult> => {
    const [status, at, swept, id] = reply as [string, string, number, string?];
    stats.expiredSeats += Number(swept) || 0;
    if (status !== 'ok') return { ok: false, reason: status === 'full' || status === 'locked' ? status : 'unknown' };
    const room = await readRoom(rid ?? id ?? '');
    if (!room) return { ok: false, reason: 'unknown' };
    return { ok: true, room, seatId, expiresAtMs: Number(at) };
  };
  const pairs = (fields: Record<string, string>) => Object.entries(fields).flat();

  const backend: ScaleBackend = {
    kind: 'redis',
    stats,
    async putProcess(info, ttlMs) {
      await script(
        'ecsPutProcess',
        info.id,
        ttlMs,
        loadOf(info),
        info.state === 'ready' ? '1' : '0',
        ...pairs(processFields(info)),
      );
    },
    async removeProcess(id) {
      await script('ecsRemoveProcess', id);
    },
    async leastLoadedProcess(exclude) {
      await backend.purgeDeadProcesses();
      const ids = await cmd.zrange(`${P}:procs`, 0, 15);
      for (const id of ids) {
        if (id === exclude) continue;
        const h = await cmd.hgetall(`${P}:proc:${id}`);
        const info = parseProcessInfo(h);
        if (info && info.state === 'ready' && info.ccu < info.capacity) return info;
      }
      return null;
    },
    async listProcesses() {
      const ids = await cmd.smembers(`${P}:allprocs`);
      const out: ProcessInfo[] = [];
      for (const id of ids) {
        const h = await cmd.hgetall(`${P}:proc:${id}`);
        if (Object.keys(h).length === 0) continue;
        const info = parseProcessInfo(h);
        if (info) out.push(info);
        else invalid(`process record ${id} does not fit its shape`);
      }
      return out;
    },
    async purgeDeadProcesses() {
      const reply = (await script('ecsPurge')) as string[];
      const mark = reply.lastIndexOf('#');
      const dead = reply.slice(0, mark);
      stats.purgedProcesses += dead.length;
      stats.purgedRooms += Number(reply[mark + 1]) || 0;
      return dead;
    },
    async putRoom(room) {
      await script('ecsPutRoom', room.id, ...pairs(roomFields(room)));
    },
    async patchRoom(id, patch) {
      const fields: Record<string, string> = {};
      if (patch.locked !== undefined) fields.locked = patch.locked ? '1' : '0';
      if (patch.private !== undefined) fields.private = patch.private ? '1' : '0';
      if (patch.state !== undefined) fields.state = patch.state;
      if (patch.metadata !== undefined)
        fields.metadata = roomFields({ metadata: patch.metadata } as RoomRecord).metadata;
      await script('ecsPatchRoom', id, ...pairs(fields));
    },
    async syncRoom(id, clients) {
      const swept = Number(await script('ecsSync', id, clients)) || 0;
      stats.expiredSeats += swept;
      return swept;
    },
    async removeRoom(id) {
      await script('ecsRemoveRoom', id);
    },
    getRoom: readRoom,
    async listRooms(name) {
      const ids = await cmd.smembers(`${P}:rooms`);
      const rooms: RoomRecord[] = [];
      for (const id of ids) {
        const room = await readRoom(id);
        if (room && (name === undefined || room.name === name)) rooms.push(room);
      }
      return rooms;
    },
    async reserveByName(name, seatId, ttlMs) {
      return reserved(await script('ecsReserveByName', name, seatId, ttlMs), null, seatId);
    },
    async reserveById(id, seatId, ttlMs, force = false) {
      return reserved(await script('ecsReserveById', id, seatId, ttlMs, force ? '1' : '0'), id, seatId);
    },
    async consumeSeat(roomId, seatId) {
      const [status, swept] = (await script('ecsConsume', roomId, seatId)) as [string, number];
      stats.expiredSeats += Number(swept) || 0;
      return status === 'ok' ? 'ok' : 'expired';
    },
    async tryLock(name, ttlMs) {
      const token = randomUUID();
      const ok = await cmd.set(`${P}:lock:${name}`, token, 'PX', ttlMs, 'NX');
      return ok === 'OK' ? token : null;
    },
    async unlock(name, token) {
      await script('ecsUnlock', name, token);
    },
    async putPresence(roomId, process, users, ttlMs) {
      if (users.length === 0) return;
      const args = users.flatMap((u) => [
        u.userId,
        JSON.stringify({ userId: u.userId, roomId, process, data: u.data }),
      ]);
      await script('ecsPutPresence', roomId, ttlMs, ...args);
    },
    async removePresence(roomId, userId) {
      await script('ecsRemovePresence', roomId, userId);
    },
    async presence(roomId) {
      const reply = (await script('ecsReadPresence', roomId)) as (string | null)[];
      const out: PresenceEntry[] = [];
      for (const s of reply) {
        const v = parseJson(s, MAX_NOTIFY_BYTES) as Partial<PresenceEntry> | undefined;
        if (v && isId(v.userId) && isId(v.process) && v.roomId === roomId)
          out.push({ userId: v.userId, roomId, process: v.process, data: v.data });
        else if (s !== null) invalid(`presence entry in room ${roomId} does not fit its shape`);
      }
      return out;
    },
    async publish(domain, message) {
      if (message.length > MAX_NOTIFY_BYTES) return invalid(`notification of ${message.length} chars on ${domain}`);
      stats.published++;
      await cmd.publish(`${P}:notify:${domain}`, message);
    },
    subscribe(domain, handler) {
      return listen(`${P}:notify:${domain}`, (message) => {
        if (message.length > MAX_NOTIFY_BYTES) invalid(`notification of ${message.length} chars on ${domain}`);
        else handler(message);
      });
    },
    async append(domain, message, maxLength) {
      if (message.length > MAX_NOTIFY_BYTES) {
        invalid(`notification of ${message.length} chars on ${domain}`);
        return '';
      }
      stats.published++;
      return (await cmd.xadd(`${P}:stream:${domain}`, 'MAXLEN', maxLength, '*', 'm', message)) ?? '';
    },
    follow(domain, afterId, handler) {
      const reader = cmd.duplicate();
      followers.add(reader);
      let last = afterId;
      let stopped = false;
      const loop = async () => {
        // '$' is resolved once to the newest id, so nothing appended between two reads is missed.
        if (last === '$') {
          const newest = (await reader.xrevrange(`${P}:stream:${domain}`, '+', '-', 'COUNT', 1).catch(() => [])) as [
            string,
          ][];
          last = newest[0]?.[0] ?? '0';
        }
        while (!stopped) {
          let reply: [string, [string, string[]][]][] | null;
          try {
            reply = (await reader.xread(
              'COUNT',
              FOLLOW_BATCH,
              'BLOCK',
              FOLLOW_BLOCK_MS,
              'STREAMS',
              `${P}:stream:${domain}`,
              last,
            )) as [string, [string, string[]][]][] | null;
          } catch {
            if (stopped) return;
            await new Promise((r) => setTimeout(r, FOLLOW_BLOCK_MS));
            continue;
          }
          for (const [, entries] of reply ?? []) {
            for (const [id, fields] of entries) {
              last = id;
              const message = fields[1];
              if (fields[0] !== 'm' || typeof message !== 'string' || message.length > MAX_NOTIFY_BYTES) {
                invalid(`stream entry ${id} on ${domain} does not fit its shape`);
                continue;
              }
              stats.delivered++;
              handler(id, message);
            }
          }
        }
      };
      void loop();
      return () => {
        stopped = true;
        followers.delete(reader);
        reader.disconnect();
      };
    },
    async sendCommand(process, command, timeoutMs) {
      const reply = `${P}:reply:${randomUUID()}`;
      let stop: (() => Promise<void>) | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const answer = new Promise<CommandReply>((resolve) => {
          timer = setTimeout(() => resolve({ ok: false, error: 'command timed out' }), timeoutMs);
          void listen(reply, (message) => {
            const parsed = parseCommandReply(message);
            if (!parsed) invalid(`reply to ${command.op} does not fit its shape`);
            resolve(parsed ?? { ok: false, error: 'malformed reply' });
          }).then(async (unsubscribe) => {
            stop = unsubscribe;
            const receivers = await cmd.publish(`${P}:cmd:${process}`, JSON.stringify({ reply, command }));
            if (receivers === 0) resolve({ ok: false, error: `process ${process} is not serving commands` });
          });
        });
        return await answer;
      } finally {
        clearTimeout(timer);
        await stop?.();
      }
    },
    onCommand(process, handler) {
      return listen(`${P}:cmd:${process}`, (message) => {
        const envelope = message.length <= MAX_COMMAND_BYTES ? parseCommandEnvelope(message) : null;
        if (!envelope || !envelope.reply.startsWith(`${P}:reply:`))
          return invalid('a command that does not fit its shape');
        void handler(envelope.command)
          .catch((e: unknown): CommandReply => ({ ok: false, error: e instanceof Error ? e.message : String(e) }))
          .then((answer) => cmd.publish(envelope.reply, JSON.stringify(answer)))
          .catch(() => undefined);
      });
    },
    async close() {
      for (const f of followers) f.disconnect();
      followers.clear();
      handlers.clear();
      await Promise.all([sub.quit().catch(() => undefined), cmd.quit().catch(() => undefined)]);
    },
  };
  return backend;
}
