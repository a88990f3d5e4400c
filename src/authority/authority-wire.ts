/**
 * Bodies of the ownership and session-control messages (MessagePack maps, see wire.md) and their validators. A
 * validator returns null for anything that is not exactly the expected shape, so no unchecked value from the
 * network reaches the authority layer; numbers are clamped to their ranges.
 */
import { asUint, isRecord } from '../protocol/handshake.ts';
import { asRole, type Role } from './roles.ts';

/** Longest free-text reason (kick, ban, refusal) accepted: enough for a sentence, bounded per message. */
export const MAX_REASON_LENGTH = 256;

/** Largest network or client id accepted: ids are u32 on the wire. */
export const MAX_ID = 0xffff_ffff;

/** Numbers in a release pose: position xyz then rotation xyzw. */
export const RELEASE_POSE_LENGTH = 7;

/** An id in 1..MAX_ID, or undefined. */
export function asId(v: unknown): number | undefined {
  const n = asUint(v);
  return n !== undefined && n > 0 && n <= MAX_ID ? n : undefined;
}

function asReason(v: unknown): string | undefined {
  if (v === undefined) return '';
  return typeof v === 'string' ? v.slice(0, MAX_REASON_LENGTH) : undefined;
}

/** Client → server: may I own this entity? `counter` is the request's Lamport counter. */
export interface OwnershipRequestBody {
  netId: number;
  counter: number;
}

/** Validates an OwnershipRequest body. */
export function parseOwnershipRequest(v: unknown): OwnershipRequestBody | null {
  if (!isRecord(v)) return null;
  const netId = asId(v.netId);
  const counter = asUint(v.counter);
  return netId === undefined || counter === undefined ? null : { netId, counter };
}

/** Client → server: I let go of this entity (or stop waiting for it); `pose` is where it was let go. */
export interface OwnershipReleaseBody {
  netId: number;
  pose?: number[];
}

/** Validates an OwnershipRelease body; a pose must be 7 finite numbers. */
export function parseOwnershipRelease(v: unknown): OwnershipReleaseBody | null {
  if (!isRecord(v)) return null;
  const netId = asId(v.netId);
  if (netId === undefined) return null;
  if (v.pose === undefined) return { netId };
  if (!Array.isArray(v.pose) || v.pose.length !== RELEASE_POSE_LENGTH) return null;
  const pose: number[] = [];
  for (const x of v.pose) {
    if (typeof x !== 'number' || !Number.isFinite(x)) return null;
    pose.push(x);
  }
  return { netId, pose };
}

/** Why the server did not grant a request: refused, queued behind the holder, or unknown entity. */
export type OwnershipDenial = 'refused' | 'queued' | 'unknown';

/** Server → client: the answer to a request that was not a grant (grants travel as OwnershipGrant). */
export interface OwnershipRevokeBody {
  netId: number;
  reason: OwnershipDenial;
}

/** Validates an OwnershipRevoke body. */
export function parseOwnershipRevoke(v: unknown): OwnershipRevokeBody | null {
  if (!isRecord(v)) return null;
  const netId = asId(v.netId);
  const reason = v.reason;
  if (netId === undefined || (reason !== 'refused' && reason !== 'queued' && reason !== 'unknown')) return null;
  return { netId, reason };
}

/** Either direction: client `clientId` has role `role` (from an admin: please make it so). */
export interface RoleChangeBody {
  clientId: number;
  role: Role;
}

/** Validates a RoleChange body. */
export function parseRoleChange(v: unknown): RoleChangeBody | null {
  if (!isRecord(v)) return null;
  const clientId = asId(v.clientId);
  const role = asRole(v.role);
  return clientId === undefined || role === undefined ? null : { clientId, role };
}

/** Kick or Ban: from an admin, which client and why; to the target, that it happened and why. */
export interface RemovalBody {
  clientId: number;
  reason: string;
}

/** Validates a Kick or Ban body (the reason is cut to MAX_REASON_LENGTH). */
export function parseRemoval(v: unknown): RemovalBody | null {
  if (!isRecord(v)) return null;
  const clientId = asId(v.clientId);
  const reason = asReason(v.reason);
  return clientId === undefined || reason === undefined ? null : { clientId, reason };
}

/** HostMigration: client → server, the host hands the privilege to `clientId`; server → clients, the new host. */
export interface HostMigrationBody {
  /** The new host, 0 when there is none. */
  clientId: number;
}

/** Validates a HostMigration body. */
export function parseHostMigration(v: unknown): HostMigrationBody | null {
  if (!isRecord(v)) return null;
  const clientId = asUint(v.clientId);
  return clientId === undefined || clientId > MAX_ID ? null : { clientId };
}
