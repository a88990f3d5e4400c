/**
 * A held object's attachment: while `holder` is set, the object is drawn rigidly at `offset` (position, then
 * rotation xyzw) in the holder's frame, on every peer, from the holder's RenderPose of that frame. Replicated (the
 * holder's owner writes it; see `registerAttachment`): holder is an entity reference, 0 when free.
 */

/** SoA arrays of the attachment. */
export interface Attachment {
  holder: Uint32Array;
  ox: Float32Array;
  oy: Float32Array;
  oz: Float32Array;
  qx: Float32Array;
  qy: Float32Array;
  qz: Float32Array;
  qw: Float32Array;
}

/** Allocates the attachment component for entity ids below `capacity`. */
export function createAttachment(capacity: number): Attachment {
  return {
    holder: new Uint32Array(capacity),
    ox: new Float32Array(capacity),
    oy: new Float32Array(capacity),
    oz: new Float32Array(capacity),
    qx: new Float32Array(capacity),
    qy: new Float32Array(capacity),
    qz: new Float32Array(capacity),
    qw: new Float32Array(capacity).fill(1),
  };
}
