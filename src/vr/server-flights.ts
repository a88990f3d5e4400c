/**
 * The server's side of a throw: an object whose Flight says flying, written by its owner at release (with the release
 * pose), is taken over by the server, which then moves it each send tick along a ballistic path (gravity, no drag)
 * until it reaches the floor, where it stops and lands. The pose and flight replicate like any server write, so the
 * thrower and every viewer see the same flight and the same landing place.
 */
import type { Flight } from '../../components/flight.ts';
import { type PoseAccess, type PoseArrays, poseArrays } from '../authority/hold.ts';
import { getNetContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { registeredComponentOf } from '../register.ts';
import { SERVER_OWNER } from '../replication/entity-registry.ts';
import type { ServerExtension } from '../replication/extension.ts';

/** Standard gravity (m/s^2). */
export const GRAVITY_MS2 = 9.81;
/** Longest step of the simulation (ms): a stalled server does not tunnel an object through the floor. */
const MAX_STEP_MS = 50;

/** Options of `addServerFlights`. */
export interface ServerFlightOptions {
  /** The flight component (registered in the protocol) the throwers write at release. */
  flight: Flight;
  /** The objects' replicated pose. */
  pose: PoseAccess;
  /** Height of the floor (m); default 0. */
  floorY?: number;
  /** Gravity (m/s^2, downward); default 9.81. */
  gravity?: number;
}

/** Counters of the server's flights. */
export interface ServerFlightStats {
  /** Flights started: thrown objects the server took over. */
  launched: number;
  /** Flights ended on the floor. */
  landed: number;
  /** Flights refused: the release velocity was not finite. */
  refused: number;
}

/** Server: simulates thrown objects (after `createNetworkPlugin`). */
export function addServerFlights(
  world: object,
  options: ServerFlightOptions,
): {
  /** A copy of the flight counters. */
  stats(): ServerFlightStats;
  /** Stops simulating flights (removes the server extension). */
  dispose(): void;
} {
  const net = getNetContext(world);
  if (net.role !== 'server') usageError('flights are simulated by the server', 'call it on the server world');
  const rep = net.replicator;
  const reg = registeredComponentOf(rep.protocol, options.flight);
  if (!reg) usageError('the flight component is not registered', 'call registerFlight(protocol, flight)');
  const pose: PoseArrays = poseArrays(options.pose);
  const f = options.flight;
  const floorY = options.floorY ?? 0;
  const g = options.gravity ?? GRAVITY_MS2;
  const stats: ServerFlightStats = { launched: 0, landed: 0, refused: 0 };
  const lastMs = new Map<number, number>();
  const ext: ServerExtension = {
    beforeDetect() {
      const now = net.clock.now();
      const registry = rep.registry;
      const has = registry.has[reg.id];
      for (let i = 0; i < registry.count; i++) {
        const eid = registry.list[i];
        if (!has[eid] || f.flying[eid] !== 1) continue;
        if (registry.owner[eid] !== SERVER_OWNER) {
          // a release: the owner's last write is the launch state; the server owns the flight from here
          if (!(Number.isFinite(f.vx[eid]) && Number.isFinite(f.vy[eid]) && Number.isFinite(f.vz[eid]))) {
            f.flying[eid] = 0;
            stats.refused++;
            continue;
          }
          rep.setOwner(eid, SERVER_OWNER);
          lastMs.set(eid, now);
          stats.launched++;
          continue;
        }
        const dt = Math.min(MAX_STEP_MS, now - (lastMs.get(eid) ?? now)) / 1000;
        lastMs.set(eid, now);
        if (!(dt > 0)) continue;
        const vy = f.vy[eid] - g * dt;
        pose.p[0][eid] += f.vx[eid] * dt;
        pose.p[1][eid] += ((f.vy[eid] + vy) / 2) * dt;
        pose.p[2][eid] += f.vz[eid] * dt;
        f.vy[eid] = vy;
        if (pose.p[1][eid] <= floorY) {
          pose.p[1][eid] = floorY;
          f.vx[eid] = f.vy[eid] = f.vz[eid] = 0;
          f.flying[eid] = 0;
          lastMs.delete(eid);
          stats.landed++;
        }
      }
    },
  };
  rep.extensions.push(ext);
  return {
    stats: () => ({ ...stats }),
    dispose() {
      const i = rep.extensions.indexOf(ext);
      if (i >= 0) rep.extensions.splice(i, 1);
    },
  };
}
