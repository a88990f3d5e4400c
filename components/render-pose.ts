/**
 * What to draw for every tracked device, owned or remote: the owner's predicted pose (corrections blended in) or a
 * remote device's interpolated pose. three.js code reads only this component. Local, never replicated.
 */

/** SoA arrays of the pose to render. */
export interface RenderPose {
  /** World-space x position to draw, in metres. */
  px: Float32Array;
  /** World-space y position to draw, in metres. */
  py: Float32Array;
  /** World-space z position to draw, in metres. */
  pz: Float32Array;
  /** Orientation to draw: x of the unit quaternion. */
  qx: Float32Array;
  /** Orientation to draw: y of the unit quaternion. */
  qy: Float32Array;
  /** Orientation to draw: z of the unit quaternion. */
  qz: Float32Array;
  /** Orientation to draw: w of the unit quaternion (1 at allocation: the identity). */
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
