/** Options of the client session, its defaults, and what the layer above it receives. */
import type { Clock } from '../clock.ts';
import type { ConnectionOptions } from '../connection/connection.ts';
import type { ErrorHandler } from '../errors.ts';
import type { WelcomeBody } from '../protocol/handshake.ts';
import type { SchemaManifest } from '../protocol/schema-diff.ts';
import type { ClientTransport, Link } from '../transport/transport.ts';
import type { KeyPair } from './identity.ts';
import type { ClientState } from './presence-list.ts';
import type { IdleOptions, ReconnectOptions } from './session-options.ts';

/** Capabilities a client offers by default: it inflates deflated snapshots, signs with Ed25519, decodes acked-baseline deltas. */
export const DEFAULT_CLIENT_CAPABILITIES: readonly string[] = ['deflate', 'ed25519', 'ackedbase2'];

/** Pings while clock sync has fewer than CLOCK_SAMPLES samples: 100 ms fills it within a second of joining. */
export const CLOCK_BURST_INTERVAL_MS = 100;

/** A ping at least this often once synced: follows route changes and clock drift (tens of ppm) at ~6 bytes/s. */
export const CLOCK_RESYNC_INTERVAL_MS = 5000;

/** What the layer above the client session receives. */
export interface ClientHandler {
  /** A Welcome arrived on a new connection (first join or resume): whatever was in flight before is void. */
  welcomed(welcome: WelcomeBody): void;
  /** A non-session message; `packetSeq` is the carrying packet for unreliable messages, -1 for reliable ones. */
  message(tag: number, message: Uint8Array, packetSeq: number): void;
  acked(seq: number): void;
  lost(seq: number): void;
}

/** Options of the client session. */
export interface ClientSessionOptions {
  /** An already open link (in-memory tests; cannot reconnect), or a transport to connect (and reconnect) with. */
  link?: Link;
  transport?: ClientTransport;
  clock: Clock;
  schemaHash: string;
  /** The protocol's manifest: with the server's summary in a SchemaMismatch, the error names what differs. */
  manifest?: SchemaManifest;
  /** Credentials for the server's `authorize` hook. */
  auth?: string;
  /** This client's Ed25519 identity (default: a fresh key pair). */
  keyPair?: KeyPair;
  /**
   * The server's Ed25519 public key as the application knows it (e.g. shipped with the page). When set, a server
   * that shows another key, or cannot prove it holds this one, ends the session with a fatal `ServerKeyMismatch`.
   */
  expectedServerKey?: Uint8Array;
  /** Member public keys kept for command verification (default DEFAULT_MAX_MEMBER_KEYS). */
  maxMemberKeys?: number;
  /** Capabilities offered in the Hello (default DEFAULT_CLIENT_CAPABILITIES). */
  capabilities?: readonly string[];
  /** Heartbeat interval in ms (default 1,000): ping when idle that long, reconnect after 3 silent intervals. */
  heartbeatMs?: number;
  /** Reconnect backoff; false never reconnects (a lost link ends in 'closed'). */
  reconnect?: ReconnectOptions | false;
  /** Idle detection from input inactivity (see `noteActivity`); off when absent. */
  idle?: IdleOptions;
  onError?: ErrorHandler;
  onStateChange?: (state: ClientState, previous: ClientState) => void;
  connection?: Partial<Omit<ConnectionOptions, 'clock' | 'onError'>>;
}
