/** The presence list a client keeps from the server's Presence messages, and idle detection from input inactivity. */
import type { MoveNotice, PresenceBody, PresenceStatus, PresenceUser } from '../protocol/session-messages.ts';
import type { IdleOptions } from './session-options.ts';
import { DEFAULT_IDLE } from './session-options.ts';

/** Connection states a client exposes. */
export type ClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed' | 'error';

/** Events of a session: the client's state changes, and presence changes on both sides. */
export type SessionEvents = {
  /** The client's connection state changed. */
  state: [state: ClientState, previous: ClientState];
  /** Someone joined, left, was suspended or resumed, or changed status; the whole list, by client id. */
  presence: [users: readonly PresenceUser[]];
  /** Client: the room moved to another process (Move); the session is closed, connect to `notice.url` with its token. */
  moved: [notice: MoveNotice];
};

/** Users of the session by client id, kept up to date from Presence messages. */
export class PresenceList {
  private readonly users = new Map<number, PresenceUser>();
  private sorted: PresenceUser[] = [];

  /** Applies one Presence message; returns true when the list changed. */
  apply(body: PresenceBody): boolean {
    let changed = false;
    if (body.full) {
      changed = this.users.size > 0 || body.users.length > 0;
      this.users.clear();
    }
    for (const u of body.users) {
      this.users.set(u.clientId, u);
      changed = true;
    }
    for (const id of body.left) changed = this.users.delete(id) || changed;
    if (changed) this.sorted = [...this.users.values()].sort((a, b) => a.clientId - b.clientId);
    return changed;
  }

  /** Every user, by client id. */
  get list(): readonly PresenceUser[] {
    return this.sorted;
  }

  /** One user, or undefined. */
  get(clientId: number): PresenceUser | undefined {
    return this.users.get(clientId);
  }
}

/** Status from input inactivity: active, then idle after `idleAfterMs`, away after `awayAfterMs`. */
export class IdleDetector {
  private lastActivityMs: number;
  private readonly idleAfterMs: number;
  private readonly awayAfterMs: number;

  constructor(options: IdleOptions, nowMs: number) {
    this.idleAfterMs = options.idleAfterMs ?? DEFAULT_IDLE.idleAfterMs;
    this.awayAfterMs = Math.max(this.idleAfterMs, options.awayAfterMs ?? DEFAULT_IDLE.awayAfterMs);
    this.lastActivityMs = nowMs;
  }

  /** Records input activity at `nowMs`. */
  noteActivity(nowMs: number): void {
    this.lastActivityMs = nowMs;
  }

  /** The status at `nowMs`. */
  statusAt(nowMs: number): PresenceStatus {
    const quiet = nowMs - this.lastActivityMs;
    return quiet >= this.awayAfterMs ? 'away' : quiet >= this.idleAfterMs ? 'idle' : 'active';
  }
}
