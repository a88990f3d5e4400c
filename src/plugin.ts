/**
 * `createNetworkPlugin(world, options)`: the composition root. It wires the session and replication layers to
 * a bitecs world and returns the systems to run each frame, in order, plus `dispose()`.
 *
 * @example
 * const net = createNetworkPlugin(world, { role: 'server', protocol, transport });
 * const frame = pipe(net.receive, gameSystems, net.send);
 */
import {
  addComponent,
  addEntity,
  entityExists,
  hasComponent,
  observe,
  onAdd,
  onRemove,
  removeComponent,
  removeEntity,
  type World,
} from 'bitecs';
import { Networked } from '../components/networked.ts';
import { changeDetectionSystem } from '../systems/change-detection-system.ts';
import { receiveSystem } from '../systems/receive-system.ts';
import { sendSystem } from '../systems/send-system.ts';
import { interpolationSystem } from '../systems/interpolation-system.ts';
import { poseInputSystem } from '../systems/pose-input-system.ts';
import { reconciliationSystem } from '../systems/reconciliation-system.ts';
import { addVrPoses, type VrPoses, type VrPosesOptions } from './vr/vr-plugin.ts';
import { type Clock, systemClock } from './clock.ts';
import type { ConnectionStats } from './connection/connection.ts';
import { deleteNetContext, type NetContext, setNetContext } from './context.ts';
import { type ErrorHandler, usageError } from './errors.ts';
import type { Emitter, ReplicationEvents } from './events.ts';
import type { HelloBody } from './protocol/handshake.ts';
import { checkPluginOptions, ClientNetworkedGuard } from './plugin-checks.ts';
import { freezeProtocol, type Protocol, registeredComponentOf } from './register.ts';
import type { NumericArray } from './replication/compiled-field.ts';
import { DEFAULT_INTEREST_RATE_HZ, type InterestConfig } from './replication/interest.ts';
import { ClientReplicator } from './replication/client-replicator.ts';
import { type PriorityFn, ServerReplicator } from './replication/server-replicator.ts';
import type { WorldAdapter } from './replication/world-adapter.ts';
import { type ClientState, ClientSession } from './session/client-session.ts';
import { type Authorize, ServerSession } from './session/server-session.ts';
import type { KeyPair } from './session/identity.ts';
import type { ResyncBudgetOptions } from './replication/resync-budget.ts';
import type { ScopeLimits } from './replication/scope-names.ts';
import type { CapacityOptions, IdleOptions, RateLimitOptions, ReconnectOptions } from './session/session-options.ts';
import type { ServerSessionStats } from './session/server-capacity.ts';
import type { ClientTransport, Link, ServerTransport } from './transport/transport.ts';

/** Default send rate: 30 Hz halves 60 Hz bandwidth while interpolation hides the gap for remote users. */
export const DEFAULT_SEND_RATE_HZ = 30;

/** Options shared by both roles. */
interface CommonOptions {
  /** The shared protocol (same registrations, same order, on every peer). */
  protocol: Protocol;
  /** Time source; tests pass a manual clock. Default: `performance.now()`. */
  clock?: Clock;
  /** Packets per second sent to each peer. */
  sendRateHz?: number;
  /** Receives every problem caused by network input; nothing from the network ever throws. */
  onError?: ErrorHandler;
}

/** Options of a server plugin. */
export interface ServerPluginOptions extends CommonOptions {
  role: 'server';
  transport: ServerTransport;
  /**
   * Decides identity and role from the Hello: return `{ role?, userId? }`, or false to refuse with `Unauthorized`.
   * May return a Promise (the client waits in the handshake). Default: everyone joins as 'participant'.
   */
  authorize?: Authorize;
  /** True refuses a client with `Banned` (the session's `bannedIds`, user ids or key hex, are refused too). */
  isBanned?: (hello: HelloBody, userId: string | undefined) => boolean;
  /** Heartbeat interval in ms (default 1,000): a client silent for 3 intervals is suspended. */
  heartbeatMs?: number;
  /** How long a suspended client's session (identity, role, owned entities) is kept, in ms (default 60,000). */
  resumeWindowMs?: number;
  /** Per-client limits: messages and bytes per second, decode errors (see DEFAULT_RATE_LIMITS); false disables. */
  rateLimits?: RateLimitOptions | false;
  /** The server's Ed25519 key pair (default: a fresh one). */
  keyPair?: KeyPair;
  /** Caps on pending handshakes, suspended sessions, send queues and contained exceptions (DEFAULT_CAPACITY). */
  capacity?: CapacityOptions;
  /** Interest management; without it every client receives every replicated entity. */
  interest?: InterestOptions;
  /** Priority of an entity for a client (higher goes first when the budget is short). */
  priority?: PriorityFn;
  /** Per-client downstream cap in kbps (default 256); 0 disables it. */
  bandwidthKbps?: number;
  /** Deflate snapshots for clients that offer it (default true). */
  compression?: boolean;
  /** State-hash period in ms (default 1000); 0 disables divergence checks. */
  hashIntervalMs?: number;
  /** May a client subscribe itself to a scope? Default: yes. */
  allowScope?: (clientId: number, scope: string) => boolean;
  /** Budget of resync work per client: buckets and bytes rebuilt per second, unsolicited requests tolerated. */
  resync?: ResyncBudgetOptions;
  /** Bounds of scope names: in all (default 4,096) and per client (default 64). */
  scopeLimits?: ScopeLimits;
}

