/**
 * Poses of tracked controllers. Left and right are two separate components of the same shape (not one component
 * with a hand field): a `query(world, [RightControllerPose])` finds right hands directly, and the wire stays lean,
 * since a never-changing hand field would cost a field mask in every pose update.
 */
import { createTrackedPose, type TrackedPose } from './tracked-pose.ts';

/** Pose of one tracked controller (left or right hand). */
export type ControllerPose = TrackedPose;

/** Allocates one controller-pose component (call twice: left and right) for entity ids below `capacity`. */
export function createControllerPose(capacity: number): ControllerPose {
  return createTrackedPose(capacity);
}
