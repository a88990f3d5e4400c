/**
 * Grabbing: squeeze near a free object and the page asks the server for it through the authority layer. Granted,
 * the object follows the hand that squeezed (`holdSystem` writes its pose every frame) and everyone sees it move;
 * refused (someone else was first), nothing moves. Letting go gives it back, with the pose it was let go at.
 */
import * as THREE from 'three';
import { query } from 'bitecs';
import type { World } from 'bitecs';
import { Networked, ownerOf } from '../../src/index.ts';
import type { ClientAuthority } from '../../src/index.ts';
import type { RoomProtocol } from './protocol.ts';
import type { LocalController } from './scene.ts';

/** A hand grabs objects whose centre is within this distance of the grip, in metres (a loose fist). */
export const GRAB_RADIUS_M = 0.15;

/** What a page needs from the grab logic. */
export interface Grabber {
  /** Objects a hand squeezes (asked for or held), by controller. */
  readonly holding: ReadonlyMap<LocalController, number>;
  /** Grabs the server refused (someone else held the object). */
  readonly refused: number;
}

/**
 * Wires grabbing to the local controllers' squeeze events; `handOf` is the owned controller entity of a hand
 * (0 before the server gave it), `renderedMatrix` where an object is drawn.
 */
export function createGrabber(
  world: World,
  room: RoomProtocol,
  controllers: readonly LocalController[],
  authority: ClientAuthority,
  handOf: (hand: 'left' | 'right') => number,
  renderedMatrix: (eid: number) => THREE.Matrix4 | null,
): Grabber {
  const holding = new Map<LocalController, number>();
  const gripAt = new THREE.Vector3();
  const objectAt = new THREE.Vector3();
  let refused = 0;

  const nearestFreeObject = (controller: LocalController): number => {
    gripAt.setFromMatrixPosition(controller.grip.matrixWorld);
    let best = 0;
    let bestDistance = GRAB_RADIUS_M;
    for (const eid of query(world, [Networked, room.Grabbable])) {
      const matrix = renderedMatrix(eid);
      if (!matrix || ownerOf(world, eid) !== 0 || [...holding.values()].includes(eid)) continue;
      const d = objectAt.setFromMatrixPosition(matrix).distanceTo(gripAt);
      if (d < bestDistance) [best, bestDistance] = [eid, d];
    }
    return best;
  };

  for (const controller of controllers) {
    controller.ray.addEventListener('squeezestart', () => {
      if (controller.handedness !== 'left' && controller.handedness !== 'right') return;
      const hand = handOf(controller.handedness);
      const eid = hand === 0 ? 0 : nearestFreeObject(controller);
      if (eid === 0) return;
      holding.set(controller, eid);
      void authority.requestOwnership(eid, { hand }).then((granted) => {
        if (granted || holding.get(controller) !== eid) return; // held, or let go before the answer
        holding.delete(controller);
        refused++;
      });
    });
    controller.ray.addEventListener('squeezeend', () => {
      const eid = holding.get(controller);
      if (eid === undefined) return;
      holding.delete(controller);
      authority.release(eid); // also stops waiting when the grant has not come yet
    });
  }

  return {
    holding,
    get refused() {
      return refused;
    },
  };
}
