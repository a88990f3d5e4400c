/**
 * Avatars' colours, chosen on entry: the page offers the room's palette (swatches in its corner, or `?color=` with
 * a palette index or hex colour) and publishes the choice in this user's awareness record; every page draws that
 * user's head, hands and selection outlines in it (`userColor` reads the choices), and the user's own hands too.
 * A user who chose nothing keeps the colour of their seat. The choice leaves with the user (awareness is cleared).
 */
import type * as THREE from 'three';
import { query } from 'bitecs';
import type { World } from 'bitecs';
import { clientIdOf, Networked, ownerOf } from '../../src/index.ts';
import type { ClientAwareness } from '../../src/index.ts';
import type { EntityViews } from './entity-views.ts';
import type { RoomProtocol } from './protocol.ts';
import { chooseUserColor, USER_COLORS, userColor } from './scene.ts';
import type { LocalController } from './scene.ts';

/** The room's avatar colours for one page. */
export interface AvatarColors {
  /** Picks this user's colour (one of `USER_COLORS`) and tells everyone. */
  choose(color: number): void;
  /** Applies everyone's choice to their avatar's views; run after the entity views' update. */
  update(): void;
}

/** The colour `?color=` asks for: a palette index (0..7) or a hex colour of the palette; null when none. */
export function colorFromQuery(search: string): number | null {
  const asked = new URLSearchParams(search).get('color');
  if (asked === null) return null;
  const index = /^\d$/.test(asked) ? Number(asked) : -1;
  if (index >= 0 && index < USER_COLORS.length) return USER_COLORS[index];
  const hex = Number.parseInt(asked.replace(/^#/, ''), 16);
  return USER_COLORS.includes(hex) ? hex : null;
}

/** Wires the colour choice of this page to awareness and the views; `swatches` is the page's palette row. */
export function createAvatarColors(
  world: World,
  room: RoomProtocol,
  awareness: ClientAwareness,
  views: EntityViews,
  controllers: readonly LocalController[],
  swatches: HTMLElement | null,
): AvatarColors {
  let wanted = colorFromQuery(globalThis.location?.search ?? '');
  let published = -1;
  const drawn = new Map<number, number>(); // eid -> colour its materials have
  const parts = [room.poses.HeadPose, room.poses.LeftControllerPose, room.poses.RightControllerPose];

  const paint = (object: THREE.Object3D, color: number) =>
    object.traverse((node) => {
      const material = (node as THREE.Mesh).material as THREE.MeshStandardMaterial | undefined;
      // The visor stays dark; the speaking ring and name tag are not standard materials.
      if (material?.isMeshStandardMaterial && material.color.getHex() !== 0x111111) material.color.setHex(color);
    });

  for (const [i, color] of USER_COLORS.entries()) {
    if (!swatches) break;
    const button = document.createElement('button');
    button.type = 'button';
    button.title = `colour ${i}`;
    button.style.background = `#${color.toString(16).padStart(6, '0')}`;
    button.addEventListener('click', () => (wanted = color));
    swatches.appendChild(button);
  }

  return {
    choose(color) {
      wanted = color;
    },
    update() {
      const me = clientIdOf(world);
      if (me === 0) return;
      if (wanted !== null && wanted !== published) {
        awareness.set({ color: wanted });
        published = wanted;
      }
      chooseUserColor(me, wanted);
      for (const user of awareness.users()) {
        const color = awareness.get(user)?.color;
        chooseUserColor(user, typeof color === 'number' && USER_COLORS.includes(color) ? color : null);
      }
      for (const c of controllers) (c.mesh.material as THREE.MeshStandardMaterial).color.setHex(userColor(me));
      for (const store of parts)
        for (const eid of query(world, [Networked, store])) {
          const object = views.objectOf(eid);
          const color = userColor(ownerOf(world, eid));
          if (!object || drawn.get(eid) === color) continue;
          paint(object, color);
          drawn.set(eid, color);
        }
      for (const eid of drawn.keys()) if (!views.objectOf(eid)) drawn.delete(eid);
    },
  };
}
