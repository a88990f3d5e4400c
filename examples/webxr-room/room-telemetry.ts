/**
 * The room's telemetry aggregate as replicated state: the server writes the aggregator's room figures into one
 * `RoomStats` entity once a second, and every page reads it for its overlay (so the overlay shows the whole room,
 * in VR too, over whichever transport the page uses). Shared by the server and the pages; no three.js here.
 */
import { addComponent, addEntity, query } from 'bitecs';
import type { World } from 'bitecs';
import { field, Networked, registerComponent } from '../../src/index.ts';
import type { Protocol, RoomTelemetry } from '../../src/index.ts';

/** The RoomStats component: one entity, SoA columns indexed by entity id (sized like the room's other stores). */
export interface RoomStatsStore {
  clients: Uint16Array;
  rttP50Ms: Float32Array;
  rttP95Ms: Float32Array;
  lossMean: Float32Array;
  kbpsIn: Float32Array;
  kbpsOut: Float32Array;
  frameP95P50Ms: Float32Array;
  frameP95P95Ms: Float32Array;
  slowFrames: Uint16Array;
  corrections: Uint16Array;
}

/** What a page shows of the room. */
export type RoomStatsView = Pick<
  RoomTelemetry,
  'clients' | 'rttP50Ms' | 'rttP95Ms' | 'lossMean' | 'frameP95P50Ms' | 'frameP95P95Ms' | 'slowFrames' | 'corrections'
> & { kbpsIn: number; kbpsOut: number };

/** 0.1 ms steps up to 6.5 s: RTT and frame times read to a tenth of a millisecond, in 16 bits each. */
const MS = field.quantized(0, 6553.5, 0.1);
/** kbps to 0.1 up to 100 Mbit/s summed over the room. */
const KBPS = field.quantized(0, 100_000, 0.1);

/** Registers RoomStats into the room protocol (after the other components, on every peer alike). */
export function registerRoomStats(protocol: Protocol, capacity: number): RoomStatsStore {
  const RoomStats: RoomStatsStore = {
    clients: new Uint16Array(capacity),
    rttP50Ms: new Float32Array(capacity),
    rttP95Ms: new Float32Array(capacity),
    lossMean: new Float32Array(capacity),
    kbpsIn: new Float32Array(capacity),
    kbpsOut: new Float32Array(capacity),
    frameP95P50Ms: new Float32Array(capacity),
    frameP95P95Ms: new Float32Array(capacity),
    slowFrames: new Uint16Array(capacity),
    corrections: new Uint16Array(capacity),
  };
  registerComponent(protocol, RoomStats, {
    name: 'RoomStats',
    fields: {
      clients: field.u16(),
      rttP50Ms: MS,
      rttP95Ms: MS,
      lossMean: field.quantized(0, 1, 0.0001),
      kbpsIn: KBPS,
      kbpsOut: KBPS,
      frameP95P50Ms: MS,
      frameP95P95Ms: MS,
      slowFrames: field.u16(),
      corrections: field.u16(),
    },
  });
  return RoomStats;
}

const clampMs = (v: number) => Math.min(6553.5, Math.max(0, v));

/** Server: creates the one RoomStats entity. */
export function spawnRoomStats(world: World, store: RoomStatsStore): number {
  const eid = addEntity(world);
  addComponent(world, eid, store);
  addComponent(world, eid, Networked);
  return eid;
}

/** Server: writes the aggregator's room figures into the RoomStats entity (the plugin replicates what changed). */
export function publishRoomStats(store: RoomStatsStore, eid: number, room: RoomTelemetry): void {
  store.clients[eid] = Math.min(65535, room.clients);
  store.rttP50Ms[eid] = clampMs(room.rttP50Ms);
  store.rttP95Ms[eid] = clampMs(room.rttP95Ms);
  store.lossMean[eid] = Math.min(1, Math.max(0, room.lossMean));
  store.kbpsIn[eid] = Math.min(100_000, room.kbpsInTotal);
  store.kbpsOut[eid] = Math.min(100_000, room.kbpsOutTotal);
  store.frameP95P50Ms[eid] = clampMs(room.frameP95P50Ms);
  store.frameP95P95Ms[eid] = clampMs(room.frameP95P95Ms);
  store.slowFrames[eid] = Math.min(65535, room.slowFrames);
  store.corrections[eid] = Math.min(65535, room.corrections);
}

/** Page: the room figures as last replicated, or null before the first arrive. */
export function readRoomStats(world: World, store: RoomStatsStore): RoomStatsView | null {
  for (const eid of query(world, [Networked, store])) {
    return {
      clients: store.clients[eid],
      rttP50Ms: store.rttP50Ms[eid],
      rttP95Ms: store.rttP95Ms[eid],
      lossMean: store.lossMean[eid],
      kbpsIn: store.kbpsIn[eid],
      kbpsOut: store.kbpsOut[eid],
      frameP95P50Ms: store.frameP95P50Ms[eid],
      frameP95P95Ms: store.frameP95P95Ms[eid],
      slowFrames: store.slowFrames[eid],
      corrections: store.corrections[eid],
    };
  }
  return null;
}
