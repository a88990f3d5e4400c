/**
 * The room every attack runs in: a real server plugin and honest client plugins over the in-memory network on a
 * manual clock, stepped frame by frame at 60 Hz. The server owns `entities` counters and changes some every
 * frame, and spawns and despawns a few (reliable traffic); honest clients must end holding exactly its values.
 * Server work (receive + game + send) is timed with `performance.now()`, so the attack's CPU cost can be read
 * apart from the honest clients' and the attackers' own.
 */
import { addComponent, addEntity, createWorld, query, removeEntity } from 'bitecs';
import type { World } from 'bitecs';
import {
  Networked,
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  field,
  networkIdOf,
  registerComponent,
} from '../../src/index.ts';
import type { ManualClock, MemoryNetwork, NetworkPlugin, Protocol } from '../../src/index.ts';

/** Frames per simulated second. */
export const ATTACK_FRAME_HZ = 60;
/** Largest entity id the room's arrays hold. */
const MAX_ENTITIES = 1 << 14;

/** Size of a room. */
export interface AttackRoomOptions {
  honestClients: number;
  entities: number;
  seed: number;
}

interface Side {
  world: World;
  net: NetworkPlugin;
  Counter: { v: Uint16Array; w: Uint32Array };
  errors: number;
}

function defineSide(): { protocol: Protocol; Counter: Side['Counter'] } {
  const Counter = { v: new Uint16Array(MAX_ENTITIES), w: new Uint32Array(MAX_ENTITIES) };
  const protocol = createProtocol();
  registerComponent(protocol, Counter, { name: 'Counter', fields: { v: field.u16(), w: field.u32() } });
  return { protocol, Counter };
}

/** A server, honest clients, and the hooks attacks use. */
export class AttackRoom {
  readonly clock: ManualClock;
  readonly network: MemoryNetwork;
  readonly server: Side;
  readonly honest: Side[] = [];
  readonly schemaHash: string;
  /** Milliseconds of server work (receive, game, send) so far. */
  serverMs = 0;
  /** Exceptions that escaped the server's receive or send (there should be none). */
  serverThrows = 0;
  private readonly eids: number[] = [];
  private readonly churn: number[] = [];
  private frame = 0;
  private changing = true;

  constructor(options: AttackRoomOptions) {
    this.clock = createManualClock(1000);
    this.network = createMemoryNetwork({ clock: this.clock, seed: options.seed });
    const s = defineSide();
    const world = createWorld();
    const server: Side = { world, Counter: s.Counter, errors: 0, net: null as unknown as NetworkPlugin };
    server.net = createNetworkPlugin(world, {
      role: 'server',
      protocol: s.protocol,
      transport: this.network.server,
      clock: this.clock,
      sendRateHz: ATTACK_FRAME_HZ,
      onError: () => server.errors++,
    });
    this.server = server;
    this.schemaHash = s.protocol.schemaHash;
    for (let i = 0; i < options.entities; i++) this.eids.push(this.spawn());
    for (let i = 0; i < options.honestClients; i++) {
      const c = defineSide();
      const cw = createWorld();
      const side: Side = { world: cw, Counter: c.Counter, errors: 0, net: null as unknown as NetworkPlugin };
      side.net = createNetworkPlugin(cw, {
        role: 'client',
        protocol: c.protocol,
        link: this.network.connect(),
        clock: this.clock,
        sendRateHz: ATTACK_FRAME_HZ,
        onError: () => side.errors++,
      });
      this.honest.push(side);
    }
  }

  private spawn(): number {
    const w = this.server.world;
    const eid = addEntity(w);
    addComponent(w, eid, this.server.Counter);
    addComponent(w, eid, Networked);
    return eid;
  }

  /** One 60 Hz frame: packets arrive, the server runs (timed), then every honest client. */
  step(): void {
    this.clock.advance(1000 / ATTACK_FRAME_HZ);
    this.network.pump();
    const t0 = performance.now();
    const srv = this.server;
    try {
      srv.net.receive(srv.world);
    } catch {
      this.serverThrows++;
    }
    if (this.changing) this.game();
    try {
      srv.net.send(srv.world);
    } catch {
      this.serverThrows++;
    }
    this.serverMs += performance.now() - t0;
    for (const c of this.honest) {
      c.net.receive(c.world);
      c.net.send(c.world);
    }
    this.frame++;
  }

  // The server's game: 10 % of the counters change each frame; two entities spawn and two despawn each second.
  private game(): void {
    const { v, w } = this.server.Counter;
    const n = this.eids.length;
    for (let i = this.frame % 10; i < n; i += 10) v[this.eids[i]] = (v[this.eids[i]] + 1) & 0xffff;
    if (this.frame % 30 === 0) {
      const eid = this.spawn();
      w[eid] = this.frame;
      this.churn.push(eid);
      if (this.churn.length > 4) removeEntity(this.server.world, this.churn.shift()!);
    }
  }

  /** Runs `frames` frames, calling `before` at the start of each (the attacker's turn). */
  run(frames: number, before?: (frame: number) => void): void {
    for (let f = 0; f < frames; f++) {
      before?.(f);
      this.step();
    }
  }

  /** Stops the game's changes, lets everything settle, and says how many honest clients hold the server's state. */
  settle(frames: number): number {
    this.changing = false;
    this.run(frames);
    const truth = snapshotOf(this.server);
    let converged = 0;
    for (const c of this.honest) if (sameState(truth, snapshotOf(c))) converged++;
    this.changing = true;
    return converged;
  }

  /** Honest clients the server still has connected. */
  honestConnected(): number {
    const ids = new Set(this.server.net.stats().map((p) => p.clientId));
    return this.honest.filter((c) => ids.has(c.net.stats()[0]?.clientId ?? -1)).length;
  }
}

function snapshotOf(side: Side): Map<number, string> {
  const out = new Map<number, string>();
  const { v, w } = side.Counter;
  for (const eid of query(side.world, [Networked])) {
    const id = networkIdOf(side.world, eid);
    if (id !== 0) out.set(id, `${v[eid]}:${w[eid]}`);
  }
  return out;
}

function sameState(a: Map<number, string>, b: Map<number, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
