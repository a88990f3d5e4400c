/**
 * Grabbing, carrying and throwing. Squeeze near a free object (a controller's grip button, or a pinch when the input
 * source is a tracked hand) and the page asks the server for it through the authority layer. Granted, the object is
 * attached to the hand entity that grabbed it (`attachTo`): it replicates as that hand plus an offset, so every page
 * draws it rigidly in the hand as that page draws the hand. Refused (someone else was first), nothing moves.
 * Letting go: moving faster than `THROW_MIN_SPEED_MS`, it is a throw (`detach` with the hand's motion; the server
 * takes the object over and flies it to the floor, the same flight for everyone); slower, it is put down where it was
 * let go and goes back to the server.
 */
import * as THREE from 'three';
import { query } from 'bitecs';
import type { World } from 'bitecs';
import { attachTo, detach, isOwnedLocally, Networked, ownerOf } from '../../src/index.ts';
import type { ClientAuthority } from '../../src/index.ts';
import type { RoomProtocol } from './protocol.ts';
import { grabPointOf } from './scene.ts';
import type { LocalController } from './scene.ts';

/** A hand grabs objects whose centre is within this distance of its grip or pinch point, in metres (a loose fist). */
export const GRAB_RADIUS_M = 0.15;

/**
 * A release moving at least this fast (m/s, the object's drawn motion over the last ~40 ms) is a throw; slower, the
 * object stays where it was let go. A hand putting something down moves well under 0.3 m/s; a toss is over 1 m/s.
 */
export const THROW_MIN_SPEED_MS = 0.5;

/** What a page needs from the grab logic. */
export interface Grabber {
  /** Objects a hand squeezes (asked for or held), by controller. */
  readonly holding: ReadonlyMap<LocalController, number>;
  /** Grabs the server refused (someone else held the object). */
  readonly refused: number;
  /** Releases that were throws, and the release velocity of the last one (m/s, room coordinates). */
  readonly thrown: number;
  readonly lastThrow: readonly [number, number, number] | null;
}

/**
 * Wires grabbing to the local controllers' squeeze events (pinch for hands); `handOf` is the owned controller entity
 * of a hand (0 before the server gave it), `renderedMatrix` where an object is drawn.
 */
export function createGrabber(
  world: World,
  room: RoomProtocol,
  controllers: readonly LocalController[],
  authority: ClientAuthority,
  handOf: (hand: 'left' | 'right') => number,
  renderedMatrix: (eid: number) => THREE.Matrix4 | null,
): Grabber {
  const { Flight } = room;
  const holding = new Map<LocalController, number>();
  const attached = new Set<number>();
  const gripAt = new THREE.Vector3();
  const objectAt = new THREE.Vector3();
  let refused = 0;
  let thrown = 0;
  let lastThrow: [number, number, number] | null = null;

  const nearestFreeObject = (controller: LocalController): number => {
    grabPointOf(controller, gripAt);
    let best = 0;
    let bestDistance = GRAB_RADIUS_M;
    for (const eid of query(world, [Networked, room.Grabbable])) {
      const matrix = renderedMatrix(eid);
      if (!matrix || ownerOf(world, eid) !== 0 || Flight.flying[eid] === 1 || [...holding.values()].includes(eid))
        continue;
      const d = objectAt.setFromMatrixPosition(matrix).distanceTo(gripAt);
      if (d < bestDistance) [best, bestDistance] = [eid, d];
    }
    return best;
  };

  const grab = (controller: LocalController) => {
    if (controller.handedness !== 'left' && controller.handedness !== 'right') return;
    if (holding.has(controller)) return;
    const hand = handOf(controller.handedness);
    const eid = hand === 0 ? 0 : nearestFreeObject(controller);
    if (eid === 0) return;
    holding.set(controller, eid);
    void authority.requestOwnership(eid).then((granted) => {
      if (holding.get(controller) !== eid) return; // let go before the answer
      if (!granted) {
        holding.delete(controller);
        refused++;
        return;
      }
      attachTo(world, eid, hand); // at the offset it has from the hand now: no jump
      attached.add(eid);
    });
  };

  const letGo = (controller: LocalController) => {
    const eid = holding.get(controller);
    if (eid === undefined) return;
    holding.delete(controller);
    if (!attached.delete(eid) || !isOwnedLocally(world, eid)) {
      authority.release(eid); // also stops waiting when the grant has not come yet
      return;
    }
    detach(world, eid, { throw: true });
    const v: [number, number, number] = [Flight.vx[eid], Flight.vy[eid], Flight.vz[eid]];
    if (Math.hypot(...v) >= THROW_MIN_SPEED_MS) {
      // The server sees the flight with the owner's next write, takes the object over and flies it.
      thrown++;
      lastThrow = v;
      return;
    }
    Flight.flying[eid] = 0; // put down, not thrown
    Flight.vx[eid] = Flight.vy[eid] = Flight.vz[eid] = 0;
    authority.release(eid);
  };

  for (const controller of controllers) {
    // A controller grabs with its grip button; a tracked hand with a pinch (its select).
    controller.ray.addEventListener('squeezestart', () => !controller.isHand && grab(controller));
    controller.ray.addEventListener('squeezeend', () => !controller.isHand && letGo(controller));
    controller.ray.addEventListener('selectstart', () => controller.isHand && grab(controller));
    controller.ray.addEventListener('selectend', () => controller.isHand && letGo(controller));
    // Switching between controller and hand lets go of what the hand held.
    controller.ray.addEventListener('disconnected', () => letGo(controller));
  }

  return {
    holding,
    get refused() {
      return refused;
    },
    get thrown() {
      return thrown;
    },
    get lastThrow() {
      return lastThrow;
    },
  };
}
