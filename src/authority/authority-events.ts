/** Events of the authority layer, on the server and on clients. */
import type { CorrelationId, SignalPayload } from './app-wire.ts';
import type { OwnershipDenial } from './authority-wire.ts';
import type { CommandEntryData } from './command-signing.ts';
import type { CommandRejection } from './command-wire.ts';
import type { Role } from './roles.ts';

/** Events both sides emit. */
export type AuthorityEvents = {
  /** The owner of an entity changed (0 = the server); `authoritySeq` counts the entity's ownership changes. */
  ownerChanged: [eid: number, owner: number, previous: number, authoritySeq: number];
  /** This peer became the owner of `eid` (on the server: an entity came back to the server). */
  gained: [eid: number];
  /** This peer stopped owning `eid` (on the server: a client took it). */
  lost: [eid: number];
  /** A client's role changed. */
  roleChanged: [clientId: number, role: Role];
  /** The privileged host changed (0 = no host). */
  hostChanged: [hostId: number];
  /** A command-log entry was applied as log entry `index` (`changed` false when the policy kept the record as is). */
  command: [entry: CommandEntryData, index: number, changed: boolean];
};

/** Events only clients emit. */
export type ClientAuthorityEvents = AuthorityEvents & {
  /** A request for `eid` was refused, queued behind its holder, or named an unknown entity. */
  denied: [eid: number, reason: OwnershipDenial];
  /** This client's command `seq` was rejected by the server. */
  commandRejected: [seq: number, reason: CommandRejection];
  /** A notification of a subscribed domain. */
  notify: [domain: string, event: unknown, correlationId: CorrelationId | undefined];
  /** A signalling message relayed from client `from`. */
  signal: [from: number, signal: SignalPayload];
  /** This client was removed from the session by an admin (`banned`: it cannot come back). */
  removed: [reason: string, banned: boolean];
};

/** Events only the server emits. */
export type ServerAuthorityEvents = AuthorityEvents & {
  /** A client sent a message its role may not send (refused with Forbidden). */
  forbidden: [clientId: number, tag: number];
};
