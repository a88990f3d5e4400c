// A strict TypeScript consumer of `ecsync/scale` (Node only), with ioredis not installed: types only need node.
import { createProtocol, joinRoom } from 'ecsync';
import type { RoomClient } from 'ecsync';
import { createMatchmaker, createMemoryBackend, createRoomHost, defineRoom } from 'ecsync/scale';
import type { RedisBackendOptions, RoomHost, ScaleBackend, SeatGrant } from 'ecsync/scale';

const backend: ScaleBackend = createMemoryBackend();
const keyPair = { publicKey: new Uint8Array(32), secretKey: new Uint8Array(64) };
const lobby = defineRoom({
  name: 'lobby',
  capacity: 8,
  create: () => ({ world: { tag: 'room' }, protocol: createProtocol() }),
  setup: (room) => void room.world.tag,
});
const host: Promise<RoomHost> = createRoomHost({ backend, keyPair, definitions: [lobby] });
const seat: Promise<unknown> = createMatchmaker({ backend, keyPair })
  .join({ name: 'lobby' })
  .then((r) => (r.ok ? (r.seat satisfies SeatGrant) : r.code));
const redisOptions: RedisBackendOptions = { url: 'redis://127.0.0.1:6379', prefix: 'app' };
const client: () => Promise<RoomClient<{ tag: string }>> = () =>
  joinRoom({
    matchmaker: 'http://127.0.0.1:1',
    room: 'lobby',
    create: () => ({ world: { tag: 'c' }, protocol: createProtocol() }),
  });

export { host, seat, redisOptions, client };
