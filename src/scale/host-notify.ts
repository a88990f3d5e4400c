/**
 * Notifications of a room host: `notify(domain, event)` publishes `{f: process id, e: event}` to every process
 * (pub/sub, or a capped stream when durable), `onNotify` receives them (shape checked), and the domains a room
 * definition lists in `notify` are relayed to that room's subscribed clients through its server authority.
 */
import { authorityOf } from '../authority/authority-api.ts';
import { ServerAuthority } from '../authority/server-authority.ts';
import { NetError, usageError } from '../errors.ts';
import type { RoomRuntime } from './hosted-room.ts';
import { MAX_NOTIFY_BYTES } from './scale-backend.ts';
import type { ScaleBackend } from './scale-backend.ts';
import { isId, isRoomName, parseJson } from './scale-records.ts';

/** Options of a notification: fire-and-forget (default) or through a capped durable stream. */
export interface NotifyOptions {
  /** True to publish through the capped durable stream instead of fire-and-forget pub/sub (default false). */
  durable?: boolean;
  /** Entries the durable stream keeps (default 10,000). */
  maxLength?: number;
}

/** Entries a durable notification stream keeps by default: minutes of a busy domain, bounded memory in Redis. */
const DEFAULT_STREAM_LENGTH = 10_000;

/** The notification side of one host. */
export interface HostNotifier {
  notify(domain: string, event: unknown, options?: NotifyOptions): Promise<void>;
  onNotify(
    domain: string,
    handler: (event: unknown, from: string) => void,
    options?: NotifyOptions,
  ): Promise<() => Promise<void>>;
  /** A room started (true) or stopped (false): its definition's `notify` domains are relayed while it runs. */
  watch(room: RoomRuntime, on: boolean): void;
}

function checkDomain(domain: string): void {
  if (!isRoomName(domain)) usageError(`domain ${JSON.stringify(domain)} is not valid`, 'use 1..64 of [A-Za-z0-9_.:-]');
}

/** Creates the notifier of host `id`. */
export function createHostNotifier(
  id: string,
  backend: ScaleBackend,
  runtimes: ReadonlyMap<string, RoomRuntime>,
  report: (e: unknown) => void,
): HostNotifier {
  // Domains relayed into rooms: one subscription per domain while any room wants it.
  const relays = new Map<string, { rooms: number; stop: Promise<() => Promise<void>> }>();
  const notifier: HostNotifier = {
    async notify(domain, event, options = {}) {
      checkDomain(domain);
      const message = JSON.stringify({ f: id, e: event });
      if (options.durable) await backend.append(domain, message, options.maxLength ?? DEFAULT_STREAM_LENGTH);
      else await backend.publish(domain, message);
    },
    async onNotify(domain, handler, options = {}) {
      checkDomain(domain);
      const deliver = (message: string) => {
        const v = parseJson(message, MAX_NOTIFY_BYTES) as { f?: unknown; e?: unknown } | undefined;
        if (typeof v !== 'object' || v === null || !isId(v.f)) {
          backend.stats.droppedInvalid++;
          return report(new NetError('BackendInvalid', `a notification on ${domain} does not fit its shape`));
        }
        try {
          handler(v.e, v.f);
        } catch (e) {
          report(new NetError('InternalError', `a notification handler of ${domain} threw: ${String(e)}`));
        }
      };
      if (!options.durable) return backend.subscribe(domain, deliver);
      const stop = backend.follow(domain, '$', (_id, message) => deliver(message));
      return async () => stop();
    },
    watch(room, on) {
      for (const domain of room.definition.notify ?? []) {
        const entry = relays.get(domain);
        if (on && entry) entry.rooms++;
        else if (on) relays.set(domain, { rooms: 1, stop: notifier.onNotify(domain, (e) => relay(domain, e)) });
        else if (entry && --entry.rooms === 0) {
          relays.delete(domain);
          void entry.stop.then((stop) => stop()).catch(report);
        }
      }
    },
  };
  const relay = (domain: string, event: unknown) => {
    for (const r of runtimes.values()) {
      if (r.detached || !r.definition.notify?.includes(domain)) continue;
      const authority = authorityOf(r.world);
      if (authority instanceof ServerAuthority) authority.notify(domain, event);
    }
  };
  return notifier;
}