/** Interest options of a server plugin. */
export interface InterestOptions {
  /** Recompute rate (default 10 Hz). */
  rateHz?: number;
  /** Spatial grid: entities with `position` within `radius` of each client's viewpoint. */
  grid?: {
    cellSize: number;
    radius: number;
    /** A registered component and the names of its x/y/z arrays. */
    position: { component: object; x: string; y: string; z: string };
  };
  /** Custom rule, combined with the others: return false to hide `eid` from `clientId`. */
  predicate?: (clientId: number, eid: number) => boolean;
}

/** Options of a client plugin: an open link (in-memory) or a transport to connect with. */
export interface ClientPluginOptions extends CommonOptions {
  role: 'client';
  link?: Link;
  transport?: ClientTransport;
  /** Credentials passed to the server's `authorize` hook. */
  auth?: string;
  /** Called on every connection state change (also an event: `onSessionEvent(world, 'state', ...)`). */
  onStateChange?: (state: ClientState, previous: ClientState) => void;
  /** This client's Ed25519 identity (default: a fresh key pair). */
  keyPair?: KeyPair;
  /** The server's public key, when the application knows it: another key (or no proof of it) is a fatal `ServerKeyMismatch`. */
  expectedServerKey?: Uint8Array;
  /** Heartbeat interval in ms (default 1,000): a server silent for 3 intervals makes the client reconnect. */
  heartbeatMs?: number;
  /** Reconnect backoff (needs `transport`; a bare `link` cannot reconnect); false never reconnects. */
  reconnect?: ReconnectOptions | false;
  /** Idle detection for presence: idle / away after this much input inactivity (see `notePresenceActivity`). */
  idle?: IdleOptions;
  /** Cap on entity references waiting for an entity the client does not have (default 65,536). */
  maxUnresolvedRefs?: number;
}

/** Options of `createNetworkPlugin`. */
export type NetworkPluginOptions = ServerPluginOptions | ClientPluginOptions;

/** A bitecs system. */
export type System = <W extends object>(world: W) => W;

/** Per-connection figures: the connection layer's estimates and counters plus the replication counters. */
export interface PeerStats extends ConnectionStats {
  clientId: number;
  rejectedWrites: number;
  /** Non-fatal Error replies to this client dropped by its error-reply budget (server only). */
  suppressedErrors: number;
}

/** What `createNetworkPlugin` returns. */
export interface NetworkPlugin {
  readonly role: 'server' | 'client';
  /** Run first each frame: applies everything received. */
  readonly receive: System;
  /** Run last each frame: detects changes and sends, at the send rate. */
  readonly send: System;
  /** The systems in order, for `pipe(...plugin.systems)` around your own. */
  readonly systems: readonly System[];
  /** Replication events: spawn, despawn, ownership. */
  readonly events: Emitter<ReplicationEvents>;
  /** Per-connection stats (server: one per client; client: the server connection). */
  stats(): PeerStats[];
  /**
   * Server: capacity counters (evictions, contained exceptions, send-queue disconnects) plus the pending
   * handshakes and the bytes held for undelivered reliable messages now; null on a client.
   */
  sessionStats():
    (ServerSessionStats & { pendingHandshakes: number; lingering: number; receiveBufferedBytes: number }) | null;
  /** Exceptions the receive and send systems caught (reported as `InternalError`); should stay 0. */
  containedErrors(): number;
  /** Closes connections and detaches from the world. */
  dispose(): Promise<void>;
}

