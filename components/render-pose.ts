/**
 * What to draw for every tracked device, owned or remote: the owner's predicted pose (corrections blended in) or a
 * remote device's interpolated pose. three.js code reads only this component. Local, never replicated.
 */

/** SoA arrays of the pose to render. */
export interface RenderPose {
  px: Float32Array;
  py: Float32Array;
  pz: Float32Array;
  qx: Float32Array;
  qy: Float32Array;
  qz: Float32Array;
  qw: Float32Array;
}

/** Allocates the render-pose component for entity ids below `capacity`. */
export function createRenderPose(capacity: number): RenderPose {
  return {
    px: new Float32Array(capacity),
    py: new Float32Array(capacity),
    pz: new Float32Array(capacity),
    qx: new Float32Array(capacity),
    qy: new Float32Array(capacity),
    qz: new Float32Array(capacity),
    qw: new Float32Array(capacity).fill(1),
  };
}
