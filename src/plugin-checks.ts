/**
 * Checks of what a newcomer gets wrong when creating a network plugin: a missing protocol or role, and a client
 * marking its own entity `Networked`. Each throws a `Usage` NetError naming the fix.
 */
import { usageError } from './errors.ts';
import type { Protocol } from './register.ts';

/** Throws a Usage error unless `options` names a role and carries a protocol made by `createProtocol`. */
export function checkPluginOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null)
    usageError(
      'createNetworkPlugin needs options',
      "pass { role: 'server', protocol, transport } or { role: 'client', protocol, transport }",
    );
  const o = options as { role?: unknown; protocol?: Partial<Protocol> | null };
  if (o.role !== 'server' && o.role !== 'client')
    usageError(
      `a network plugin needs role 'server' or 'client', got ${o.role === undefined ? 'none' : JSON.stringify(o.role)}`,
      "pass role: 'server' on the server and role: 'client' in each client",
    );
  const p = o.protocol;
  if (
    typeof p !== 'object' ||
    p === null ||
    !Array.isArray(p.components) ||
    typeof p.schemaHash !== 'string' ||
    typeof p.frozen !== 'boolean'
  )
    usageError(
      'a network plugin needs the shared protocol',
      'create it with createProtocol() and registerComponent(...) in a module both peers import, and pass { protocol }',
    );
}

/**
 * Client side: entities the application marked `Networked` itself. Only the server spawns replicated entities, so
 * the mark would be ignored; the next `receive` / `send` throws. (Throwing inside the bitecs observer would leave
 * the world half updated.)
 */
export class ClientNetworkedGuard {
  /** True while the replicator itself creates an entity (its Networked mark is legitimate). */
  creating = false;
  private misused = -1;

  /** The observer of `onAdd(Networked)` on a client. */
  added(eid: number): void {
    if (!this.creating && this.misused < 0) this.misused = eid;
  }

  /** Throws once for an entity the application marked `Networked` on a client. */
  check(): void {
    const eid = this.misused;
    if (eid < 0) return;
    this.misused = -1;
    usageError(
      `entity ${eid} was given Networked on a client; clients do not spawn replicated entities, so it would never replicate`,
      'create the entity on the server (e.g. ask for it with an action), or remove Networked and keep it local',
    );
  }
}
