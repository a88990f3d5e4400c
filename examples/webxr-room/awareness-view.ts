/**
 * Selections in the room: a user selects an object by pointing a controller's ray at it and pulling the trigger
 * (or pointing at nothing to clear it), and every page outlines each selected object in the colour of each user who
 * selected it (the local user's own selection too). The selection is the user's awareness record, relayed by the
 * server, so a page that joins later sees the current selections at once.
 */
import * as THREE from 'three';
import { clientIdOf, entityOfNetworkId, networkIdOf } from '../../src/index.ts';
import type { ClientAwareness } from '../../src/index.ts';
import type { EntityViews } from './entity-views.ts';
import type { LocalController } from './scene.ts';
import { userColor } from './scene.ts';

/** Outline shells grow by this factor per user selecting the same object, so two selections show as two rings. */
const OUTLINE_SCALE = 1.12;
const OUTLINE_STEP = 0.08;

/** A drawn highlight, as the debug handle reports it. */
export interface HighlightInfo {
  eid: number;
  netId: number;
  /** The users whose selection it is, and the colours of their outlines, in the same order. */
  users: number[];
  colors: number[];
}

/** The selection layer of one page. */
export interface AwarenessView {
  /** Selects one object (a local entity id), or none with 0: what the trigger does. */
  select(eid: number): void;
  /** Redraws the outlines from everyone's records; run after the entity views' update. */
  update(): void;
  /** The objects outlined now. */
  highlights(): HighlightInfo[];
}

interface Outline {
  object: THREE.Object3D;
  key: string;
  shells: THREE.Mesh[];
}

/** Wires the triggers of `controllers` to selecting and draws everyone's selections on the views. */
export function createAwarenessView(
  world: object,
  awareness: ClientAwareness,
  views: EntityViews,
  controllers: readonly LocalController[],
): AwarenessView {
  const outlines = new Map<number, Outline>();
  const raycaster = new THREE.Raycaster();
  const origin = new THREE.Vector3();
  const direction = new THREE.Vector3();
  const rotation = new THREE.Quaternion();

  const select = (eid: number) => {
    const netId = eid === 0 ? 0 : networkIdOf(world, eid);
    awareness.set({ selection: netId === 0 ? [] : [netId] });
  };

  /** The object a controller's ray points at, or 0. */
  const pointedAt = (controller: LocalController): number => {
    controller.ray.updateMatrixWorld();
    origin.setFromMatrixPosition(controller.ray.matrixWorld);
    controller.ray.getWorldQuaternion(rotation);
    raycaster.set(origin, direction.set(0, 0, -1).applyQuaternion(rotation));
    let best = 0;
    let bestDistance = Infinity;
    for (const v of views.list()) {
      const object = v.kind === 'object' ? views.objectOf(v.eid) : null;
      const hit = object ? raycaster.intersectObject(object, false)[0] : undefined;
      if (hit && hit.distance < bestDistance) [best, bestDistance] = [v.eid, hit.distance];
    }
    return best;
  };

  for (const controller of controllers)
    controller.ray.addEventListener('selectstart', () => select(pointedAt(controller)));

  /** Who selected each local entity: this user and every user the server shows this page. */
  const selectedBy = (): Map<number, number[]> => {
    const out = new Map<number, number[]>();
    const me = clientIdOf(world);
    for (const user of [me, ...awareness.users()].filter((u) => u !== 0).sort((a, b) => a - b)) {
      const ids = awareness.get(user)?.selection;
      if (!Array.isArray(ids)) continue;
      for (const netId of ids) {
        const eid = entityOfNetworkId(world, netId);
        if (eid !== 0) out.set(eid, [...(out.get(eid) ?? []), user]);
      }
    }
    return out;
  };

  const remove = (eid: number) => {
    const o = outlines.get(eid);
    if (!o) return;
    for (const shell of o.shells) {
      o.object.remove(shell);
      (shell.material as THREE.Material).dispose();
    }
    outlines.delete(eid);
  };

  const draw = (eid: number, object: THREE.Object3D, users: number[]) => {
    const mesh = object as THREE.Mesh;
    const shells = users.map((user, i) => {
      const material = new THREE.MeshBasicMaterial({ color: userColor(user), side: THREE.BackSide });
      const shell = new THREE.Mesh(mesh.geometry, material);
      shell.scale.setScalar(OUTLINE_SCALE + i * OUTLINE_STEP);
      shell.raycast = () => {}; // outlines are not pickable
      object.add(shell);
      return shell;
    });
    outlines.set(eid, { object, key: users.join(','), shells });
  };

  return {
    select,
    update() {
      const wanted = selectedBy();
      for (const [eid, o] of outlines) {
        const users = wanted.get(eid);
        if (!users || users.join(',') !== o.key || views.objectOf(eid) !== o.object) remove(eid);
      }
      for (const [eid, users] of wanted) {
        const object = views.objectOf(eid);
        if (object && !outlines.has(eid)) draw(eid, object, users);
      }
    },
    highlights() {
      return [...outlines].map(([eid, o]) => {
        const users = o.key.split(',').map(Number);
        return { eid, netId: networkIdOf(world, eid), users, colors: users.map(userColor) };
      });
    },
  };
}
