/**
 * Shared glTF models in the room (page side). A user drops a .glb on the page or picks one of the models below
 * (built here with three's GLTFExporter, so the example ships no binaries); the asset layer sends it to the server,
 * which checks its SHA-256 and offers it to everyone. Every page turns each verified model it receives into a
 * three.js object (GLTFLoader), scaled to fit the hand, for the 'model' objects that name its hash.
 */
import * as THREE from 'three';
import { GLTFExporter } from 'three/examples/jsm/exporters/GLTFExporter.js';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import type { AssetManifest, ClientAssets } from '../../src/index.ts';
import { GLB_MIME } from './protocol.ts';

/** A shared model fits in a ball of this radius, in metres: about an object in the hand. */
const MODEL_RADIUS_M = 0.09;

/** The models the picker offers, each built from three.js primitives. */
export const MODEL_PICKS: Record<string, () => THREE.Object3D> = {
  'cone.glb': () => new THREE.Mesh(new THREE.ConeGeometry(0.5, 1.2, 24), material(0xffd23f)),
  'knot.glb': () => new THREE.Mesh(new THREE.TorusKnotGeometry(0.4, 0.13, 96, 12), material(0x3bceac)),
  'lamp.glb': () => {
    const g = new THREE.Group();
    const base = new THREE.Mesh(new THREE.CylinderGeometry(0.35, 0.45, 0.12, 24), material(0x555566));
    const pole = new THREE.Mesh(new THREE.CylinderGeometry(0.05, 0.05, 1, 12), material(0x888899));
    const shade = new THREE.Mesh(new THREE.ConeGeometry(0.4, 0.45, 24, 1, true), material(0xee4266));
    pole.position.y = 0.55;
    shade.position.y = 1.1;
    g.add(base, pole, shade);
    return g;
  },
};

function material(color: number): THREE.MeshStandardMaterial {
  return new THREE.MeshStandardMaterial({ color, roughness: 0.45, metalness: 0.1 });
}

/** The binary glTF of a picker model (the same bytes, so the same hash, every time). */
export async function buildModelGlb(name: string): Promise<Uint8Array> {
  const build = MODEL_PICKS[name];
  if (!build) throw new Error(`no model named ${name}`);
  const scene = new THREE.Scene();
  scene.add(build());
  const glb = await new GLTFExporter().parseAsync(scene, { binary: true });
  return new Uint8Array(glb as ArrayBuffer);
}

/** The models this page holds, as three.js objects. */
export interface ModelLibrary {
  /** A new copy of the model with SHA-256 `hash`, or null while it is not here (or did not parse). */
  instance(hash: string): THREE.Object3D | null;
  /** Shares a model: a file's bytes or a picker model's. */
  share(bytes: Uint8Array, name: string): Promise<string>;
  /** Hashes of the models parsed, and of those that failed to parse. */
  list(): { ready: string[]; failed: string[] };
}

/** Turns the glTF assets `assets` receives into three.js objects. */
export function createModelLibrary(assets: ClientAssets): ModelLibrary {
  const loader = new GLTFLoader();
  const ready = new Map<string, THREE.Object3D>();
  const failed = new Set<string>();
  const load = (manifest: AssetManifest, bytes: Uint8Array | undefined) => {
    if (manifest.mime !== GLB_MIME || bytes === undefined || ready.has(manifest.hash)) return;
    // The bytes are verified to be what was offered, not that they are a good glTF: a parse error stays here.
    loader
      .parseAsync(bytes.slice().buffer, '')
      .then((gltf) => ready.set(manifest.hash, fitted(gltf.scene)))
      .catch(() => failed.add(manifest.hash));
  };
  assets.events.on('received', ({ manifest, bytes }) => load(manifest, bytes));
  // This page's own model: drawn once the server took it (the server offers it to the others, not back).
  assets.events.on('uploaded', (manifest) => load(manifest, assets.get(manifest.hash)));
  return {
    instance(hash) {
      const model = ready.get(hash)?.clone();
      // Own materials per copy: a held object is tinted in its holder's colour, the others stay as they are.
      model?.traverse((node) => {
        const mesh = node as THREE.Mesh;
        if (mesh.isMesh) mesh.material = (mesh.material as THREE.Material).clone();
      });
      return model ?? null;
    },
    async share(bytes, name) {
      const m = await assets.offer(bytes, { name: name.slice(0, 128), mime: GLB_MIME });
      return m.hash;
    },
    list: () => ({ ready: [...ready.keys()], failed: [...failed] }),
  };
}

/** `object` centred and scaled to fit a ball of MODEL_RADIUS_M. */
function fitted(object: THREE.Object3D): THREE.Object3D {
  const sphere = new THREE.Box3().setFromObject(object).getBoundingSphere(new THREE.Sphere());
  const s = sphere.radius > 0 ? MODEL_RADIUS_M / sphere.radius : 1;
  const wrapper = new THREE.Group();
  object.position.sub(sphere.center);
  wrapper.add(object);
  wrapper.scale.setScalar(s);
  return wrapper;
}

/**
 * The view of a 'model' object: a box the size of the model that rays hit (for grabbing and selecting), drawn as a
 * wireframe while the model is on its way and invisible (but still hit) once `attachModel` put it inside.
 */
export function createModelSlot(): THREE.Mesh {
  const box = new THREE.BoxGeometry(MODEL_RADIUS_M * 1.6, MODEL_RADIUS_M * 1.6, MODEL_RADIUS_M * 1.6);
  return new THREE.Mesh(box, new THREE.MeshBasicMaterial({ color: 0x9fb0c8, wireframe: true, transparent: true }));
}

/** Puts a loaded model inside its slot and hides the wireframe. */
export function attachModel(slot: THREE.Mesh, model: THREE.Object3D): void {
  const m = slot.material as THREE.MeshBasicMaterial;
  m.opacity = 0;
  m.depthWrite = false;
  slot.add(model);
}
