/** Options of the server replicator, and their defaults. */
import type { Clock } from '../clock.ts';
import type { ErrorHandler } from '../errors.ts';
import type { Protocol } from '../register.ts';
import type { ServerSession } from '../session/server-session.ts';
import type { CatchUpOptions } from './catch-up-server.ts';
import type { InterestConfig } from './interest.ts';
import type { ResyncBudgetOptions } from './resync-budget.ts';
import type { ScopeLimits } from './scope-names.ts';
import type { PriorityFn } from './send-priority.ts';
import type { WorldAdapter } from './world-adapter.ts';
import type { FidelityConfig } from './fidelity-options.ts';

/** Default state-hash period: once a second catches divergence fast at ~2 kbps per client. */
export const DEFAULT_HASH_INTERVAL_MS = 1000;

/** Options of the server replicator. */
export interface ServerReplicatorOptions {
  protocol: Protocol;
  session: ServerSession;
  world: WorldAdapter;
  clock: Clock;
  onError?: ErrorHandler;
  interest?: InterestConfig;
  priority?: PriorityFn;
  /** Per-client downstream cap in kbps; 0 disables it. */
  bandwidthKbps?: number;
  /** Deflate snapshot chunks for clients that offered it. */
  compression?: boolean;
  /** State hash period; 0 disables it. */
  hashIntervalMs?: number;
  /** May this client subscribe to this scope on its own? Default: yes. */
  allowScope?: (clientId: number, scope: string) => boolean;
  /** Budget of resync work per client (see ResyncBudgetOptions for the defaults). */
  resync?: ResyncBudgetOptions;
  /** Bounds of scope names, in all and per client (see ScopeLimits for the defaults). */
  scopeLimits?: ScopeLimits;
  /** Bounds of the change history and of the resume catch-up (see CatchUpOptions for the defaults). */
  catchUp?: CatchUpOptions;
  /** Fidelity levels by distance (checked, see fidelity-options.ts); none: every entity at full rate and precision. */
  fidelity?: FidelityConfig | null;
}
