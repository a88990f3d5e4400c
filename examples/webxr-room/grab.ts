/**
 * Grabbing: squeeze near a free object and it follows the hand at once (predicted), while the page asks the server
 * for ownership. Granted, the page writes the object's pose every frame and everyone sees it move; refused (someone
 * else was first), the object snaps back to where the server has it — a correction. Letting go gives it back.
 */
import * as THREE from 'three';
import { hasComponent, query } from 'bitecs';
import type { World } from 'bitecs';
import { clientIdOf, networkIdOf, Networked, ownerOf } from '../../src/index.ts';
import { encodeGrabRelease, encodeGrabRequest } from './protocol.ts';
import type { RoomProtocol } from './protocol.ts';
import { writePoseFromMatrix } from './pose-io.ts';
import type { LocalController } from './scene.ts';

/** A hand grabs objects whose centre is within this distance of the grip, in metres (a loose fist). */
export const GRAB_RADIUS_M = 0.15;

/** A request the server has not granted by then was refused (it grants at its next tick, ~20 ms + RTT). */
const GRANT_TIMEOUT_MS = 1000;

interface Hold {
  eid: number;
  /** The object's pose relative to the grip when it was grabbed. */
  offset: THREE.Matrix4;
  /** Where the hand holds it this frame (grip times offset). */
  matrix: THREE.Matrix4;
  granted: boolean;
  requestedAt: number;
}

/** What a page needs from the grab logic. */
export interface Grabber {
  /** Runs each frame after the controllers moved (`nowMs` from performance.now()): moves and writes held objects. */
  update(nowMs: number): void;
  /** The pose the local hand gives `eid` (held or awaiting the grant), or null: views render it instead. */
  localMatrix(eid: number): THREE.Matrix4 | null;
  /** Ownership of `eid` changed (from the plugin's `ownership` event). */
  ownershipChanged(eid: number, owner: number): void;
  /** Grab messages waiting to be sent (the room client sends them on its next tick). */
  readonly outbox: Uint8Array[];
  /** Predicted grabs the server refused. */
  readonly corrections: number;
}

/** Wires grabbing to the local controllers' squeeze events. */
export function createGrabber(
  world: World,
  room: RoomProtocol,
  controllers: readonly LocalController[],
  renderedMatrix: (eid: number) => THREE.Matrix4 | null,
): Grabber {
  const holds = new Map<LocalController, Hold>();
  const outbox: Uint8Array[] = [];
  const gripAt = new THREE.Vector3();
  const objectAt = new THREE.Vector3();
  let corrections = 0;

  const nearestFreeObject = (controller: LocalController): number => {
    gripAt.setFromMatrixPosition(controller.grip.matrixWorld);
    let best = 0;
    let bestDistance = GRAB_RADIUS_M;
    for (const eid of query(world, [Networked, room.Grabbable])) {
      const matrix = renderedMatrix(eid);
      if (!matrix || ownerOf(world, eid) !== 0 || [...holds.values()].some((h) => h.eid === eid)) continue;
      const d = objectAt.setFromMatrixPosition(matrix).distanceTo(gripAt);
      if (d < bestDistance) [best, bestDistance] = [eid, d];
    }
    return best;
  };

  const release = (controller: LocalController) => {
    const hold = holds.get(controller);
    if (!hold) return;
    holds.delete(controller);
    if (!hold.granted) return; // a late grant is answered with a release (see ownershipChanged)
    const pose = new THREE.Vector3();
    const rotation = new THREE.Quaternion();
    hold.matrix
      .multiplyMatrices(controller.grip.matrixWorld, hold.offset)
      .decompose(pose, rotation, new THREE.Vector3());
    writePoseFromMatrix(room.Pose, hold.eid, hold.matrix);
    outbox.push(encodeGrabRelease(networkIdOf(world, hold.eid), [...pose.toArray(), ...rotation.toArray()]));
  };

  for (const controller of controllers) {
    controller.ray.addEventListener('squeezestart', () => {
      const eid = nearestFreeObject(controller);
      const matrix = eid ? renderedMatrix(eid) : null;
      if (!matrix) return;
      const offset = controller.grip.matrixWorld.clone().invert().multiply(matrix);
      holds.set(controller, { eid, offset, matrix: matrix.clone(), granted: false, requestedAt: performance.now() });
      outbox.push(encodeGrabRequest(networkIdOf(world, eid)));
    });
    controller.ray.addEventListener('squeezeend', () => release(controller));
  }

  return {
    outbox,
    get corrections() {
      return corrections;
    },
    update(nowMs) {
      for (const [controller, hold] of holds) {
        hold.matrix.multiplyMatrices(controller.grip.matrixWorld, hold.offset);
        if (!hasComponent(world, hold.eid, Networked)) {
          holds.delete(controller); // the object went away
        } else if (hold.granted) {
          writePoseFromMatrix(room.Pose, hold.eid, hold.matrix);
        } else if (nowMs - hold.requestedAt > GRANT_TIMEOUT_MS) {
          holds.delete(controller);
          corrections++;
        }
      }
    },
    localMatrix(eid) {
      for (const hold of holds.values()) if (hold.eid === eid) return hold.matrix;
      return null;
    },
    ownershipChanged(eid, owner) {
      const me = clientIdOf(world);
      const entry = [...holds].find(([, h]) => h.eid === eid);
      if (entry && owner === me) entry[1].granted = true;
      else if (entry && owner !== 0) {
        holds.delete(entry[0]); // someone else got it first: the prediction is corrected
        corrections++;
      } else if (!entry && owner === me && hasComponent(world, eid, room.Grabbable)) {
        // Granted after the hand already let go: give it straight back where the server has it.
        const { Pose } = room;
        outbox.push(
          encodeGrabRelease(networkIdOf(world, eid), [
            Pose.px[eid],
            Pose.py[eid],
            Pose.pz[eid],
            Pose.qx[eid],
            Pose.qy[eid],
            Pose.qz[eid],
            Pose.qw[eid],
          ]),
        );
      }
    },
  };
}
