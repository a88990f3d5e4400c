/** A fixture room for the fidelity tests: one client whose viewpoint is the origin, entities at chosen distances. */
import { getNetContext } from '../../src/context.ts';
import { entityOfNetworkId, networkIdOf, setViewPosition } from '../../src/index.ts';
import type { FidelityOptions, LinkConditions } from '../../src/index.ts';
import type { Fidelity } from '../../src/replication/fidelity.ts';
import { spawn, Stepper, type Peer } from '../helpers/fixture.ts';

/** Levels of most tests: near at full rate, mid every 2nd tick at 4x steps, far every 6th tick at 16x steps. */
export const LEVELS: FidelityOptions['levels'] = [
  { within: 5 },
  { within: 15, every: 2, coarsen: 4 },
  { every: 6, coarsen: 16 },
];

/** A server with fidelity on the fixture's Pose, and one client viewing from the origin. */
export function fidelityRoom(
  options: Partial<FidelityOptions> = {},
  link?: LinkConditions,
  extra: Record<string, unknown> = {},
): { s: Stepper; c: Peer; clientId: number; fidelity: Fidelity } {
  const s = new Stepper({
    seed: 7,
    server: (fx) => ({
      fidelity: {
        levels: LEVELS,
        position: { component: fx.Pose, x: 'px', y: 'py', z: 'pz' },
        ...options,
      },
      ...extra,
    }),
  });
  const c = s.addClient(link);
  for (let i = 0; i < 300 && s.server.net.stats().length === 0; i++) s.step();
  const clientId = s.server.net.stats()[0].clientId;
  setViewPosition(s.server.world, clientId, 0, 0, 0);
  const ctx = getNetContext(s.server.world);
  if (ctx.role !== 'server' || ctx.replicator.fidelity === null) throw new Error('no fidelity on the server');
  const fidelity = ctx.replicator.fidelity;
  return { s, c, clientId, fidelity };
}

/** Spawns a server entity with Pose at (x, 0, 0). */
export function spawnAt(s: Stepper, x: number): number {
  const eid = spawn(s.server, [s.server.Pose]);
  s.server.Pose.px[eid] = x;
  return eid;
}

/** The client's entity for server entity `eid` (0 if it has none). */
export function onClient(s: Stepper, c: Peer, eid: number): number {
  const netId = networkIdOf(s.server.world, eid);
  return netId === 0 ? 0 : (entityOfNetworkId(c.world, netId) ?? 0);
}

/** Server tick of the last value of Pose field `f` (0 px, 1 py, 2 pz, 3 rot) the client applied to `local`. */
export function appliedTick(c: Peer, local: number, f = 0): number {
  const rep = getNetContext(c.world).replicator;
  return rep.shadow.tick[0][f][local];
}

/** Moves `eid` along a small circle around (cx, 0, 0) and turns it, as a function of frame `t`. */
export function move(p: Peer, eid: number, cx: number, t: number): void {
  const a = t * 0.07 + eid;
  p.Pose.px[eid] = cx + 0.4 * Math.cos(a);
  p.Pose.py[eid] = 1.2345 + 0.3 * Math.sin(a * 1.3);
  p.Pose.pz[eid] = 0.4 * Math.sin(a);
  const h = a * 0.5;
  p.Pose.qx[eid] = 0;
  p.Pose.qy[eid] = Math.sin(h);
  p.Pose.qz[eid] = 0;
  p.Pose.qw[eid] = Math.cos(h);
}

/** Angle in degrees between the client's and the server's rotation of an entity. */
export function angleDeg(a: Peer, ea: number, b: Peer, eb: number): number {
  const dot =
    a.Pose.qx[ea] * b.Pose.qx[eb] +
    a.Pose.qy[ea] * b.Pose.qy[eb] +
    a.Pose.qz[ea] * b.Pose.qz[eb] +
    a.Pose.qw[ea] * b.Pose.qw[eb];
  return (2 * Math.acos(Math.min(1, Math.abs(dot))) * 180) / Math.PI;
}

/** Largest position difference (m) between the client's and the server's Pose of an entity. */
export function positionError(a: Peer, ea: number, b: Peer, eb: number): number {
  return Math.max(
    Math.abs(a.Pose.px[ea] - b.Pose.px[eb]),
    Math.abs(a.Pose.py[ea] - b.Pose.py[eb]),
    Math.abs(a.Pose.pz[ea] - b.Pose.pz[eb]),
  );
}
