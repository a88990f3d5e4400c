/** What a room is made of (its definition) and what a running room offers the application. */
import type { HelloBody } from '../protocol/handshake.ts';
import type { NetworkPlugin, ServerPluginOptions, System } from '../plugin-options.ts';
import type { Protocol } from '../register.ts';
import type { AuthorizeResult } from '../session/server-handshake.ts';
import type { SeatClaims } from './seat-reservation.ts';

/** A kind of room a process can host, by name: its protocol, world, systems, capacity and options. */
export interface RoomDefinition<W extends object = object> {
  /** Join-or-create picks among the rooms of this name (1..64 of letters, digits and `-_.:`). */
  name: string;
  /** Most clients in one room (reservations included). */
  capacity: number;
  /**
   * A fresh world and its protocol for each room (components are arrays indexed by entity id, so each world needs
   * its own; bitecs's `createWorld({ ...components })` keeps them on the world).
   */
  create: () => {
    /** The fresh bitecs world. */
    world: W;
    /** The protocol its components are registered in (the same on every peer). */
    protocol: Protocol;
  };
  /** Your systems, run every tick between the plugin's `receive` and `send`. */
  systems?: readonly System[];
  /** Ticks per second (default 60). */
  tickHz?: number;
  /** Server plugin options other than role, protocol, transport and authorize (which the host sets). */
  options?: Omit<ServerPluginOptions, 'role' | 'protocol' | 'transport' | 'authorize'>;
  /** Checked after the seat reservation: may refuse (false) or give a role; the user id is the reservation's. */
  authorize?: (hello: HelloBody, claims: SeatClaims) => AuthorizeResult | Promise<AuthorizeResult>;
  /** Runs once when the room is created (add extensions, spawn entities); may return a dispose function. */
  setup?: (room: HostedRoom<W>) => void | (() => void);
  /** The room's state for a handover (called on the draining process); default: nothing is carried over. */
  save?: (room: HostedRoom<W>) => Uint8Array;
  /** Restores what `save` made, right after `setup`, on the adopting process. */
  load?: (room: HostedRoom<W>, snapshot: Uint8Array) => void;
  /** Presence data published for each user (JSON, e.g. a display name). */
  presenceData?: (room: HostedRoom<W>, clientId: number, userId: string) => unknown;
  /**
   * Notification domains relayed from every process to this room's clients: what any host publishes with
   * `host.notify(domain, event)` is sent to the room's clients subscribed to `domain` (needs the room's server
   * authority, `createServerAuthority` in `setup`).
   */
  notify?: readonly string[];
  /** Never picked by name (joined by id only). */
  private?: boolean;
  /** Shown in room lists (JSON object, at most 4 KiB encoded). */
  metadata?: Record<string, unknown>;
}

/** A room running in this process. */
export interface HostedRoom<W extends object = object> {
  /** The room's id (unique in the deployment). */
  readonly id: string;
  /** The room definition's name. */
  readonly name: string;
  /** The room's world. */
  readonly world: W;
  /** The room's server network plugin. */
  readonly net: NetworkPlugin;
  /** Clients in the room (connected or suspended). */
  clientCount(): number;
  /** User ids by client id. */
  users(): ReadonlyMap<number, string>;
  /** Locks (no new seats, by name or id) or unlocks the room in the registry, e.g. once a match has started. */
  setLocked(locked: boolean): Promise<void>;
  /** Replaces the room's metadata in room lists (a JSON object, at most 4 KiB encoded; a Usage error otherwise). */
  setMetadata(metadata: Record<string, unknown>): Promise<void>;
}

/**
 * Types a room definition against its world and returns it for `createRoomHost({ definitions })`.
 * @example
 * const lobby = defineRoom({ name: 'lobby', capacity: 8, create: defineTableWorld, setup: (room) => spawnTable(room.world) });
 */
export function defineRoom<W extends object>(definition: RoomDefinition<W>): RoomDefinition {
  return definition as unknown as RoomDefinition;
}
