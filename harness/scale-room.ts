/**
 * The room kind used by the scale-out tests, bench and example: a counter entity the server ticks, and a
 * `Score` per user; `save`/`load` carry the counter over a handover. The counter entity also carries `RoomTag`, a
 * hash of the room id, so a client can tell which room's entities it sees. Each world has its own component arrays.
 */
import { addComponent, addEntity, createWorld, query } from 'bitecs';
import { createProtocol, field, Networked, registerComponent } from '../src/index.ts';
import { defineRoom } from '../src/scale.ts';
import type { RoomDefinition } from '../src/scale.ts';

/** Most entities in one room world. */
const MAX_ENTITIES = 256;

/** A world of the test room with its components. */
export function createScaleWorld() {
  const Counter = { value: new Uint32Array(MAX_ENTITIES) };
  const RoomTag = { value: new Uint32Array(MAX_ENTITIES) };
  const protocol = createProtocol();
  registerComponent(protocol, Counter, { name: 'Counter', fields: { value: field.u32() } });
  registerComponent(protocol, RoomTag, { name: 'RoomTag', fields: { value: field.u32() } });
  const world = createWorld({ Counter, RoomTag });
  return { world, protocol };
}

/** The test room definition named `name` with `capacity` seats. */
export function scaleRoomDefinition(name = 'lobby', capacity = 8): RoomDefinition {
  return defineRoom({
    name,
    capacity,
    create: createScaleWorld,
    tickHz: 30,
    setup(room) {
      const eid = addEntity(room.world);
      addComponent(room.world, eid, room.world.Counter);
      addComponent(room.world, eid, room.world.RoomTag);
      room.world.RoomTag.value[eid] = roomTagOf(room.id);
      addComponent(room.world, eid, Networked);
    },
    systems: [
      (w) => {
        const world = w as ReturnType<typeof createScaleWorld>['world'];
        for (const eid of query(world, [world.Counter])) world.Counter.value[eid]++;
        return w;
      },
    ],
    save(room) {
      const [eid] = query(room.world, [room.world.Counter]);
      return new Uint8Array(new Uint32Array([room.world.Counter.value[eid] ?? 0]).buffer);
    },
    load(room, snapshot) {
      const [eid] = query(room.world, [room.world.Counter]);
      if (snapshot.length === 4) room.world.Counter.value[eid] = new Uint32Array(snapshot.slice().buffer)[0];
    },
    presenceData: (_room, clientId, userId) => ({ clientId, name: userId }),
  });
}

/** The counter a world (server or client) holds, or -1 when it has none yet. */
export function counterOf(world: ReturnType<typeof createScaleWorld>['world']): number {
  const [eid] = query(world, [world.Counter]);
  return eid === undefined ? -1 : world.Counter.value[eid];
}

/** The `RoomTag` of room `roomId`: FNV-1a of its id. */
export function roomTagOf(roomId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < roomId.length; i++) h = Math.imul(h ^ roomId.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The `RoomTag` of every entity a world holds that has one. */
export function roomTagsIn(world: ReturnType<typeof createScaleWorld>['world']): number[] {
  return [...query(world, [world.RoomTag])].map((eid) => world.RoomTag.value[eid]);
}
