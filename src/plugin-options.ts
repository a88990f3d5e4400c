/** The options of `createNetworkPlugin` for both roles, and the shape of the plugin it returns. */
import type { Clock } from './clock.ts';
import type { ConnectionStats } from './connection/connection.ts';
import type { ErrorHandler } from './errors.ts';
import type { Emitter, ReplicationEvents } from './events.ts';
import type { HelloBody } from './protocol/handshake.ts';
import type { Protocol } from './register.ts';
import type { PriorityFn } from './replication/server-replicator.ts';
import type { ResyncBudgetOptions } from './replication/resync-budget.ts';
import type { CatchUpOptions } from './replication/catch-up-server.ts';
import type { ScopeLimits } from './replication/scope-names.ts';
import type { FidelityOptions } from './replication/fidelity-options.ts';
import type { ClientState } from './session/client-session.ts';
import type { Authorize } from './session/server-session.ts';
import type { KeyPair } from './session/identity.ts';
import type { CapacityOptions, IdleOptions, RateLimitOptions, ReconnectOptions } from './session/session-options.ts';
import type { ServerSessionStats } from './session/server-capacity.ts';
import type { ClientTransport, Link, ServerTransport } from './transport/transport.ts';

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
  /** Selects the server plugin. */
  role: 'server';
  /** The transport the server accepts client links from (memory, WebSocket or geckos.io). */
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
  /** Resume catch-up: change-history bounds (ticks, bytes), the wait for a Resync, the ids it may list. */
  catchUp?: CatchUpOptions;
  /**
   * Fidelity by distance: farther entities are sent to a client less often (`every`) and with coarser quantized and
   * quaternion fields (`coarsen`), full precision again once they stop. Default: none (full rate and precision).
   */
  fidelity?: FidelityOptions;
}

/** Interest options of a server plugin. */
export interface InterestOptions {
  /** Recompute rate (default 10 Hz). */
  rateHz?: number;
  /** Spatial grid: entities with `position` within `radius` of each client's viewpoint. */
  grid?: {
    /** Edge of a grid cell, in the position's unit (world units, e.g. metres). */
    cellSize: number;
    /** Distance from a client's viewpoint within which entities are relevant, in the same unit. */
    radius: number;
    /** A registered component and the names of its x/y/z arrays. */
    position: {
      /** The registered component holding the position. */
      component: object;
      /** Name of its x array. */
      x: string;
      /** Name of its y array. */
      y: string;
      /** Name of its z array. */
      z: string;
    };
  };
  /** Custom rule, combined with the others: return false to hide `eid` from `clientId`. */
  predicate?: (clientId: number, eid: number) => boolean;
}

/** Options of a client plugin: an open link (in-memory) or a transport to connect with. */
export interface ClientPluginOptions extends CommonOptions {
  /** Selects the client plugin. */
  role: 'client';
  /** An already open link to the server (e.g. from a memory network); give this or `transport`. */
  link?: Link;
  /** The transport to connect (and reconnect) to the server with; give this or `link`. */
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
  /** Server: the client's id; client: this client's own id (0 before its Welcome). */
  clientId: number;
  /** Writes of this client the server refused (permission, ownership, write gate); always 0 on a client. */
  rejectedWrites: number;
  /** Non-fatal Error replies to this client dropped by its error-reply budget (server only). */
  suppressedErrors: number;
}

/** What `createNetworkPlugin` returns. */
export interface NetworkPlugin {
  /** Whether this plugin is the server or a client. */
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
    | (ServerSessionStats & {
        /** Connections in the handshake now (no Welcome yet). */
        pendingHandshakes: number;
        /** Refused links kept open just long enough to deliver their fatal Error. */
        lingering: number;
        /** Bytes held now for received reliable messages that cannot be delivered yet (out of order or partial). */
        receiveBufferedBytes: number;
      })
    | null;
  /** Exceptions the receive and send systems caught (reported as `InternalError`); should stay 0. */
  containedErrors(): number;
  /** Closes connections and detaches from the world. */
  dispose(): Promise<void>;
}
