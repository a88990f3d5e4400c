/**
 * One room inside a room host: its world, its server plugin on its own WebSocket path of the host's HTTP server (and
 * on the geckos.io links the host routes to it), its tick, and its seat accounting. A client is admitted only with a
 * reservation signed by the deployment key for this room and not expired, which the registry then turns into a
 * client exactly once.
 */
import { NetError, usageError } from '../errors.ts';
import type { ErrorHandler } from '../errors.ts';
import { createNetworkPlugin } from '../plugin.ts';
import type { HelloBody } from '../protocol/handshake.ts';
import type { AuthorizeResult } from '../session/server-handshake.ts';
import { createWebSocketServerTransport } from '../transport/websocket-server-transport.ts';
import { addServerExtension } from '../world-api.ts';
import type { HostedRoom, RoomDefinition } from './room-definition.ts';
import type { ScaleBackend } from './scale-backend.ts';
import { RoomTransport } from './room-transport.ts';
import { encodeMetadata } from './scale-records.ts';
import { verifyReservation } from './seat-reservation.ts';

/** An admitted reservation counts as a client for this long while its handshake finishes (the handshake timeout). */
const ADMIT_GRACE_MS = 10_000;
/** Default ticks per second of a room. */
const DEFAULT_TICK_HZ = 60;

/** Counters of the rooms of one host. */
export interface RoomHostStats {
  /** Rooms this host created (new or adopted). */
  roomsCreated: number;
  /** Rooms this host disposed (idle, drained or closed). */
  roomsDisposed: number;
  /** Hellos refused for a reservation that was malformed, unsigned, for another room, expired or already used. */
  refusedReservations: number;
  /** Room creations refused because the process hosts `maxRooms` already. */
  roomsRefused: number;
  /** Exceptions thrown by a room's own systems (contained, reported as InternalError). */
  containedErrors: number;
}

/** What a hosted room needs from its host. */
export interface RoomEnv {
  backend: ScaleBackend;
  publicKey: Uint8Array;
  stats: RoomHostStats;
  now: () => number;
  onError?: ErrorHandler;
  /** The room's clients changed (the host syncs the registry soon). */
  changed: (room: RoomRuntime) => void;
}

/** The runtime of one hosted room. */
export class RoomRuntime implements HostedRoom {
  readonly world: object;
  readonly net: ReturnType<typeof createNetworkPlugin>;
  /** Set once the room is disposed or handed over: the registry is no longer this process's to change. */
  detached = false;
  /** When the room became empty (for the idle disposal), or undefined while it has clients. */
  idleSinceMs: number | undefined;
  private readonly userIds = new Map<number, string>();
  private admitting: number[] = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly teardown: (() => void) | undefined;

  private constructor(
    readonly id: string,
    readonly definition: RoomDefinition,
    readonly transport: RoomTransport,
    private readonly env: RoomEnv,
    snapshot: Uint8Array | undefined,
  ) {
    const { world, protocol } = definition.create();
    this.world = world;
    this.net = createNetworkPlugin(this.world, {
      ...definition.options,
      role: 'server',
      protocol,
      transport,
      onError: definition.options?.onError ?? env.onError,
      authorize: (hello) => this.authorize(hello),
    });
    addServerExtension(this.world, {
      joined: (peer) => {
        this.admitting.shift();
        this.userIds.set(peer.clientId, peer.userId ?? `client-${peer.clientId}`);
        this.env.changed(this);
      },
      left: (peer) => {
        const userId = this.userIds.get(peer.clientId);
        this.userIds.delete(peer.clientId);
        if (userId !== undefined && !this.detached)
          env.backend.removePresence(this.id, userId).catch((e: unknown) => this.report(e));
        this.env.changed(this);
      },
    });
    const setup = definition.setup?.(this);
    this.teardown = typeof setup === 'function' ? setup : undefined;
    if (snapshot && definition.load) definition.load(this, snapshot);
    this.idleSinceMs = env.now();
    const systems = definition.systems ?? [];
    this.timer = setInterval(() => this.tick(systems), 1000 / (definition.tickHz ?? DEFAULT_TICK_HZ));
  }

  /** Starts a room on path `/rooms/<id>` of the host's server (and on its geckos.io server, when it has one). */
  static async start(
    id: string,
    definition: RoomDefinition,
    env: RoomEnv,
    snapshot?: Uint8Array,
  ): Promise<RoomRuntime> {
    const websocket = await createWebSocketServerTransport({
      manual: true,
      path: `/rooms/${encodeURIComponent(id)}`,
      onError: env.onError,
    });
    env.stats.roomsCreated++;
    return new RoomRuntime(id, definition, new RoomTransport(websocket), env, snapshot);
  }

  get name(): string {
    return this.definition.name;
  }

  clientCount(): number {
    return this.userIds.size;
  }

  users(): ReadonlyMap<number, string> {
    return this.userIds;
  }

  async setLocked(locked: boolean): Promise<void> {
    if (!this.detached) await this.env.backend.patchRoom(this.id, { locked });
  }

  async setMetadata(metadata: Record<string, unknown>): Promise<void> {
    if (encodeMetadata(metadata) === null)
      usageError(`metadata of room ${this.id} is not a JSON object under 4 KiB`, 'keep room metadata small');
    if (!this.detached) await this.env.backend.patchRoom(this.id, { metadata });
  }

  /** Clients plus admitted reservations whose handshake is not finished: what the registry should count. */
  seatsInUse(): number {
    const now = this.env.now();
    this.admitting = this.admitting.filter((until) => until > now);
    return this.userIds.size + this.admitting.length;
  }

  private tick(systems: readonly ((world: object) => object)[]): void {
    this.net.receive(this.world);
    for (const system of systems) {
      try {
        system(this.world);
      } catch (e) {
        this.env.stats.containedErrors++;
        this.report(e);
      }
    }
    this.net.send(this.world);
  }

  private report(e: unknown): void {
    this.env.onError?.(new NetError('InternalError', `room ${this.id}: ${e instanceof Error ? e.message : String(e)}`));
  }

  private async authorize(hello: HelloBody): Promise<AuthorizeResult> {
    const refuse = (code: 'ReservationInvalid' | 'ReservationExpired', why: string): false => {
      this.env.stats.refusedReservations++;
      this.env.onError?.(new NetError(code, `room ${this.id}: ${why}`));
      return false;
    };
    if (this.detached) return false;
    const claims = verifyReservation(hello.auth, this.env.publicKey, this.id, Date.now());
    if (claims === 'expired') return refuse('ReservationExpired', 'the reservation expired before it was used');
    if (typeof claims === 'string') return refuse('ReservationInvalid', `the reservation is ${claims}`);
    const consumed = await this.env.backend.consumeSeat(this.id, claims.seatId);
    if (consumed !== 'ok') return refuse('ReservationExpired', 'the reservation was already used or has expired');
    this.admitting.push(this.env.now() + ADMIT_GRACE_MS);
    const verdict = this.definition.authorize ? await this.definition.authorize(hello, claims) : {};
    if (verdict === false) {
      this.admitting.pop();
      this.env.changed(this);
      return false;
    }
    return { role: verdict.role, userId: claims.userId };
  }

  /** Stops ticking and closes every connection (Shutdown to clients still there). */
  async stop(): Promise<void> {
    this.detached = true;
    clearInterval(this.timer);
    try {
      this.teardown?.();
    } catch (e) {
      this.report(e);
    }
    await this.net.dispose();
    this.env.stats.roomsDisposed++;
  }
}
