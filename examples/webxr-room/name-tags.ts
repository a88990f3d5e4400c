/**
 * Name tags: every other user's display name drawn above their head, as a sprite with a canvas texture, redrawn when
 * the name changes (it arrives on the reliable lane, see display-name.ts).
 */
import * as THREE from 'three';
import { query } from 'bitecs';
import type { World } from 'bitecs';
import { isOwnedLocally, Networked } from '../../src/index.ts';
import type { DisplayNameStore } from './display-name.ts';
import type { EntityViews } from './entity-views.ts';

/** How far above the head's centre the tag floats, in metres. */
const TAG_LIFT_M = 0.22;
/** Width of a tag in metres; its height follows the canvas (4:1). */
const TAG_WIDTH_M = 0.4;

interface Tag {
  sprite: THREE.Sprite;
  canvas: HTMLCanvasElement;
  texture: THREE.CanvasTexture;
  name: string;
  seen: number;
}

/** The drawn tags, for the debug handle and the tests. */
export interface NameTags {
  /** Adds, moves, redraws and removes tags; run after the entity views' update. */
  update(): void;
  /** The names drawn now, by entity. */
  list(): Array<{ eid: number; name: string; position: [number, number, number] }>;
}

function draw(tag: Tag): void {
  const ctx = tag.canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = tag.canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = 'rgba(10, 10, 20, 0.7)';
  ctx.beginPath();
  ctx.roundRect(0, 0, width, height, height / 3);
  ctx.fill();
  ctx.fillStyle = '#ffffff';
  ctx.font = `${Math.round(height * 0.55)}px sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(tag.name, width / 2, height / 2, width - 16);
  tag.texture.needsUpdate = true;
}

/** Keeps a tag above every remote head of `world` that has a DisplayName. */
export function createNameTags(
  world: World,
  store: DisplayNameStore,
  head: object,
  scene: THREE.Scene,
  views: EntityViews,
): NameTags {
  const tags = new Map<number, Tag>();
  const at = new THREE.Vector3();
  let frame = 0;
  return {
    update() {
      frame++;
      for (const eid of query(world, [Networked, head, store])) {
        const matrix = isOwnedLocally(world, eid) ? null : views.matrixOf(eid);
        if (matrix === null) continue;
        let tag = tags.get(eid);
        if (!tag) {
          const canvas = document.createElement('canvas');
          canvas.width = 256;
          canvas.height = 64;
          const texture = new THREE.CanvasTexture(canvas);
          const sprite = new THREE.Sprite(new THREE.SpriteMaterial({ map: texture, depthTest: false }));
          sprite.scale.set(TAG_WIDTH_M, TAG_WIDTH_M / 4, 1);
          scene.add(sprite);
          tag = { sprite, canvas, texture, name: '', seen: 0 };
          tags.set(eid, tag);
        }
        tag.seen = frame;
        const name = store.name[eid] ?? '';
        if (name !== tag.name) {
          tag.name = name;
          draw(tag);
        }
        tag.sprite.position.copy(at.setFromMatrixPosition(matrix)).y += TAG_LIFT_M;
      }
      for (const [eid, tag] of tags) {
        if (tag.seen === frame) continue;
        scene.remove(tag.sprite);
        tag.texture.dispose();
        tag.sprite.material.dispose();
        tags.delete(eid);
      }
    },
    list() {
      return [...tags].map(([eid, t]) => ({
        eid,
        name: t.name,
        position: t.sprite.position.toArray() as [number, number, number],
      }));
    },
  };
}
