/** Options and counters of the server authority layer (`createServerAuthority`, `ServerAuthority.stats()`). */
import type { CommandFeed } from './command-feed.ts';
import type { CommandTypes } from './command-log.ts';
import type { CommandLimits } from './command-quota.ts';
import type { CommandSequencer } from './command-sequencer.ts';
import type { PoseAccess } from './hold.ts';
import type { OwnershipArbiter, OwnershipPolicy } from './ownership-arbiter.ts';
import type { Sender } from './roles.ts';
import type { AppMessageOptions, ServerAppMessages } from './server-app-messages.ts';
import type { SessionControl } from './session-control.ts';

/** Options of `createServerAuthority`. */
export interface ServerAuthorityOptions extends AppMessageOptions {
  /** What happens to a request for an entity another client holds (default 'refuse'). */
  ownershipPolicy?: OwnershipPolicy;
  /**
   * May client `clientId` own entity `eid` at all? Asked before the policy; a no is refused. Default: the entity
   * has the `Grabbable` tag, so avatars and other server-owned entities cannot be taken.
   */
  grabbable?: (eid: number, clientId: number) => boolean;
  /** Tag → allowed senders, replacing the defaults for those tags (see DEFAULT_PERMISSIONS). */
  permissions?: Readonly<Record<number, readonly Sender[]>>;
  /** Senders of tags the table does not list (default participants and admins). */
  unlistedSenders?: readonly Sender[];
  /** Command types of the command log (declare the same on every client). */
  commandTypes?: CommandTypes;
  /** Bounds of the command state: targets in all, per client, and bytes (see CommandLimits for the defaults). */
  commandLimits?: CommandLimits;
  /** Pose of grabbable objects: a release message's pose is applied (clamped to the fields' ranges) before handover. */
  pose?: PoseAccess;
  /** The first admin to join becomes the privileged host (default true). */
  autoHost?: boolean;
}

/** Counters of the server authority layer. */
export interface ServerAuthorityStats {
  /** Messages refused because the sender's role or the entity's owner did not allow them. */
  forbidden: number;
  /** Authority messages that did not decode. */
  decodeErrors: number;
  /** Counters of ownership requests and releases. */
  ownership: OwnershipArbiter['counters'];
  /** Counters of the command sequencer (accepted and refused entries). */
  commands: CommandSequencer['counters'];
  /** Command snapshots sent on joins and resumes: rows, chunks, raw and sent bytes. */
  commandSnapshots: CommandFeed['figures'];
  /** Counters of actions: received, answered ok, answered with an error. */
  actions: ServerAppMessages['actions']['counters'];
  /** Counters of role changes, kicks, bans and host migrations. */
  control: SessionControl['counters'];
  /** Counters of the WebRTC signal relay: relayed and refused. */
  signals: ServerAppMessages['relay']['counters'];
  /** Notifications delivered, one per recipient. */
  notifications: number;
}
