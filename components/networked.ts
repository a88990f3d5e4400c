/**
 * Tag that marks an entity as replicated. On the server, adding it gives the entity a network id and spawns it
 * on clients; removing it (or removing the entity) despawns it. On clients, replicated entities carry it.
 */
export const Networked = {};
