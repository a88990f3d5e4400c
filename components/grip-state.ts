/**
 * Buttons of a tracked controller: analog grip and trigger (0..1) and a bitmask of pressed buttons. Replicated by
 * the generic owner-write path (it changes rarely and needs no validation beyond its schema range).
 */

/** SoA arrays of the grip state. */
export interface GripState {
  /** Analog grip squeeze per entity, 0 (released) to 1 (fully squeezed). */
  grip: Float32Array;
  /** Analog trigger pull per entity, 0 (released) to 1 (fully pulled). */
  trigger: Float32Array;
  /** Bit i set = button i pressed (WebXR gamepad button order). */
  buttons: Uint16Array;
}

/** Allocates the grip-state component for entity ids below `capacity`. */
export function createGripState(capacity: number): GripState {
  return {
    grip: new Float32Array(capacity),
    trigger: new Float32Array(capacity),
    buttons: new Uint16Array(capacity),
  };
}
