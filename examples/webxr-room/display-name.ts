/**
 * Display names in the room, a short-string field (`field.shortString`): the server gives each user's head a
 * `DisplayName` ("User N") when they join; the user owns the head, so their page may rename it (the page's `?name=`),
 * and the rename replicates to everyone on the reliable lane. Shared by the server and the pages; no three.js here.
 */
import { addComponent, query } from 'bitecs';
import type { World } from 'bitecs';
import { field, fitShortString, isOwnedLocally, Networked, registerComponent } from '../../src/index.ts';
import type { Protocol } from '../../src/index.ts';

/** Longest display name in UTF-8 bytes: a name tag, not a sentence (about 10 CJK or 32 Latin characters). */
export const DISPLAY_NAME_BYTES = 32;

/** The DisplayName component of one world: a `string[]` indexed by entity id. */
export interface DisplayNameStore {
  name: string[];
}

/** Registers DisplayName into the room protocol (after the other components, on every peer alike). */
export function registerDisplayName(protocol: Protocol): DisplayNameStore {
  const DisplayName: DisplayNameStore = { name: [] };
  registerComponent(protocol, DisplayName, {
    name: 'DisplayName',
    fields: { name: field.shortString(DISPLAY_NAME_BYTES) },
  });
  return DisplayName;
}

/** The name a user has until they choose one. */
export function defaultDisplayName(clientId: number): string {
  return `User ${clientId}`;
}

/** Server: names the head entity of a user who just joined. */
export function nameHead(world: World, store: DisplayNameStore, head: number, clientId: number): void {
  addComponent(world, head, store);
  store.name[head] = defaultDisplayName(clientId);
}

/** Page: the name asked for in the page's address (`?name=`), cut to fit on a code point, or null. */
export function wantedDisplayName(search: string): string | null {
  const wanted = new URLSearchParams(search).get('name')?.trim();
  return wanted ? fitShortString(wanted, DISPLAY_NAME_BYTES) : null;
}

/** Page: writes `wanted` into the head this user owns (once it is here); the plugin sends it if it changed. */
export function claimDisplayName(world: World, store: DisplayNameStore, head: object, wanted: string | null): void {
  if (wanted === null) return;
  for (const eid of query(world, [Networked, head, store])) {
    if (isOwnedLocally(world, eid) && store.name[eid] !== wanted) store.name[eid] = wanted;
  }
}
