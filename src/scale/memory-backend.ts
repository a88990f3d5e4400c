/**
 * An in-memory `ScaleBackend` for unit tests: every host, matchmaker and notifier in one Node process shares one
 * instance, on a clock the test controls. It keeps the same rules as the Redis backend (expiring processes and
 * seats, the open index, fill-first picking); a real deployment uses `createRedisBackend`.
 */
import type { Clock } from '../clock.ts';
import { createBackendStats, MAX_NOTIFY_BYTES } from './scale-backend.ts';
import type {
  CommandReply,
  ConsumeResult,
  PresenceEntry,
  ProcessCommand,
  ProcessInfo,
  ReserveResult,
  RoomRecord,
  ScaleBackend,
} from './scale-backend.ts';
import { loadOf } from './scale-records.ts';

/** Options of `createMemoryBackend`. */
export interface MemoryBackendOptions {
  /** Time source for expiries, in ms since the epoch like Redis's TIME (default: `Date.now`). */
  clock?: Clock;
}

interface Room {
  record: RoomRecord;
  /** Seat id → expiry time. */
  seats: Map<string, number>;
  /** User id → presence entry and its expiry. */
  presence: Map<string, { entry: PresenceEntry; expiresAtMs: number }>;
}

/** Creates an in-memory backend (unit tests only: it is not shared between processes). */
export function createMemoryBackend(options: MemoryBackendOptions = {}): ScaleBackend {
  const clock = options.clock ?? { now: () => Date.now() };
  const stats = createBackendStats();
  const processes = new Map<string, { info: ProcessInfo; expiresAtMs: number }>();
  const rooms = new Map<string, Room>();
  const locks = new Map<string, { token: string; expiresAtMs: number }>();
  const channels = new Map<string, Set<(message: string) => void>>();
  const streams = new Map<string, { nextId: number; entries: { id: number; message: string }[] }>();
  const followers = new Map<string, Set<(id: number, message: string) => void>>();
  const commandHandlers = new Map<string, (command: ProcessCommand) => Promise<CommandReply>>();
  let lockSeq = 0;

  const now = () => clock.now();
  const copy = (r: Room): RoomRecord => ({ ...r.record, metadata: { ...r.record.metadata } });
  const sweep = (room: Room): number => {
    let n = 0;
    for (const [seat, at] of room.seats) {
      if (at > now()) continue;
      room.seats.delete(seat);
      n++;
    }
    room.record.reserved = room.seats.size;
    stats.expiredSeats += n;
    return n;
  };
  const free = (r: RoomRecord) => r.capacity - r.clients - r.reserved;
  const isLive = (id: string) => {
    const p = processes.get(id);
    return p !== undefined && p.expiresAtMs > now();
  };
  const hold = (room: Room, seatId: string, ttlMs: number): ReserveResult => {
    const expiresAtMs = now() + ttlMs;
    room.seats.set(seatId, expiresAtMs);
    room.record.reserved = room.seats.size;
    return { ok: true, room: copy(room), seatId, expiresAtMs };
  };
  const purge = (id: string) => {
    processes.delete(id);
    stats.purgedProcesses++;
    for (const [rid, room] of rooms)
      if (room.record.process === id) {
        rooms.delete(rid);
        stats.purgedRooms++;
      }
  };

  const backend: ScaleBackend = {
    kind: 'memory',
    stats,
    async putProcess(info, ttlMs) {
      processes.set(info.id, { info: { ...info }, expiresAtMs: now() + ttlMs });
    },
    async removeProcess(id) {
      processes.delete(id);
    },
    async leastLoadedProcess(exclude) {
      await backend.purgeDeadProcesses();
      let best: ProcessInfo | null = null;
      for (const { info } of processes.values()) {
        if (info.id === exclude || info.state !== 'ready' || info.ccu >= info.capacity) continue;
        if (best === null || loadOf(info) < loadOf(best)) best = info;
      }
      return best ? { ...best } : null;
    },
    async listProcesses() {
      return [...processes.values()].filter((p) => p.expiresAtMs > now()).map((p) => ({ ...p.info }));
    },
    async purgeDeadProcesses() {
      const dead = [...processes.keys()].filter((id) => !isLive(id));
      // Rooms whose process never registered or is gone entirely are purged too.
      for (const room of rooms.values())
        if (!processes.has(room.record.process) && !dead.includes(room.record.process)) dead.push(room.record.process);
      for (const id of dead) purge(id);
      return dead;
    },
    async putRoom(record) {
      const old = rooms.get(record.id);
      rooms.set(record.id, {
        record: { ...record, clients: 0, reserved: 0, metadata: { ...record.metadata } },
        seats: new Map(),
        presence: old?.presence ?? new Map(),
      });
    },
    async patchRoom(id, patch) {
      const room = rooms.get(id);
      if (room) Object.assign(room.record, patch);
    },
    async syncRoom(id, clients) {
      const room = rooms.get(id);
      if (!room) return 0;
      room.record.clients = clients;
      return sweep(room);
    },
    async removeRoom(id) {
      rooms.delete(id);
    },
    async getRoom(id) {
      const room = rooms.get(id);
      if (!room) return null;
      sweep(room);
      return copy(room);
    },
    async listRooms(name) {
      return [...rooms.values()].filter((r) => name === undefined || r.record.name === name).map(copy);
    },
    async reserveByName(name, seatId, ttlMs) {
      let best: Room | null = null;
      for (const room of rooms.values()) {
        const r = room.record;
        if (r.name !== name || r.locked || r.private || r.state !== 'open' || !isLive(r.process)) continue;
        sweep(room);
        if (free(r) <= 0) continue;
        if (best === null || free(r) < free(best.record)) best = room;
      }
      return best ? hold(best, seatId, ttlMs) : { ok: false, reason: 'unknown' };
    },
    async reserveById(id, seatId, ttlMs, force = false) {
      const room = rooms.get(id);
      if (!room || !isLive(room.record.process)) return { ok: false, reason: 'unknown' };
      const r = room.record;
      if (!force && (r.locked || r.state !== 'open')) return { ok: false, reason: 'locked' };
      sweep(room);
      if (free(r) <= 0) return { ok: false, reason: 'full' };
      return hold(room, seatId, ttlMs);
    },
    async consumeSeat(roomId, seatId): Promise<ConsumeResult> {
      const room = rooms.get(roomId);
      if (!room) return 'expired';
      sweep(room);
      if (!room.seats.delete(seatId)) return 'expired';
      room.record.reserved = room.seats.size;
      room.record.clients++;
      return 'ok';
    },
    async tryLock(name, ttlMs) {
      const held = locks.get(name);
      if (held && held.expiresAtMs > now()) return null;
      const token = `lock-${++lockSeq}`;
      locks.set(name, { token, expiresAtMs: now() + ttlMs });
      return token;
    },
    async unlock(name, token) {
      if (locks.get(name)?.token === token) locks.delete(name);
    },
    async putPresence(roomId, process, users, ttlMs) {
      const room = rooms.get(roomId);
      if (!room) return;
      for (const u of users)
        room.presence.set(u.userId, {
          entry: { userId: u.userId, roomId, process, data: u.data },
          expiresAtMs: now() + ttlMs,
        });
    },
    async removePresence(roomId, userId) {
      rooms.get(roomId)?.presence.delete(userId);
    },
    async presence(roomId) {
      const room = rooms.get(roomId);
      if (!room) return [];
      const out: PresenceEntry[] = [];
      for (const [id, p] of room.presence) {
        if (p.expiresAtMs <= now()) room.presence.delete(id);
        else out.push({ ...p.entry });
      }
      return out;
    },
    async publish(domain, message) {
      if (message.length > MAX_NOTIFY_BYTES) {
        stats.droppedInvalid++;
        return;
      }
      stats.published++;
      for (const h of channels.get(domain) ?? []) {
        stats.delivered++;
        queueMicrotask(() => h(message));
      }
    },
    async subscribe(domain, handler) {
      let set = channels.get(domain);
      if (!set) channels.set(domain, (set = new Set()));
      set.add(handler);
      return async () => {
        set.delete(handler);
      };
    },
    async append(domain, message, maxLength) {
      let s = streams.get(domain);
      if (!s) streams.set(domain, (s = { nextId: 1, entries: [] }));
      const id = s.nextId++;
      s.entries.push({ id, message });
      if (s.entries.length > maxLength) s.entries.splice(0, s.entries.length - maxLength);
      stats.published++;
      for (const f of followers.get(domain) ?? []) queueMicrotask(() => f(id, message));
      return String(id);
    },
    follow(domain, afterId, handler) {
      const s = streams.get(domain);
      const start = afterId === '$' ? (s ? s.nextId - 1 : 0) : Number(afterId) || 0;
      for (const e of s?.entries ?? []) if (e.id > start) handler(String(e.id), e.message);
      let set = followers.get(domain);
      if (!set) followers.set(domain, (set = new Set()));
      const f = (id: number, message: string) => {
        stats.delivered++;
        handler(String(id), message);
      };
      set.add(f);
      return () => set.delete(f);
    },
    async sendCommand(process, command, timeoutMs) {
      const handler = commandHandlers.get(process);
      if (!handler || !isLive(process)) return { ok: false, error: `process ${process} is not serving commands` };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<CommandReply>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, error: 'command timed out' }), timeoutMs);
      });
      try {
        return await Promise.race([handler(command), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async onCommand(process, handler) {
      commandHandlers.set(process, handler);
      return async () => {
        if (commandHandlers.get(process) === handler) commandHandlers.delete(process);
      };
    },
    async close() {
      channels.clear();
      followers.clear();
      commandHandlers.clear();
    },
  };
  return backend;
}
