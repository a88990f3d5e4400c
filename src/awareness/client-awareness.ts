/**
 * Client side of awareness: this user's record (`set`) goes to the server, discrete fields reliably, continuous
 * ones unreliable and latest-wins (a per-user sequence, one reliable copy once the value rests); the records of
 * the users the server shows this client arrive the same way and fire `changed` / `cleared`.
 */
import { getNetContext } from '../context.ts';
import type { Connection } from '../connection/connection.ts';
import { encodeControl, messageBody } from '../codec/message-frame.ts';
import { NetError, usageError } from '../errors.ts';
import { Emitter } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import { AwarenessEntry, sameValue, type AwarenessEvents } from './awareness-record.ts';
import {
  AWARENESS_REST_MS,
  AWARENESS_SNAPSHOT_RECORDS,
  DEFAULT_AWARENESS_MAX_RECORDS,
  DEFAULT_AWARENESS_MOTION_RATE_HZ,
  createAwarenessDecoder,
} from './awareness-limits.ts';
import { compileAwareness, normalizeValue, type AwarenessRecord, type AwarenessSchema } from './awareness-schema.ts';
import {
  motionToWire,
  parseClear,
  parseMotionBody,
  parseSnapshot,
  parseUpdate,
  type SnapshotRecord,
} from './awareness-wire.ts';

/** Options of `createClientAwareness`. */
export interface ClientAwarenessOptions {
  /** The awareness schema, the same as the server's. */
  schema: AwarenessSchema;
  /** Continuous sends per second at most (default 30); the latest value wins, nothing queues. */
  motionRateHz?: number;
  /** Records of other users held at most (default 1,024); more are refused and counted. */
  maxRecords?: number;
}

/** Counters of a client's awareness. */
export interface ClientAwarenessStats {
  /** Other users' records held now. */
  records: number;
  /** AwarenessSet messages sent (changed discrete fields, reliable). */
  setsSent: number;
  /** AwarenessMotion messages sent (continuous fields, unreliable). */
  motionSent: number;
  /** Continuous sends that did not fit a packet (sent a tick later) and reliable copies of resting values. */
  motionDeferred: number;
  /** Reliable copies of continuous values sent once they came to rest. */
  restCopies: number;
  /** AwarenessUpdate messages applied (another user's discrete fields). */
  updatesApplied: number;
  /** Relayed motions applied (another user's continuous fields). */
  motionApplied: number;
  /** Relayed motions older than the one held (reordered on the way): dropped. */
  motionStale: number;
  /** AwarenessClear messages applied (a user's record dropped). */
  clears: number;
  /** AwarenessSnapshot messages applied. */
  snapshots: number;
  /** Server messages that did not decode or fit the schema, records refused by `maxRecords`. */
  malformed: number;
  /** Records of other users refused because `maxRecords` were held. */
  recordsRefused: number;
  /** True when the server's schema differs: awareness is off on this client (`AwarenessSchemaMismatch`). */
  schemaMismatch: boolean;
}

/** A client's awareness. */
export interface ClientAwareness {
  /** Events of the client's awareness (records changed and cleared). */
  readonly events: Emitter<AwarenessEvents>;
  /**
   * Sets fields of this user's record (enum fields by name); throws a Usage NetError on an unknown field or a
   * value that does not fit. Continuous fields go out latest-wins at `motionRateHz`, discrete ones reliably.
   */
  set(partial: Readonly<Record<string, unknown>>): void;
  /** The record of a user (this client's own id gives this user's record), or undefined. */
  get(userId: number): AwarenessRecord | undefined;
  /** Other users whose record this client holds. */
  users(): number[];
  /** A copy of the client's awareness counters. */
  stats(): ClientAwarenessStats;
}

/**
 * Shares this user's awareness (selection, tool, cursor, ...) and receives everyone else's that the server shows.
 * @example
 * const awareness = createClientAwareness(world, { schema: roomAwareness });
 * awareness.set({ selection: [networkIdOf(world, eid)], tool: 'move' });
 * awareness.events.on('changed', (userId, record) => highlight(userId, record.selection));
 */
