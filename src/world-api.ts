/** Free functions over a world with a network plugin, in the bitecs style (world first). */
import { getNetContext } from './context.ts';
import { usageError } from './errors.ts';
import type { ClientExtension, ServerExtension } from './replication/extension.ts';
import type { NetError } from './errors.ts';
import type { MoveNotice, PresenceStatus, PresenceUser } from './protocol/session-messages.ts';
import type { ClientState, SessionEvents } from './session/presence-list.ts';

/** Network id of a replicated entity (the same on every peer), or 0. */
export function networkIdOf(world: object, eid: number): number {
  return getNetContext(world).replicator.registry.toNet(eid);
}

/** The local entity of a network id, or 0 when this peer does not have it. */
export function entityOfNetworkId(world: object, netId: number): number {
  return getNetContext(world).replicator.registry.toLocal(netId);
}

/** Owner of a replicated entity: a client id, or 0 for the server. */
export function ownerOf(world: object, eid: number): number {
  const reg = getNetContext(world).replicator.registry;
  return reg.isReplicated(eid) ? reg.owner[eid] : 0;
}

/** Server only: gives `eid` to client `clientId` (0 = the server). The owner's writes replicate to everyone. */
export function setOwner(world: object, eid: number, clientId: number): void {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server') usageError('setOwner is a server call', 'ask the server to transfer ownership');
  if (clientId !== 0 && ctx.session.peer(clientId) === undefined)
    usageError(
      `setOwner(${eid}, ${clientId}): no client ${clientId} is in the session`,
      'pass the id of a connected (or suspended) client from connectedClients(world), or 0 for the server',
    );
  ctx.replicator.setOwner(eid, clientId);
}

/** Client only: true when this client owns `eid` (its local writes are sent to the server). */
export function isOwnedLocally(world: object, eid: number): boolean {
  const ctx = getNetContext(world);
  return ctx.role === 'client' && ctx.replicator.isOwned(eid);
}

/** Client only: this client's id (0 until the server welcomed it). */
export function clientIdOf(world: object): number {
  const ctx = getNetContext(world);
  return ctx.role === 'client' ? ctx.session.clientId : 0;
}

/** Server only: ids of the connected clients. */
export function connectedClients(world: object): number[] {
  const ctx = getNetContext(world);
  return ctx.role === 'server' ? [...ctx.session.peers.keys()] : [];
}

/**
 * Server only: tells client `clientId` that its room moved (a drain handed it to another process): the client
 * closes this session and emits `moved` with the new URL and seat reservation. False when it is not connected.
 */
export function moveClient(world: object, clientId: number, notice: MoveNotice): boolean {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server') usageError('moveClient is a server call', 'call it on the room server world');
  return ctx.session.move(clientId, notice);
}

/** Server only: adds an extension that handles its own messages and sends per tick (see `ServerExtension`). */
export function addServerExtension(world: object, extension: ServerExtension): void {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server') usageError('addServerExtension needs a server world', 'use addClientExtension on clients');
  ctx.replicator.extensions.push(extension);
}

/** Client only: adds an extension that handles its own messages and sends per tick (see `ClientExtension`). */
export function addClientExtension(world: object, extension: ClientExtension): void {
  const ctx = getNetContext(world);
  if (ctx.role !== 'client') usageError('addClientExtension needs a client world', 'use addServerExtension on servers');
  ctx.replicator.extensions.push(extension);
}

function serverReplicator(world: object, call: string) {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server') usageError(`${call} is a server call`, 'call it on the server world');
  return ctx.replicator;
}

/** Server: the entity whose position is `clientId`'s viewpoint for the interest grid (usually its head). */
export function setViewEntity(world: object, clientId: number, eid: number): void {
  serverReplicator(world, 'setViewEntity').setViewEntity(clientId, eid);
}

/** Server: an explicit viewpoint for `clientId`, used when it has no view entity. */
export function setViewPosition(world: object, clientId: number, x: number, y: number, z: number): void {
  serverReplicator(world, 'setViewPosition').setViewPosition(clientId, x, y, z);
}

