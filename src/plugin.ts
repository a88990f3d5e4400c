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
import { systemClock } from './clock.ts';
import { deleteNetContext, type NetContext, setNetContext } from './context.ts';
import { usageError } from './errors.ts';
import { checkPluginOptions, ClientNetworkedGuard } from './plugin-checks.ts';
import { freezeProtocol, type Protocol, registeredComponentOf } from './register.ts';
import type { NumericArray } from './replication/compiled-field.ts';
import { DEFAULT_INTEREST_RATE_HZ, type InterestConfig } from './replication/interest.ts';
import { resolveFidelity } from './replication/fidelity-options.ts';
import { ClientReplicator } from './replication/client-replicator.ts';
import { ServerReplicator } from './replication/server-replicator.ts';
import type { WorldAdapter } from './replication/world-adapter.ts';
import { ClientSession } from './session/client-session.ts';
import { ServerSession } from './session/server-session.ts';

export type {
  ServerPluginOptions,
  InterestOptions,
  ClientPluginOptions,
  NetworkPluginOptions,
  System,
  PeerStats,
  NetworkPlugin,
} from './plugin-options.ts';
import type { InterestOptions, NetworkPlugin, NetworkPluginOptions, System } from './plugin-options.ts';

/** Default send rate: 30 Hz halves 60 Hz bandwidth while interpolation hides the gap for remote users. */
export const DEFAULT_SEND_RATE_HZ = 30;

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
      capabilities: options.compression === false ? ['ed25519', 'ackedbase2'] : ['deflate', 'ed25519', 'ackedbase2'],
      onError: options.onError,
    });
    const interest = interestConfig(protocol, options.interest);
    const grid = interest.grid;
    const fidelity = options.fidelity
      ? resolveFidelity(options.fidelity, (store) => registeredComponentOf(protocol, store)?.id, grid)
      : null;
    const replicator = new ServerReplicator({
      protocol,
      session,
      world: worldAdapter(world, protocol, null),
      clock,
      onError: options.onError,
      interest,
      fidelity,
      priority: options.priority,
      bandwidthKbps: options.bandwidthKbps,
      compression: options.compression,
      hashIntervalMs: options.hashIntervalMs,
      allowScope: options.allowScope,
      resync: options.resync,
      scopeLimits: options.scopeLimits,
      catchUp: options.catchUp,
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
