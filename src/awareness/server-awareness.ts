/**
 * Server side of awareness: validates each user's AwarenessSet / AwarenessMotion against the schema (rate, size,
 * list lengths first), keeps the latest record per user, and relays it to the clients that see that user:
 * discrete changes reliably, continuous values latest-wins on the unreliable lane (coalesced per viewer, one
 * reliable copy once they rest). A viewer gets a snapshot on join and resume and when a user enters its interest,
 * and a clear when a user leaves it or the session.
 */
import { getNetContext } from '../context.ts';
import { encodeControl } from '../codec/message-frame.ts';
import { usageError } from '../errors.ts';
import { Emitter } from '../events.ts';
import { Tag } from '../protocol/tags.ts';
import { TokenBucket } from '../session/rate-limiter.ts';
import { AwarenessIntake, type IntakeSender } from './awareness-intake.ts';
import { AwarenessEntry, type AwarenessEvents } from './awareness-record.ts';
import {
  AWARENESS_RELEVANCE_INTERVAL_MS,
  AWARENESS_REST_MS,
  AWARENESS_SNAPSHOT_RECORDS,
  DEFAULT_AWARENESS_BURST,
  DEFAULT_AWARENESS_MAX_RATE_HZ,
  DEFAULT_AWARENESS_MAX_RECORD_BYTES,
  DEFAULT_AWARENESS_OFFENDER_DROPS,
  createAwarenessDecoder,
} from './awareness-limits.ts';
import { sharesInterest, type AwarenessRelevance } from './awareness-relevance.ts';
import { compileAwareness, type AwarenessRecord, type AwarenessSchema } from './awareness-schema.ts';
import { motionToWire, parseMotionBody, parseSet, type ClearReason } from './awareness-wire.ts';

/** Options of `createServerAwareness`. */
export interface ServerAwarenessOptions {
  /** The awareness schema, the same as the clients'. */
  schema: AwarenessSchema;
  /** Largest AwarenessSet / AwarenessMotion body in bytes (default 1,024); larger ones are refused (`Oversize`). */
  maxRecordBytes?: number;
  /** Awareness messages accepted per user per second (default 60) and the bucket size (default 120). */
  maxRateHz?: number;
  /** Bucket size of the per-user rate limit, in messages (default 120). */
  burst?: number;
  /** Drops within a second after which the user is reported with `RateLimited` (default 30). */
  offenderDrops?: number;
  /** Who sees whose awareness; default: a shared scope, or the user's view entity in the viewer's interest. */
  relevant?: AwarenessRelevance;
}

/** Counters of the server's awareness (every bound has one). */
export interface ServerAwarenessStats {
  /** Users with a record now. */
  records: number;
  /** AwarenessSet messages accepted. */
  setsAccepted: number;
  /** AwarenessMotion messages accepted. */
  motionAccepted: number;
  /** Motions older than the one held (reordered or duplicated on the way): dropped, not an error. */
  motionStale: number;
  /** Messages dropped by the per-user rate limit, and times a user passed `offenderDrops` in a second. */
  rateLimited: number;
  /** Times a user passed `offenderDrops` drops in a second (each reported as `RateLimited`). */
  offences: number;
  /** Bodies above `maxRecordBytes`, undecodable, with a list above its `maxItems`, or not fitting the schema. */
  oversize: number;
  /** Bodies that did not decode. */
  malformed: number;
  /** Bodies with a list above its field's `maxItems`. */
  listTooLong: number;
  /** Bodies that did not fit the schema (unknown field, value out of range). */
  invalid: number;
  /** Messages sent to viewers: discrete updates, continuous relays (and their reliable copies), clears, snapshots. */
  updatesSent: number;
  /** Continuous relays (AwarenessMotionRelay) sent to viewers. */
  motionRelayed: number;
  /** Continuous relays that did not fit a packet and went out a tick later. */
  motionDeferred: number;
  /** Reliable copies of resting continuous values sent to viewers. */
  restCopies: number;
  /** AwarenessClear messages sent to viewers. */
  clearsSent: number;
  /** AwarenessSnapshot messages sent (on join, resume, entering interest). */
  snapshotsSent: number;
}

/** The server's awareness relay. */
export interface ServerAwareness {
  /** Events of the server's awareness (records changed and cleared). */
  readonly events: Emitter<AwarenessEvents>;
  /** The current record of a user (client id), or undefined when it has set nothing. */
  get(userId: number): AwarenessRecord | undefined;
  /** Users with a record. */
  users(): number[];
  /** Users whose awareness `viewerId` receives now. */
  visibleTo(viewerId: number): number[];
  /** A copy of the server's awareness counters. */
  stats(): ServerAwarenessStats;
}

