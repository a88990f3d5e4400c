/**
 * A thrown object's flight: the velocity it left the hand with (m/s) and whether it is flying. The thrower writes it
 * at release (`detach(world, eid, { throw: true })`); the server then takes the object over, simulates the flight
 * (ballistic, down to the floor) and replicates the pose, so everyone sees it land at the same place.
 */

/** SoA arrays of the flight. */
export interface Flight {
  /** Release velocity x, in m/s. */
  vx: Float32Array;
  /** Release velocity y, in m/s. */
  vy: Float32Array;
  /** Release velocity z, in m/s. */
  vz: Float32Array;
  /** 1 while flying. */
  flying: Uint8Array;
}

/** Allocates the flight component for entity ids below `capacity`. */
export function createFlight(capacity: number): Flight {
  return {
    vx: new Float32Array(capacity),
    vy: new Float32Array(capacity),
    vz: new Float32Array(capacity),
    flying: new Uint8Array(capacity),
  };
}