/** Server: puts `eid` in scopes (rooms, tool scopes); only clients subscribed to one of them receive it. */
export function setEntityScopes(world: object, eid: number, scopes: readonly string[]): void {
  serverReplicator(world, 'setEntityScopes').setEntityScopes(eid, scopes);
}

/** Server: subscribes `clientId` to a scope (or unsubscribes); its interest is recomputed at once. */
export function setClientScope(world: object, clientId: number, scope: string, subscribed: boolean): void {
  serverReplicator(world, 'setClientScope').setClientScope(clientId, scope, subscribed);
}

/** Server: makes `eid` relevant to every client whatever the other interest rules say. */
export function setAlwaysRelevant(world: object, eid: number, on: boolean): void {
  serverReplicator(world, 'setAlwaysRelevant').setAlwaysRelevant(eid, on);
}

/** Server: publish toggle of an entity or a scope (a muted publisher); back on, every client resyncs it. */
export function setPublish(world: object, target: { eid: number } | { scope: string }, on: boolean): void {
  serverReplicator(world, 'setPublish').setPublish(target, on);
}

/** Server: receive toggle of one client for an entity or scope (a paused viewer); back on, it resyncs. */
export function setReceive(
  world: object,
  clientId: number,
  target: { eid: number } | { scope: string },
  on: boolean,
): void {
  serverReplicator(world, 'setReceive').setReceive(clientId, target, on);
}

function clientReplicator(world: object, call: string) {
  const ctx = getNetContext(world);
  if (ctx.role !== 'client') usageError(`${call} is a client call`, 'call it on a client world');
  return ctx.replicator;
}

/** Client: asks the server to subscribe this client to a scope (or to unsubscribe). */
export function subscribeScope(world: object, scope: string, subscribed = true): void {
  clientReplicator(world, 'subscribeScope').requestScope(scope, subscribed);
}

/** Client: pauses (false) or resumes (true) updates of an entity or a scope; resuming resyncs it. */
export function setReceiving(world: object, target: { eid: number } | { scope: string }, on: boolean): void {
  clientReplicator(world, 'setReceiving').requestReceive(target, on);
}

function clientSession(world: object, call: string) {
  const ctx = getNetContext(world);
  if (ctx.role !== 'client') usageError(`${call} is a client call`, 'call it on a client world');
  return ctx.session;
}

/** Client: the connection state (idle, connecting, connected, reconnecting, closed, error). */
export function connectionStateOf(world: object): ClientState {
  return clientSession(world, 'connectionStateOf').state;
}

/** Client: the fatal error that ended the session (state 'error'), or null. */
export function connectionErrorOf(world: object): NetError | null {
  return clientSession(world, 'connectionErrorOf').lastError;
}

/** Everyone in the session with role, status and connectedAt, by client id (server and client alike). */
export function presenceOf(world: object): readonly PresenceUser[] {
  const ctx = getNetContext(world);
  return ctx.role === 'server' ? ctx.session.users() : ctx.session.presence;
}

/** The server's clock now in ms: on a client, estimated by clock sync; on the server, its own clock. */
export function serverTimeOf(world: object): number {
  const ctx = getNetContext(world);
  return ctx.role === 'server' ? ctx.clock.now() : ctx.session.serverNow();
}

/** Client: sets this user's presence status for everyone; it sticks until `notePresenceActivity`. */
export function setPresenceStatus(world: object, status: PresenceStatus): void {
  clientSession(world, 'setPresenceStatus').setPresenceStatus(status);
}

/** Client: records user input (call it on input events); with the `idle` option, inactivity turns idle, then away. */
export function notePresenceActivity(world: object): void {
  clientSession(world, 'notePresenceActivity').noteActivity();
}

/**
 * Subscribes to session events: 'state' (client connection state) and 'presence' (the user list changed).
 * Returns the function that unsubscribes.
 */
export function onSessionEvent<K extends keyof SessionEvents>(
  world: object,
  event: K,
  listener: (...args: SessionEvents[K]) => void,
): () => void {
  return getNetContext(world).session.events.on(event, listener);
}