interface User extends IntakeSender {
  readonly entry: AwarenessEntry;
  /** Server time of the last accepted motion, whether its reliable copy went out, and its relay message. */
  motionAtMs: number;
  rested: boolean;
  relay: Uint8Array | null;
  /** Users this client sees, and those whose latest motion it has not been sent yet. */
  readonly visible: Set<number>;
  readonly dirty: Set<number>;
}

/**
 * Relays awareness records between the clients of a server world.
 * @example
 * const awareness = createServerAwareness(world, { schema: roomAwareness });
 * awareness.events.on('changed', (userId, record) => log(userId, record.tool));
 */
export function createServerAwareness(world: object, options: ServerAwarenessOptions): ServerAwareness {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server') usageError('createServerAwareness needs a server world', 'use createClientAwareness');
  const schema = compileAwareness(options.schema);
  const maxBytes = options.maxRecordBytes ?? DEFAULT_AWARENESS_MAX_RECORD_BYTES;
  const rate = options.maxRateHz ?? DEFAULT_AWARENESS_MAX_RATE_HZ;
  const burst = options.burst ?? DEFAULT_AWARENESS_BURST;
  const offenderDrops = options.offenderDrops ?? DEFAULT_AWARENESS_OFFENDER_DROPS;
  if (!(maxBytes >= 16) || !(rate > 0) || !(burst >= 1) || !(offenderDrops >= 1))
    usageError('awareness options out of range', 'pass maxRecordBytes >= 16, maxRateHz > 0, burst >= 1');
  const replicator = ctx.replicator;
  const clock = ctx.clock;
  const events = new Emitter<AwarenessEvents>();
  const users = new Map<number, User>();
  const relevant: AwarenessRelevance =
    options.relevant ??
    ((v, u) => {
      const a = replicator.peers.get(v);
      const b = replicator.peers.get(u);
      return a !== undefined && b !== undefined && sharesInterest(a, b);
    });
  const stats: ServerAwarenessStats = {
    records: 0,
    setsAccepted: 0,
    motionAccepted: 0,
    motionStale: 0,
    rateLimited: 0,
    offences: 0,
    oversize: 0,
    malformed: 0,
    listTooLong: 0,
    invalid: 0,
    updatesSent: 0,
    motionRelayed: 0,
    motionDeferred: 0,
    restCopies: 0,
    clearsSent: 0,
    snapshotsSent: 0,
  };
  const limits = { maxBytes, rateHz: rate, offenderDrops };
  const intake = new AwarenessIntake(schema, limits, createAwarenessDecoder(), stats, ctx.onError);
  let nextRelevanceAtMs = 0;

  const live = (u: User) => u.peer.state === 'connected';
  const countRecords = () => {
    let n = 0;
    for (const u of users.values()) if (!u.entry.empty) n++;
    stats.records = n;
  };

  /** Sends `viewer` the records of `ids` (those that have any), in chunks; `full` replaces what it holds. */
  const sendSnapshot = (viewer: User, ids: Iterable<number>, full: boolean) => {
    const rows: unknown[][] = [];
    for (const id of ids) {
      const e = users.get(id)?.entry;
      if (e && !e.empty) rows.push([id, Math.max(0, e.seq), e.changes(), motionToWire(e.motion, schema)]);
    }
    if (rows.length === 0 && !full) return;
    for (let i = 0; i === 0 || i < rows.length; i += AWARENESS_SNAPSHOT_RECORDS) {
      const r = rows.slice(i, i + AWARENESS_SNAPSHOT_RECORDS);
      const body = i === 0 && full ? { h: schema.hash, f: true, r } : { h: schema.hash, r };
      viewer.peer.connection.sendReliable(encodeControl(Tag.AwarenessSnapshot, body));
      stats.snapshotsSent++;
    }
  };

  const sendClear = (viewer: User, userId: number, r: ClearReason) => {
    viewer.peer.connection.sendReliable(encodeControl(Tag.AwarenessClear, { u: userId, r }));
    stats.clearsSent++;
  };

  /** Recomputes which users `viewer` sees; newcomers get a snapshot, leavers a clear. */
  const refresh = (viewer: User) => {
    const entered: number[] = [];
    for (const [id, u] of users) {
      if (u === viewer) continue;
      const sees = relevant(viewer.peer.clientId, id);
      if (sees === viewer.visible.has(id)) continue;
      if (sees) {
        viewer.visible.add(id);
        entered.push(id);
      } else {
        viewer.visible.delete(id);
        viewer.dirty.delete(id);
        if (!u.entry.empty) sendClear(viewer, id, 'out-of-interest');
      }
    }
    sendSnapshot(viewer, entered, false);
  };

  const receive = (u: User, tag: number, message: Uint8Array) => {
    const now = clock.now();
    const id = u.peer.clientId;
    const body = intake.admit(u, message, now);
    if (body === undefined) return;
    if (tag === Tag.AwarenessSet) {
      const d = parseSet(body, schema);
      if (d === null) return intake.refuse(u, body, tag);
      stats.setsAccepted++;
      const changed = u.entry.applyChanges(schema, d);
      if (changed.length === 0) return;
      const update = encodeControl(Tag.AwarenessUpdate, {
        u: id,
        d: d.filter(([i]) => changed.includes(schema.names[i])),
      });
      for (const v of users.values()) {
        if (!v.visible.has(id) || !live(v)) continue;
        v.peer.connection.sendReliable(update);
        stats.updatesSent++;
      }
      countRecords();
      events.emit('changed', id, u.entry.view(schema), changed);
      return;
    }
    const m = parseMotionBody(body, schema, false);
    if (m === null) return intake.refuse(u, body, tag);
    const changed = u.entry.applyMotion(schema, m.s, m.c);
    if (changed === null) {
      stats.motionStale++;
      return;
    }
    stats.motionAccepted++;
    u.motionAtMs = now;
    u.rested = false;
    u.relay = encodeControl(Tag.AwarenessMotionRelay, {
      u: id,
      s: u.entry.seq,
      c: motionToWire(u.entry.motion, schema),
    });
    for (const v of users.values()) if (v.visible.has(id)) v.dirty.add(id);
    countRecords();
    if (changed.length > 0) events.emit('changed', id, u.entry.view(schema), changed);
  };

  const tickRest = (now: number) => {
    for (const [id, u] of users) {
      if (u.rested || u.relay === null || now - u.motionAtMs < AWARENESS_REST_MS) continue;
      u.rested = true;
      for (const v of users.values()) {
        if (!v.visible.has(id) || !live(v)) continue;
        v.peer.connection.sendReliable(u.relay);
        v.dirty.delete(id);
        stats.restCopies++;
      }
    }
  };

  replicator.extensions.push({
    joined(peer) {
      // Also on resume: what was in flight on the old connection is gone, so the viewer starts from a snapshot.
      const now = clock.now();
      const old = users.get(peer.clientId);
      const u: User = {
        peer,
        entry: old?.entry ?? new AwarenessEntry(schema),
        bucket: old?.bucket ?? new TokenBucket(rate, burst, now),
        windowStartMs: now,
        windowDrops: 0,
        motionAtMs: old?.motionAtMs ?? now,
        rested: old?.rested ?? true,
        relay: old?.relay ?? null,
        visible: new Set(),
        dirty: new Set(),
      };
      users.set(peer.clientId, u);
      for (const [id, other] of users) {
        if (id === peer.clientId) continue;
        if (relevant(peer.clientId, id)) u.visible.add(id);
        // Others re-evaluate the newcomer now rather than at the next relevance tick.
        if (old === undefined && relevant(id, peer.clientId)) other.visible.add(peer.clientId);
        else if (old !== undefined) other.dirty.delete(peer.clientId);
      }
      sendSnapshot(u, u.visible, true);
    },
    left(peer) {
      const u = users.get(peer.clientId);
      if (!u) return;
      users.delete(peer.clientId);
      for (const v of users.values()) {
        v.dirty.delete(peer.clientId);
        if (v.visible.delete(peer.clientId) && !u.entry.empty && live(v)) sendClear(v, peer.clientId, 'left');
      }
      countRecords();
      if (!u.entry.empty) events.emit('cleared', peer.clientId, 'left');
    },
    message(peer, tag, message) {
      if (tag !== Tag.AwarenessSet && tag !== Tag.AwarenessMotion) return false;
      const u = users.get(peer.clientId);
      if (u) receive(u, tag, message);
      return true;
    },
    beforeDetect() {
      const now = clock.now();
      tickRest(now);
      if (now < nextRelevanceAtMs) return;
      nextRelevanceAtMs = now + AWARENESS_RELEVANCE_INTERVAL_MS;
      for (const v of users.values()) if (live(v)) refresh(v);
    },
    send(peer, connection) {
      const v = users.get(peer.clientId);
      if (!v) return;
      for (const id of v.dirty) {
        const relay = users.get(id)?.relay;
        if (relay && !connection.sendUnreliable(relay)) {
          stats.motionDeferred++; // no room in this packet: the latest value goes out next tick
          return;
        }
        v.dirty.delete(id);
        if (relay) stats.motionRelayed++;
      }
    },
  });

  return {
    events,
    get: (id) => {
      const e = users.get(id)?.entry;
      return e && !e.empty ? e.view(schema) : undefined;
    },
    users: () => [...users].filter(([, u]) => !u.entry.empty).map(([id]) => id),
    visibleTo: (id) => [...(users.get(id)?.visible ?? [])],
    stats: () => ({ ...stats }),
  };
}