function worldAdapter(world: World, protocol: Protocol, guard: ClientNetworkedGuard | null): WorldAdapter {
  const stores = protocol.components.map((c) => c.store);
  return {
    createEntity() {
      const eid = addEntity(world);
      if (guard) {
        guard.creating = true;
        addComponent(world, eid, Networked);
        guard.creating = false;
      }
      return eid;
    },
    destroyEntity: (eid) => removeEntity(world, eid),
    addComponent: (eid, c) => addComponent(world, eid, stores[c]),
    removeComponent: (eid, c) => removeComponent(world, eid, stores[c]),
    hasComponent: (eid, c) => hasComponent(world, eid, stores[c]),
  };
}

function interestConfig(protocol: Protocol, options: InterestOptions | undefined): InterestConfig {
  const rateHz = checkRate(options?.rateHz ?? DEFAULT_INTEREST_RATE_HZ);
  const grid = options?.grid;
  if (!grid) return { rateHz, grid: null, predicate: options?.predicate ?? null };
  const reg = registeredComponentOf(protocol, grid.position.component);
  if (!reg)
    usageError('the interest grid position component is not registered', 'register it in the shared protocol first');
  if (!(grid.cellSize > 0) || !(grid.radius > 0))
    usageError('interest grid cellSize and radius must be positive', 'pass e.g. { cellSize: 4, radius: 8 }');
  const store = grid.position.component as Record<string, NumericArray | undefined>;
  const axis = (key: string): NumericArray => {
    const a = store[key];
    if (!a) usageError(`the position component has no array '${key}'`, 'name its x/y/z arrays in position');
    return a;
  };
  return {
    rateHz,
    predicate: options?.predicate ?? null,
    grid: {
      cellSize: grid.cellSize,
      radius: grid.radius,
      component: reg.id,
      x: axis(grid.position.x),
      y: axis(grid.position.y),
      z: axis(grid.position.z),
    },
  };
}

function checkRate(hz: number): number {
  if (!Number.isFinite(hz) || hz <= 0 || hz > 1000)
    usageError(`sendRateHz ${hz} is out of range`, 'pass a rate in (0, 1000], e.g. 30');
  return hz;
}

