/** An honest room for the attack tests: a server, honest clients and one changing entity; and a convergence check. */
import { expect } from 'vitest';
import { dump, type Peer, spawn, Stepper } from '../helpers/fixture.ts';
import type { ServerPluginOptions } from '../../src/index.ts';

/** What an honest room hands back: the stepper, its honest clients and the game that changes the entity. */
export interface HonestRoom {
  s: Stepper;
  honest: Peer[];
  game: (peer: Peer, isServer: boolean) => void;
  /** Spawns `n` more server entities (to make the server send reliable spawns). */
  spawnMore(n: number): void;
}

/** A server with `clients` honest clients, joined and in sync after 30 frames. */
export function honestRoom(
  clients = 2,
  server?: Partial<Omit<ServerPluginOptions, 'role' | 'protocol' | 'transport' | 'clock'>>,
): HonestRoom {
  const s = new Stepper({ server: () => server ?? {} });
  const honest: Peer[] = [];
  for (let i = 0; i < clients; i++) honest.push(s.addClient());
  const eid = spawn(s.server, [s.server.Ints]);
  let t = 0;
  const game = (_peer: Peer, isServer: boolean) => {
    if (isServer) s.server.Ints.u16[eid] = t++ & 0xffff;
  };
  s.run(30, game);
  return {
    s,
    honest,
    game,
    spawnMore: (n) => {
      for (let i = 0; i < n; i++) spawn(s.server, [s.server.Ints, s.server.Tagged]);
    },
  };
}

/** Honest clients converge: the game runs a while, stops, and every replicated value equals the server's. */
export function expectConverged(room: HonestRoom): void {
  room.s.run(30, room.game);
  room.s.run(60);
  for (const c of room.honest) expect(dump(c)).toEqual(dump(room.s.server));
  for (const c of room.honest) expect(c.net.stats()[0]).toBeDefined();
}

/** Codes of the errors the server reported. */
export function codes(peer: Peer): string[] {
  return peer.errors.map((e) => (e as { code?: string }).code ?? '?');
}
