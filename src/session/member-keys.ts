/**
 * The public keys of a session's members as a client learns them from Presence, kept after a member leaves (its
 * entries may still be in flight) and pinned: the first key seen for a client id stays its key for the session,
 * so a server cannot swap a member's key later. Bounded: past the cap the oldest entry goes first.
 */
import type { PresenceBody } from '../protocol/session-messages.ts';
import { bytesEqual } from './identity.ts';

/**
 * Member keys a client keeps at most (32 bytes each + map overhead: ~0.4 MB at the cap). Far above any room
 * (hundreds of members): only a server inventing members could reach it, and then the oldest keys go.
 */
export const DEFAULT_MAX_MEMBER_KEYS = 4096;

/** Counters of the key table. */
export interface MemberKeyCounters {
  /** Keys dropped because the table was full. */
  evicted: number;
  /** Presence entries that tried to change a member's pinned key (refused). */
  keyChanges: number;
}

/** Client id → Ed25519 public key for one session. */
export class MemberKeys {
  readonly counters: MemberKeyCounters = { evicted: 0, keyChanges: 0 };
  private readonly keys = new Map<number, Uint8Array>();

  constructor(private readonly maxKeys = DEFAULT_MAX_MEMBER_KEYS) {}

  /** Number of keys held. */
  get size(): number {
    return this.keys.size;
  }

  /** Learns the keys of a Presence message; returns the client ids whose key it tried to change. */
  learn(body: PresenceBody): number[] {
    const changed: number[] = [];
    for (const u of body.users) {
      if (!u.publicKey) continue;
      const had = this.keys.get(u.clientId);
      if (had) {
        if (!bytesEqual(had, u.publicKey)) {
          this.counters.keyChanges++;
          changed.push(u.clientId);
        }
        continue;
      }
      if (this.keys.size >= this.maxKeys) {
        const oldest = this.keys.keys().next().value as number;
        this.keys.delete(oldest);
        this.counters.evicted++;
      }
      this.keys.set(u.clientId, u.publicKey);
    }
    return changed;
  }

  /** The key of `clientId`, or undefined when this client never learned it. */
  get(clientId: number): Uint8Array | undefined {
    return this.keys.get(clientId);
  }

  /** Forgets every key (a new session: client ids start over). */
  clear(): void {
    this.keys.clear();
  }
}
