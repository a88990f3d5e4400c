/**
 * Entry points of the authority layer, in the bitecs style (world first): attach it to a world that has a
 * network plugin, on the server and on each client, with the same command types on every peer.
 *
 * @example
 * // server
 * const authority = createServerAuthority(world, { ownershipPolicy: 'queue', commandTypes, onAction });
 * // client
 * const authority = createClientAuthority(world, { commandTypes, pose: { component: Pose, position: ['px', 'py', 'pz'], rotation: ['qx', 'qy', 'qz', 'qw'] } });
 * if (await authority.requestOwnership(box, { hand: rightHand })) { ... the box follows the hand ... }
 * authority.release(box);
 */
import { getNetContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { ClientAuthority, type ClientAuthorityOptions } from './client-authority.ts';
import { ServerAuthority, type ServerAuthorityOptions } from './server-authority.ts';

const attached = new WeakMap<object, ServerAuthority | ClientAuthority>();

/** Attaches the server's authority layer (permissions, ownership, commands, actions, notifications, signalling). */
export function createServerAuthority(world: object, options: ServerAuthorityOptions = {}): ServerAuthority {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server') usageError('createServerAuthority needs a server world', 'use createClientAuthority');
  if (attached.has(world)) usageError('this world already has an authority layer', 'create it once per world');
  const authority = new ServerAuthority(ctx, options);
  attached.set(world, authority);
  return authority;
}

/** Attaches a client's authority layer (grabs, signed commands, actions, subscriptions, signalling, admin requests). */
export function createClientAuthority(world: object, options: ClientAuthorityOptions = {}): ClientAuthority {
  const ctx = getNetContext(world);
  if (ctx.role !== 'client') usageError('createClientAuthority needs a client world', 'use createServerAuthority');
  if (attached.has(world)) usageError('this world already has an authority layer', 'create it once per world');
  const authority = new ClientAuthority(ctx, options);
  attached.set(world, authority);
  return authority;
}

/** The authority layer attached to `world`, if any. */
export function authorityOf(world: object): ServerAuthority | ClientAuthority | undefined {
  return attached.get(world);
}

/** Detaches and disposes the authority layer of `world`. */
export function disposeAuthority(world: object): void {
  const a = attached.get(world);
  if (!a) return;
  attached.delete(world);
  a.dispose();
}
