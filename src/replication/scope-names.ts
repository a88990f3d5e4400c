/**
 * Scope names and their numeric ids, counted by use: an entity in a scope, a client subscribed to it, a client
 * that paused it, a muted scope each hold one reference, and a name nobody references any more is freed. Clients
 * may name scopes in Subscribe messages, so the server bounds how many names exist and how many one client holds.
 */
import { usageError } from '../errors.ts';

/** Bounds of scope names (server). */
export interface ScopeLimits {
  /** Scope names that may exist at once, all clients and the application together (default 4,096). */
  maxScopes?: number;
  /** Scopes one client may subscribe to or pause at once (default 64). */
  maxScopesPerClient?: number;
}

/** Default scope names in all: rooms, layers and teams of a big world; 4,096 names of <= 256 chars is <= 2 MiB. */
export const DEFAULT_MAX_SCOPES = 4096;

/** Default scopes per client: a user in a few rooms, layers and teams; 64 is far above what a UI shows. */
export const DEFAULT_MAX_SCOPES_PER_CLIENT = 64;

/** Limits with every value filled in; throws a Usage error for a bad one. */
export function resolveScopeLimits(options: ScopeLimits | undefined): Required<ScopeLimits> {
  const r: Required<ScopeLimits> = {
    maxScopes: DEFAULT_MAX_SCOPES,
    maxScopesPerClient: DEFAULT_MAX_SCOPES_PER_CLIENT,
    ...options,
  };
  for (const [key, value] of Object.entries(r))
    if (!(value > 0)) usageError(`scopeLimits.${key} must be positive, got ${value}`, 'e.g. 64, or Infinity');
  return r;
}

/** Counters of scope names. */
export interface ScopeCounters {
  /** Scope names that exist now. */
  names: number;
  /** Names freed because nothing referenced them any more. */
  freed: number;
  /** Client requests refused because a bound was reached (total names or the client's own). */
  refused: number;
}

/** Reference-counted scope names. Ids are never reused, so a stale id can never match a newer scope. */
export class ScopeNames {
  readonly counters: ScopeCounters = { names: 0, freed: 0, refused: 0 };
  private readonly ids = new Map<string, number>();
  private readonly names = new Map<number, string>();
  private readonly refs = new Map<number, number>();
  private nextId = 1;

  /** Names that exist now. */
  get size(): number {
    return this.ids.size;
  }

  /** The id of `name`, or undefined when no one uses it. */
  idOf(name: string): number | undefined {
    return this.ids.get(name);
  }

  /** Takes a reference to `name` (created on first use) and returns its id. */
  acquire(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(name, id);
      this.names.set(id, name);
      this.counters.names = this.ids.size;
    }
    this.refs.set(id, (this.refs.get(id) ?? 0) + 1);
    return id;
  }

  /** Drops a reference to scope `id`; the name is freed with its last one. */
  release(id: number): void {
    const n = this.refs.get(id);
    if (n === undefined) return;
    if (n > 1) {
      this.refs.set(id, n - 1);
      return;
    }
    this.refs.delete(id);
    const name = this.names.get(id) as string;
    this.names.delete(id);
    this.ids.delete(name);
    this.counters.names = this.ids.size;
    this.counters.freed++;
  }
}
