/**
 * Per-world network state. Systems keep nothing at module level: everything lives in the context of the
 * world they run on, found through a WeakMap so a disposed world's state is collected with it.
 */
import type { Clock } from './clock.ts';
import type { Emitter, ReplicationEvents } from './events.ts';
import type { ClientReplicator } from './replication/client-replicator.ts';
import type { ServerReplicator } from './replication/server-replicator.ts';
import type { ClientSession } from './session/client-session.ts';
import type { ServerSession } from './session/server-session.ts';
import { type ErrorHandler, NetError, usageError } from './errors.ts';

/** Network state of one world acting as the server. */
export interface ServerContext {
  readonly role: 'server';
  readonly clock: Clock;
  readonly session: ServerSession;
  readonly replicator: ServerReplicator;
  /** True when entity `eid` has component (or tag) `component`, registered or not. */
  readonly hasTag: (eid: number, component: object) => boolean;
  readonly sendIntervalMs: number;
  nextSendAtMs: number;
  sendDue: boolean;
  readonly onError: ErrorHandler | undefined;
  /** Exceptions the receive and send systems caught (the last boundary before the game loop). */
  containedErrors: number;
}

/** Network state of one world acting as a client. */
export interface ClientContext {
  readonly role: 'client';
  readonly clock: Clock;
  readonly session: ClientSession;
  readonly replicator: ClientReplicator;
  readonly sendIntervalMs: number;
  nextSendAtMs: number;
  sendDue: boolean;
  readonly onError: ErrorHandler | undefined;
  /** Exceptions the receive and send systems caught (the last boundary before the game loop). */
  containedErrors: number;
}

/** Network state of a world. */
export type NetContext = ServerContext | ClientContext;

const contexts = new WeakMap<object, NetContext>();

/**
 * The last containment boundary, used by the receive and send systems: an exception from any layer is counted and
 * reported as `InternalError`, never rethrown into the game loop.
 */
export function reportContained(ctx: NetContext, system: string, e: unknown): void {
  ctx.containedErrors++;
  const why = e instanceof Error ? e.message : String(e);
  ctx.onError?.(new NetError('InternalError', `${system} caught an exception: ${why}`));
}

/** Attaches `ctx` to `world`; a world has at most one network plugin. */
export function setNetContext(world: object, ctx: NetContext): void {
  if (contexts.has(world))
    usageError('this world already has a network plugin', 'dispose() the old plugin before creating another one');
  contexts.set(world, ctx);
}

/** Detaches the context of `world`. */
export function deleteNetContext(world: object): void {
  contexts.delete(world);
}

/** The network context of `world`; throws a Usage error when the world has no plugin. */
export function getNetContext(world: object): NetContext {
  const ctx = contexts.get(world);
  if (!ctx) usageError('this world has no network plugin', 'call createNetworkPlugin(world, options) first');
  return ctx;
}

/** The network context of `world`, or undefined. */
export function findNetContext(world: object): NetContext | undefined {
  return contexts.get(world);
}

/** The replication events of a world's plugin. */
export function eventsOf(ctx: NetContext): Emitter<ReplicationEvents> {
  return ctx.replicator.events;
}
