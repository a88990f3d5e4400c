/**
 * Roles and the permission table. A client is a `viewer` (read only), a `participant` (may own entities, act and
 * edit) or an `admin` (session control); one admin may be the privileged host. The table maps each message tag to
 * the roles allowed to send it and the server checks it for every message a client sends, core ones included.
 */
import { Tag } from '../protocol/tags.ts';

/** The roles a client can have. */
export type Role = 'viewer' | 'participant' | 'admin';

/** Roles in order of growing rights. */
export const ROLES: readonly Role[] = ['viewer', 'participant', 'admin'];

/** Who may send a tag: roles, plus 'host' for the privileged admin only. */
export type Sender = Role | 'host';

/** Rank of a role; the host ranks above every admin. Unknown roles rank as viewers (least privilege). */
export function roleRank(role: string, isHost = false): number {
  if (isHost) return 3;
  const i = ROLES.indexOf(role as Role);
  return i < 0 ? 0 : i;
}

/** A role from the wire or `authorize`, or undefined when it is not one. */
export function asRole(v: unknown): Role | undefined {
  return v === 'viewer' || v === 'participant' || v === 'admin' ? v : undefined;
}

/** Bits of the senders in a permission entry. */
const BIT: Record<Sender, number> = { viewer: 1, participant: 2, admin: 4, host: 8 };

const EVERYONE: readonly Sender[] = ['viewer', 'participant', 'admin'];
const WRITERS: readonly Sender[] = ['participant', 'admin'];
const ADMINS: readonly Sender[] = ['admin'];

/**
 * Default table. Session upkeep, resync, subscriptions, signalling (voice for everyone), telemetry and awareness
 * (a viewer may point and select too): every role.
 * Writing state, owning, acting and editing: participants and admins. Session control: admins. Offering assets is the
 * `offerAssets` capability below (participants and admins), checked by the asset layer.
 * Tags the table does not list (application tags, future tags) default to `unlisted`.
 */
export const DEFAULT_PERMISSIONS: Readonly<Record<number, readonly Sender[]>> = Object.freeze({
  [Tag.Hello]: EVERYONE,
  [Tag.ChallengeResponse]: EVERYONE,
  [Tag.Ping]: EVERYONE,
  [Tag.Pong]: EVERYONE,
  [Tag.Error]: EVERYONE,
  [Tag.Resync]: EVERYONE,
  [Tag.Goodbye]: EVERYONE,
  [Tag.ResyncRequest]: EVERYONE,
  [Tag.Presence]: EVERYONE,
  [Tag.Subscribe]: EVERYONE,
  [Tag.Unsubscribe]: EVERYONE,
  [Tag.Signal]: EVERYONE,
  [Tag.NotifySubscribe]: EVERYONE,
  [Tag.NotifyUnsubscribe]: EVERYONE,
  [Tag.AssetResume]: EVERYONE,
  [Tag.AssetDone]: EVERYONE,
  // Everyone may speak the asset messages; who may offer is the `offerAssets` capability, which the asset layer
  // checks itself so that a refused offer gets its AssetForbidden answer (chunks are taken only when asked for).
  [Tag.AssetOffer]: EVERYONE,
  [Tag.AssetChunk]: EVERYONE,
  [Tag.TelemetryReport]: EVERYONE,
  [Tag.AwarenessSet]: EVERYONE,
  [Tag.AwarenessMotion]: EVERYONE,
  [Tag.Delta]: WRITERS,
  [Tag.InputPoses]: WRITERS,
  [Tag.OwnerHash]: WRITERS,
  [Tag.Action]: WRITERS,
  [Tag.OwnershipRequest]: WRITERS,
  [Tag.OwnershipRelease]: WRITERS,
  [Tag.CommandEntry]: WRITERS,
  [Tag.RoleChange]: ADMINS,
  [Tag.Kick]: ADMINS,
  [Tag.Ban]: ADMINS,
  [Tag.HostMigration]: ADMINS,
});

/** What a role may do beyond sending a tag, checked by the layer that owns it. The server itself always may. */
export type Capability = 'offerAssets';

/** Default capabilities: participants and admins may offer assets (viewers only receive them). */
export const DEFAULT_CAPABILITIES: Readonly<Record<Capability, readonly Sender[]>> = Object.freeze({
  offerAssets: WRITERS,
});

/** True when a client with `role` (the host when `isHost`) has `capability` in `table` (default: the defaults). */
export function hasCapability(
  capability: Capability,
  role: string,
  isHost = false,
  table: Readonly<Partial<Record<Capability, readonly Sender[]>>> = DEFAULT_CAPABILITIES,
): boolean {
  return senderAllowed(table[capability] ?? DEFAULT_CAPABILITIES[capability], role, isHost);
}

/** Senders of tags the table does not list: read-only viewers may not send messages nobody declared for them. */
export const DEFAULT_UNLISTED: readonly Sender[] = WRITERS;

/** A compiled permission table: one bit mask of senders per tag. */
export class PermissionTable {
  private readonly masks = new Map<number, number>();
  private readonly unlisted: number;

  constructor(entries: Readonly<Record<number, readonly Sender[]>>, unlisted: readonly Sender[]) {
    for (const [tag, senders] of Object.entries(entries)) this.masks.set(Number(tag), maskOf(senders));
    this.unlisted = maskOf(unlisted);
  }

  /** True when a client with `role` (the host when `isHost`) may send `tag`. */
  allows(tag: number, role: string, isHost: boolean): boolean {
    const mask = this.masks.get(tag) ?? this.unlisted;
    const r = asRole(role) ?? 'viewer';
    return (mask & BIT[r]) !== 0 || (isHost && (mask & BIT.host) !== 0);
  }

  /** The senders allowed for `tag`. */
  senders(tag: number): Sender[] {
    const mask = this.masks.get(tag) ?? this.unlisted;
    return (Object.keys(BIT) as Sender[]).filter((s) => (mask & BIT[s]) !== 0);
  }
}

/** True when a client with `role` (the host when `isHost`) is one of `senders`; unknown roles count as viewers. */
export function senderAllowed(senders: readonly Sender[], role: string, isHost: boolean): boolean {
  const r = asRole(role) ?? 'viewer';
  return senders.includes(r) || (isHost && senders.includes('host'));
}

function maskOf(senders: readonly Sender[]): number {
  let m = 0;
  for (const s of senders) m |= BIT[s] ?? 0;
  return m;
}

/** Builds a table from the defaults, `overrides` (tag → senders) and the senders of unlisted tags. */
export function createPermissionTable(
  overrides: Readonly<Record<number, readonly Sender[]>> = {},
  unlisted: readonly Sender[] = DEFAULT_UNLISTED,
): PermissionTable {
  return new PermissionTable({ ...DEFAULT_PERMISSIONS, ...overrides }, unlisted);
}
