/**
 * Validators for what comes back from the registry (records, commands, JSON fields): another process, an older
 * version or anyone with access to Redis may have written it, so each one checks shape and size before use and
 * returns null for anything else.
 */
import { MAX_COMMAND_BYTES, MAX_METADATA_BYTES } from './scale-backend.ts';
import type { CommandReply, ProcessCommand, ProcessInfo, RoomRecord } from './scale-backend.ts';

/** Ids (room, process, seat, user) are 1..128 printable characters without spaces. */
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
/** Room names are 1..64 characters of letters, digits and `-_.:`. */
const NAME_PATTERN = /^[\w.:-]{1,64}$/;
/** URLs are at most 512 characters. */
const MAX_URL_CHARS = 512;

/** True when `s` may be used as an id. */
export function isId(s: unknown): s is string {
  return typeof s === 'string' && ID_PATTERN.test(s);
}

/** True when `s` may be used as a room name. */
export function isRoomName(s: unknown): s is string {
  return typeof s === 'string' && NAME_PATTERN.test(s);
}

/** True for a geckos.io signalling origin: `http(s)://host[:port]`, no path (geckos.io adds its own). */
export function isGeckosUrl(s: unknown): s is string {
  return typeof s === 'string' && s.length <= MAX_URL_CHARS && /^https?:\/\/[^\s/?#]+$/.test(s);
}

function isUrl(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= MAX_URL_CHARS && /^wss?:\/\//.test(s);
}

function count(s: unknown): number | null {
  const n = typeof s === 'string' ? Number(s) : s;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 1e9 ? n : null;
}

/** JSON.parse that returns undefined instead of throwing, for strings up to `maxChars`. */
export function parseJson(s: unknown, maxChars: number): unknown {
  if (typeof s !== 'string' || s.length > maxChars) return undefined;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/** Encodes metadata, or null when it is not a JSON object or exceeds MAX_METADATA_BYTES. */
export function encodeMetadata(metadata: Record<string, unknown>): string | null {
  let s: string;
  try {
    s = JSON.stringify(metadata);
  } catch {
    return null;
  }
  return typeof s === 'string' && s.startsWith('{') && Buffer.byteLength(s) <= MAX_METADATA_BYTES ? s : null;
}

/** A room record from its stored string fields, or null. */
export function parseRoomRecord(h: Record<string, string>): RoomRecord | null {
  const clients = count(h.clients);
  const reserved = count(h.reserved);
  const capacity = count(h.capacity);
  const metadata = parseJson(h.metadata ?? '{}', MAX_METADATA_BYTES);
  if (!isId(h.id) || !isRoomName(h.name) || !isId(h.process) || !isUrl(h.wsUrl)) return null;
  if (clients === null || reserved === null || capacity === null || capacity === 0) return null;
  if (h.state !== 'open' && h.state !== 'moving') return null;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return null;
  if (h.geckosUrl !== undefined && h.geckosUrl !== '' && !isGeckosUrl(h.geckosUrl)) return null;
  const room: RoomRecord = {
    id: h.id,
    name: h.name,
    process: h.process,
    wsUrl: h.wsUrl,
    clients,
    reserved,
    capacity,
    locked: h.locked === '1',
    private: h.private === '1',
    state: h.state,
    metadata: metadata as Record<string, unknown>,
  };
  if (h.geckosUrl) room.geckosUrl = h.geckosUrl;
  return room;
}

/** The stored string fields of a room record. */
export function roomFields(room: RoomRecord): Record<string, string> {
  return {
    id: room.id,
    name: room.name,
    process: room.process,
    wsUrl: room.wsUrl,
    geckosUrl: room.geckosUrl ?? '',
    clients: String(room.clients),
    reserved: String(room.reserved),
    capacity: String(room.capacity),
    locked: room.locked ? '1' : '0',
    private: room.private ? '1' : '0',
    state: room.state,
    metadata: encodeMetadata(room.metadata) ?? '{}',
  };
}

/** A process record from its stored string fields, or null. */
export function parseProcessInfo(h: Record<string, string>): ProcessInfo | null {
  const capacity = count(h.capacity);
  const ccu = count(h.ccu);
  const rooms = count(h.rooms);
  if (!isId(h.id) || !isUrl(h.wsUrl) || capacity === null || ccu === null || rooms === null) return null;
  if (h.state !== 'ready' && h.state !== 'draining') return null;
  if (h.geckosUrl !== undefined && h.geckosUrl !== '' && !isGeckosUrl(h.geckosUrl)) return null;
  const info: ProcessInfo = { id: h.id, wsUrl: h.wsUrl, capacity, ccu, rooms, state: h.state };
  if (h.geckosUrl) info.geckosUrl = h.geckosUrl;
  return info;
}

/** The stored string fields of a process record. */
export function processFields(info: ProcessInfo): Record<string, string> {
  return {
    id: info.id,
    wsUrl: info.wsUrl,
    geckosUrl: info.geckosUrl ?? '',
    capacity: String(info.capacity),
    ccu: String(info.ccu),
    rooms: String(info.rooms),
    state: info.state,
  };
}

/** Load of a process for the least-loaded pick: the share of its capacity in use (rooms break ties). */
export function loadOf(info: ProcessInfo): number {
  return info.ccu / Math.max(1, info.capacity) + info.rooms * 1e-6;
}

/** A command envelope `{id, reply, command}` from JSON, or null. */
export function parseCommandEnvelope(s: string): { reply: string; command: ProcessCommand } | null {
  const v = parseJson(s, MAX_COMMAND_BYTES) as { reply?: unknown; command?: Record<string, unknown> } | undefined;
  if (typeof v !== 'object' || v === null || !isId(v.reply)) return null;
  const c = v.command;
  if (typeof c !== 'object' || c === null || !isId(c.roomId) || !isRoomName(c.name)) return null;
  if (c.op === 'create') return { reply: v.reply, command: { op: 'create', roomId: c.roomId, name: c.name } };
  if (c.op === 'adopt' && typeof c.snapshot === 'string' && isId(c.from))
    return {
      reply: v.reply,
      command: { op: 'adopt', roomId: c.roomId, name: c.name, snapshot: c.snapshot, from: c.from },
    };
  return null;
}

/** A command reply from JSON, or null. */
export function parseCommandReply(s: string): CommandReply | null {
  const v = parseJson(s, MAX_COMMAND_BYTES) as { ok?: unknown; error?: unknown; room?: unknown } | undefined;
  if (typeof v !== 'object' || v === null) return null;
  if (v.ok === false && typeof v.error === 'string') return { ok: false, error: v.error.slice(0, 500) };
  if (v.ok !== true || typeof v.room !== 'object' || v.room === null) return null;
  const room = v.room as RoomRecord;
  const parsed = parseRoomRecord(roomFieldsLoose(room));
  return parsed ? { ok: true, room: parsed } : null;
}

function roomFieldsLoose(room: RoomRecord): Record<string, string> {
  try {
    return roomFields(room);
  } catch {
    return {};
  }
}
