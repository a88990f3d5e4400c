/**
 * A held object's attachment: while `holder` is set, the object is drawn rigidly at `offset` (position, then
 * rotation xyzw) in the holder's frame, on every peer, from the holder's RenderPose of that frame. Replicated (the
 * holder's owner writes it; see `registerAttachment`): holder is an entity reference, 0 when free.
 */

/** SoA arrays of the attachment. */
export interface Attachment {
  /** Entity id of the holder (a controller entity), 0 when the object is free. */
  holder: Uint32Array;
  /** Offset x in the holder's frame, in metres. */
  ox: Float32Array;
  /** Offset y in the holder's frame, in metres. */
  oy: Float32Array;
  /** Offset z in the holder's frame, in metres. */
  oz: Float32Array;
  /** Offset rotation in the holder's frame: x of the unit quaternion. */
  qx: Float32Array;
  /** Offset rotation in the holder's frame: y of the unit quaternion. */
  qy: Float32Array;
  /** Offset rotation in the holder's frame: z of the unit quaternion. */
  qz: Float32Array;
  /** Offset rotation in the holder's frame: w of the unit quaternion (1 at allocation: the identity). */
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