export function createClientAwareness(world: object, options: ClientAwarenessOptions): ClientAwareness {
  const ctx = getNetContext(world);
  if (ctx.role !== 'client') usageError('createClientAwareness needs a client world', 'use createServerAwareness');
  const schema = compileAwareness(options.schema);
  const motionRateHz = options.motionRateHz ?? DEFAULT_AWARENESS_MOTION_RATE_HZ;
  const maxRecords = options.maxRecords ?? DEFAULT_AWARENESS_MAX_RECORDS;
  if (!(motionRateHz > 0) || !(maxRecords >= 1))
    usageError('client awareness options out of range', 'pass motionRateHz > 0 and maxRecords >= 1');
  const motionIntervalMs = 1000 / motionRateHz;
  const clock = ctx.clock;
  const session = ctx.session;
  const onError = ctx.onError;
  const decoder = createAwarenessDecoder();
  const events = new Emitter<AwarenessEvents>();
  const own = new AwarenessEntry(schema);
  const records = new Map<number, AwarenessEntry>();
  /** Discrete fields changed and not yet sent; whether the continuous ones changed, and the rest copy state. */
  const pending = new Set<number>();
  let motionDirty = false;
  let motionSentAtMs = -Infinity;
  let restOwed: Uint8Array | null = null;
  let seq = 0;
  const stats: ClientAwarenessStats = {
    records: 0,
    setsSent: 0,
    motionSent: 0,
    motionDeferred: 0,
    restCopies: 0,
    updatesApplied: 0,
    motionApplied: 0,
    motionStale: 0,
    clears: 0,
    snapshots: 0,
    malformed: 0,
    recordsRefused: 0,
    schemaMismatch: false,
  };

  const set = (partial: Readonly<Record<string, unknown>>): void => {
    // Every value is checked before any is applied, so a mistake leaves the record as it was.
    const values = Object.keys(partial).map((name) => {
      const i = schema.index.get(name);
      if (i === undefined) usageError(`awareness has no field '${name}'`, `use one of ${schema.names.join(', ')}`);
      const v = normalizeValue(schema.fields[i], partial[name], true);
      if (v === null) usageError(`awareness value for '${name}' does not fit its field`, 'pass a value of its kind');
      return [i, v] as const;
    });
    for (const [i, v] of values) {
      if (schema.fields[i].continuous) {
        const k = schema.continuous.indexOf(i);
        if (sameValue(own.motion[k] ?? undefined, v)) continue;
        own.motion[k] = v as number[];
        motionDirty = true;
      } else if (!sameValue(own.discrete.get(i), v)) {
        own.discrete.set(i, v);
        pending.add(i);
      }
    }
  };

  const malformed = (what: string, code: 'DecodeError' | 'AwarenessInvalid' = 'AwarenessInvalid') => {
    stats.malformed++;
    onError?.(new NetError(code, `server sent a malformed ${what}`));
  };

  /** The entry of a user, made on first sight unless `maxRecords` are held; undefined for this client itself. */
  const entryOf = (u: number): AwarenessEntry | undefined => {
    if (u === session.clientId) return undefined;
    let e = records.get(u);
    if (e) return e;
    if (records.size >= maxRecords) {
      stats.recordsRefused++;
      return undefined;
    }
    records.set(u, (e = new AwarenessEntry(schema)));
    stats.records = records.size;
    return e;
  };

  const clear = (u: number, reason: 'left' | 'out-of-interest') => {
    if (!records.delete(u)) return;
    stats.records = records.size;
    stats.clears++;
    events.emit('cleared', u, reason);
  };

  const applySnapshot = (full: boolean, rows: SnapshotRecord[]) => {
    stats.snapshots++;
    if (full) {
      const keep = new Set(rows.map((r) => r.u));
      for (const u of [...records.keys()]) if (!keep.has(u)) clear(u, 'out-of-interest');
      // A (re)join: the server may have missed what was in flight, so this user's whole record goes again.
      for (const i of own.discrete.keys()) pending.add(i);
      if (own.motion.some((v) => v !== null)) motionDirty = true;
    }
    for (const r of rows) {
      const before = records.get(r.u);
      const e = entryOf(r.u);
      if (!e) continue;
      const changed = e.applyChanges(schema, r.d);
      // A newer motion already here (the snapshot was in flight meanwhile) stays.
      const moved = r.c.some((v) => v !== null) ? e.applyMotion(schema, r.s, r.c) : null;
      if (moved) changed.push(...moved);
      if (changed.length > 0 || before === undefined) events.emit('changed', r.u, e.view(schema), changed);
    }
  };

  const receive = (tag: number, message: Uint8Array): void => {
    if (stats.schemaMismatch) return;
    const decoded = decoder.decode(messageBody(message));
    if (!decoded.ok) return malformed(`awareness message (${decoded.error})`, 'DecodeError');
    const v = decoded.value;
    switch (tag) {
      case Tag.AwarenessUpdate: {
        const m = parseUpdate(v, schema);
        if (m === null) return malformed('AwarenessUpdate');
        const e = entryOf(m.u);
        if (!e) return;
        stats.updatesApplied++;
        const changed = e.applyChanges(schema, m.d);
        if (changed.length > 0) events.emit('changed', m.u, e.view(schema), changed);
        return;
      }
      case Tag.AwarenessMotionRelay: {
        const m = parseMotionBody(v, schema, true);
        if (m === null) return malformed('AwarenessMotionRelay');
        const e = entryOf(m.u);
        if (!e) return;
        const changed = e.applyMotion(schema, m.s, m.c);
        if (changed === null) {
          stats.motionStale++;
          return;
        }
        stats.motionApplied++;
        if (changed.length > 0) events.emit('changed', m.u, e.view(schema), changed);
        return;
      }
      case Tag.AwarenessClear: {
        const m = parseClear(v);
        if (m === null) return malformed('AwarenessClear');
        clear(m.u, m.r);
        return;
      }
      default: {
        const m = parseSnapshot(v, schema, AWARENESS_SNAPSHOT_RECORDS);
        if (m === null) return malformed('AwarenessSnapshot');
        if (m.h !== schema.hash) {
          stats.schemaMismatch = true;
          for (const u of [...records.keys()]) clear(u, 'out-of-interest');
          onError?.(
            new NetError(
              'AwarenessSchemaMismatch',
              `server awareness schema ${m.h} is not this client's ${schema.hash}`,
            ),
          );
          return;
        }
        applySnapshot(m.full, m.records);
      }
    }
  };

  const send = (connection: Connection): void => {
    if (stats.schemaMismatch) return;
    const now = clock.now();
    if (pending.size > 0) {
      const d = [...pending].map((i) => [i, own.discrete.get(i)]);
      pending.clear();
      connection.sendReliable(encodeControl(Tag.AwarenessSet, { d }));
      stats.setsSent++;
    }
    if (motionDirty && now - motionSentAtMs >= motionIntervalMs) {
      const next = (seq + 1) >>> 0;
      const message = encodeControl(Tag.AwarenessMotion, { s: next, c: motionToWire(own.motion, schema) });
      if (!connection.sendUnreliable(message)) {
        stats.motionDeferred++;
        return;
      }
      seq = next;
      motionDirty = false;
      motionSentAtMs = now;
      restOwed = message;
      stats.motionSent++;
    } else if (restOwed !== null && !motionDirty && now - motionSentAtMs >= AWARENESS_REST_MS) {
      connection.sendReliable(restOwed);
      restOwed = null;
      stats.restCopies++;
    }
  };

  ctx.replicator.extensions.push({
    message(tag, message) {
      if (tag < Tag.AwarenessUpdate || tag > Tag.AwarenessSnapshot) return false;
      receive(tag, message);
      return true;
    },
    send,
  });

  return {
    events,
    set,
    get: (u) => {
      if (u === session.clientId) {
        const mine = own.view(schema);
        return Object.keys(mine).length > 0 ? mine : undefined;
      }
      const e = records.get(u);
      return e && !e.empty ? e.view(schema) : undefined;
    },
    users: () => [...records.keys()],
    stats: () => ({ ...stats }),
  };
}
