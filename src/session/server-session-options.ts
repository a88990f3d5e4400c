/** Options of the server session: transport, clock, schema, handshake hooks, timers and limits. */
import type { Clock } from '../clock.ts';
import type { ConnectionOptions } from '../connection/connection.ts';
import type { ErrorHandler } from '../errors.ts';
import type { HelloBody } from '../protocol/handshake.ts';
import type { SchemaManifest } from '../protocol/schema-diff.ts';
import type { ServerTransport } from '../transport/transport.ts';
import type { KeyPair } from './identity.ts';
import type { Authorize } from './server-handshake.ts';
import type { CapacityOptions, RateLimitOptions } from './session-options.ts';

/** Capabilities a server grants by default: deflated snapshots, Ed25519 signatures, deltas against acked baselines. */
export const DEFAULT_SERVER_CAPABILITIES: readonly string[] = ['deflate', 'ed25519', 'ackedbase2'];

/** Options of the server session. */
export interface ServerSessionOptions {
  transport: ServerTransport;
  clock: Clock;
  schemaHash: string;
  /** The protocol's manifest: a summary of it goes with a SchemaMismatch so the client can name the difference. */
  manifest?: SchemaManifest;
  sendRateHz: number;
  /** Decides identity and role from the Hello (sync or async); refusing answers `Unauthorized`. Default: participant. */
  authorize?: Authorize;
  /** True refuses the client with `Banned` (checked with `bannedIds` at every Hello, resumes included). */
  isBanned?: (hello: HelloBody, userId: string | undefined) => boolean;
  /** Heartbeat interval in ms (default 1,000); a client silent for 3 of them is suspended. */
  heartbeatMs?: number;
  /** How long a suspended client's session is kept for a resume, in ms (default 60,000). */
  resumeWindowMs?: number;
  /** Per-peer limits (see DEFAULT_RATE_LIMITS); false turns them off. */
  rateLimits?: RateLimitOptions | false;
  /** Caps on pending handshakes, suspended sessions and contained exceptions (see DEFAULT_CAPACITY). */
  capacity?: CapacityOptions;
  /** The server's Ed25519 key pair (default: a fresh one). */
  keyPair?: KeyPair;
  /** Capabilities the server grants when a client offers them (default DEFAULT_SERVER_CAPABILITIES). */
  capabilities?: readonly string[];
  onError?: ErrorHandler;
  connection?: Partial<Omit<ConnectionOptions, 'clock' | 'onError'>>;
}
