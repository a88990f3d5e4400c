/**
 * This client's presence status: set by the application (it sticks) or by idle detection, sent to the server as a
 * Presence message while connected.
 */
import { encodeControl } from '../codec/message-frame.ts';
import type { Clock } from '../clock.ts';
import type { Connection } from '../connection/connection.ts';
import { usageError } from '../errors.ts';
import { asPresenceStatus, type PresenceStatus } from '../protocol/session-messages.ts';
import { Tag } from '../protocol/tags.ts';
import type { IdleDetector } from './presence-list.ts';

/** What the status needs from the client session. */
export interface ClientStatusHost {
  readonly clock: Clock;
  /** The current link, if any. */
  connection(): Connection | null;
  /** True while the session is connected. */
  connected(): boolean;
}

/** The client's presence status and its idle detection. */
export class ClientStatus {
  /** The status now. */
  status: PresenceStatus = 'active';
  private manual = false;

  constructor(
    private readonly h: ClientStatusHost,
    private readonly idle: IdleDetector | null,
  ) {}

  /** Sets the status from the application (it sticks until `noteActivity` when idle detection is on). */
  set(status: PresenceStatus): void {
    if (asPresenceStatus(status) === undefined)
      usageError(`presence status '${String(status)}' is unknown`, "pass 'active', 'idle' or 'away'");
    this.manual = true;
    this.apply(status);
  }

  /** User input: back to 'active', and idle detection starts counting again. */
  noteActivity(): void {
    this.idle?.noteActivity(this.h.clock.now());
    this.manual = false;
    this.apply('active');
  }

  /** Idle detection's verdict at `now` (each heartbeat), unless the application set the status. */
  tick(now: number): void {
    if (this.idle && !this.manual) this.apply(this.idle.statusAt(now));
  }

  /** Sends the status (after a Welcome that needs it). */
  send(): void {
    this.h.connection()?.sendReliable(encodeControl(Tag.Presence, { status: this.status }));
  }

  private apply(status: PresenceStatus): void {
    if (status === this.status) return;
    this.status = status;
    if (this.h.connected()) this.send();
  }
}
