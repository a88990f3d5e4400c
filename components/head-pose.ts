import { createTrackedPose, type TrackedPose } from './tracked-pose.ts';

/** Pose of a user's head (HMD): one entity per user, owned by that user's client. */
export type HeadPose = TrackedPose;

/** Allocates the head-pose component for entity ids below `capacity`. */
export function createHeadPose(capacity: number): HeadPose {
  return createTrackedPose(capacity);
}
