/**
 * The local controllers drawn as the real devices: three's XRControllerModelFactory reads each input source's
 * WebXR input profile (e.g. meta-quest-touch-plus) and loads its glTF model and button layout, from the room's own
 * origin (`/input-profiles`, served from the `@webxr-input-profiles/assets` package; no CDN). The block hand stays
 * until the model has loaded, and comes back if it cannot load.
 */
import { XRControllerModelFactory } from 'three/addons/webxr/XRControllerModelFactory.js';
import { INPUT_PROFILES_PATH } from './input-profiles-path.ts';
import type { LocalController } from './scene.ts';

/** What the debug handle reports: which hands show a loaded device model. */
export interface ControllerModels {
  loaded(): Array<{ handedness: string; model: boolean }>;
  /** Whether `controller` shows its device model now. */
  has(controller: LocalController): boolean;
}

/** Attaches a device model to each local controller's grip. */
export function attachControllerModels(controllers: readonly LocalController[]): ControllerModels {
  const factory = new XRControllerModelFactory().setPath(INPUT_PROFILES_PATH);
  const loaded = new Set<LocalController>();
  for (const c of controllers) {
    const model = factory.createControllerModel(c.grip);
    c.grip.add(model);
    // The factory adds the loaded glTF scene under the model (and removes it on disconnect).
    const changed = () => {
      const has = model.children.length > 0;
      if (has) loaded.add(c);
      else loaded.delete(c);
      c.mesh.visible = !has && !c.isHand; // a tracked hand draws the hand model instead (hand-views.ts)
    };
    model.addEventListener('childadded', changed);
    model.addEventListener('childremoved', changed);
  }
  return {
    loaded: () => controllers.map((c) => ({ handedness: c.handedness, model: loaded.has(c) })),
    has: (c) => loaded.has(c),
  };
}