/** Attaches ecsync to a bitecs world as the server or a client. */
export function createNetworkPlugin(world: World, options: NetworkPluginOptions): NetworkPlugin {
  checkPluginOptions(options);
  const clock = options.clock ?? systemClock;
  const sendRateHz = checkRate(options.sendRateHz ?? DEFAULT_SEND_RATE_HZ);
  const protocol = options.protocol;
  freezeProtocol(protocol);
  const unsubscribe: Array<() => void> = [];
  const guard = options.role === 'client' ? new ClientNetworkedGuard() : null;
  let ctx: NetContext;

  if (options.role === 'server') {
    if (!options.transport) usageError('a server plugin needs a transport', 'pass { transport: ... }');
    const session = new ServerSession({
      transport: options.transport,
      clock,
      schemaHash: protocol.schemaHash,
      manifest: protocol.manifest,
      sendRateHz,
      authorize: options.authorize,
      isBanned: options.isBanned,
      heartbeatMs: options.heartbeatMs,
      resumeWindowMs: options.resumeWindowMs,
      rateLimits: options.rateLimits,
      capacity: options.capacity,
      keyPair: options.keyPair,
      capabilities: options.compression === false ? ['ed25519'] : ['deflate', 'ed25519'],
      onError: options.onError,
    });
    const replicator = new ServerReplicator({
      protocol,
      session,
      world: worldAdapter(world, protocol, null),
      clock,
      onError: options.onError,
      interest: interestConfig(protocol, options.interest),
      priority: options.priority,
      bandwidthKbps: options.bandwidthKbps,
      compression: options.compression,
      hashIntervalMs: options.hashIntervalMs,
      allowScope: options.allowScope,
      resync: options.resync,
      scopeLimits: options.scopeLimits,
    });
    unsubscribe.push(
      observe(world, onAdd(Networked), (eid: number) => replicator.entityAdded(eid)),
      observe(world, onRemove(Networked), (eid: number) => replicator.entityRemoved(eid)),
    );
    protocol.components.forEach((comp, c) => {
      unsubscribe.push(
        observe(world, onAdd(comp.store), (eid: number) => replicator.componentAdded(eid, c)),
        observe(world, onRemove(comp.store), (eid: number) => replicator.componentRemoved(eid, c)),
      );
    });
    ctx = {
      role: 'server',
      clock,
      session,
      replicator,
      hasTag: (eid, component) => entityExists(world, eid) && hasComponent(world, eid, component),
      sendIntervalMs: 1000 / sendRateHz,
      nextSendAtMs: clock.now(),
      sendDue: false,
      onError: options.onError,
      containedErrors: 0,
    };
  } else {
    if (!options.link && !options.transport)
      usageError('a client plugin needs a link or a transport', 'pass { link } or { transport }');
    const session = new ClientSession({
      link: options.link,
      transport: options.transport,
      clock,
      schemaHash: protocol.schemaHash,
      manifest: protocol.manifest,
      auth: options.auth,
      keyPair: options.keyPair,
      expectedServerKey: options.expectedServerKey,
      heartbeatMs: options.heartbeatMs,
      reconnect: options.reconnect,
      idle: options.idle,
      onError: options.onError,
      onStateChange: options.onStateChange,
    });
    const replicator = new ClientReplicator({
      protocol,
      session,
      world: worldAdapter(world, protocol, guard),
      onError: options.onError,
      clock,
      maxUnresolvedRefs: options.maxUnresolvedRefs,
    });
    unsubscribe.push(observe(world, onAdd(Networked), (eid: number) => guard?.added(eid)));
    ctx = {
      role: 'client',
      clock,
      session,
      replicator,
      sendIntervalMs: 1000 / sendRateHz,
      nextSendAtMs: clock.now(),
      sendDue: false,
      onError: options.onError,
      containedErrors: 0,
    };
    session.start();
  }
  setNetContext(world, ctx);

  const send: System = guard
    ? (w) => {
        guard.check();
        return sendSystem(changeDetectionSystem(w));
      }
    : (w) => sendSystem(changeDetectionSystem(w));
  const receive: System = guard
    ? (w) => {
        guard.check();
        return receiveSystem(w);
      }
    : receiveSystem;
  const current = ctx;
  return {
    role: current.role,
    receive,
    send,
    systems: [receive, send],
    events: current.replicator.events,
    stats() {
      if (current.role === 'server') {
        return [...current.session.peers.values()].map((p) => ({
          ...p.connection.stats,
          clientId: p.clientId,
          rejectedWrites: p.counters.rejectedWrites,
          suppressedErrors: p.counters.suppressedErrors,
        }));
      }
      const conn = current.session.connection;
      return conn
        ? [{ ...conn.stats, clientId: current.session.clientId, rejectedWrites: 0, suppressedErrors: 0 }]
        : [];
    },
    sessionStats() {
      if (current.role !== 'server') return null;
      const s = current.session;
      return {
        ...s.stats,
        pendingHandshakes: s.pendingCount,
        lingering: s.lingeringCount,
        receiveBufferedBytes: s.receiveBufferedBytes(),
      };
    },
    containedErrors: () => current.containedErrors,
    async dispose() {
      for (const u of unsubscribe) u();
      deleteNetContext(world);
      if (current.role === 'server') await current.session.shutdown();
      else current.session.close();
    },
  };
}

/** What `createVrPlugin` returns: the VR pose layer and its systems, to run around the network plugin's. */
export interface VrPlugin extends VrPoses {
  /** Run right after `net.receive`: applies the server's corrections to owned devices. */
  readonly reconcile: System;
  /** Run after writing this frame's XR input into the owned pose arrays, before `net.send`: renders them at once. */
  readonly record: System;
  /** Run before drawing: renders every remote device (interpolated) into RenderPose. */
  readonly render: System;
  /** The three in order. */
  readonly systems: readonly System[];
}

/**
 * Adds VR poses (head and controllers: owner stream, validation, corrections, interpolation) to a world that has
 * a network plugin, and returns the systems that run them.
 * @example
 * const vr = createVrPlugin(world, { components: poses });
 * const frame = pipe(net.receive, vr.reconcile, writeXrInput, vr.record, net.send, vr.render);
 */
export function createVrPlugin(world: World, options: VrPosesOptions): VrPlugin {
  const vr = addVrPoses(world, options);
  return {
    role: vr.role,
    stats: vr.stats,
    dispose: vr.dispose,
    reconcile: reconciliationSystem,
    record: poseInputSystem,
    render: interpolationSystem,
    systems: [reconciliationSystem, poseInputSystem, interpolationSystem],
  };
}
