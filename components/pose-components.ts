/**
 * Every component of the VR pose layer, created together for one world. Tests and servers run several worlds in one
 * process, so components are made by a factory sized by a capacity rather than shared module globals.
 *
 * @example
 * const vr = createPoseComponents(4096);
 * registerPoseComponents(protocol, vr); // in the shared protocol module, same order on every peer
 */
import { createControllerPose, type ControllerPose } from './controller-pose.ts';
import { createGripState, type GripState } from './grip-state.ts';
import { createHeadPose, type HeadPose } from './head-pose.ts';
import { createInterpolated, type Interpolated } from './interpolated.ts';
import { createPredicted, type Predicted } from './predicted.ts';
import { createRenderPose, type RenderPose } from './render-pose.ts';

/** Default entity capacity of `createPoseComponents`: 4,096 entities is a large room with its objects. */
export const DEFAULT_POSE_CAPACITY = 4096;

/** The VR pose components of one world. */
export interface PoseComponents {
  readonly capacity: number;
  readonly HeadPose: HeadPose;
  readonly LeftControllerPose: ControllerPose;
  readonly RightControllerPose: ControllerPose;
  readonly GripState: GripState;
  /** Local output: what to draw for every tracked device. */
  readonly RenderPose: RenderPose;
  /** Tag on devices owned here (predicted). */
  readonly Predicted: Predicted;
  /** Tag on remote devices (interpolated). */
  readonly Interpolated: Interpolated;
}

/** Creates the VR pose components for entity ids below `capacity`. */
export function createPoseComponents(capacity = DEFAULT_POSE_CAPACITY): PoseComponents {
  return {
    capacity,
    HeadPose: createHeadPose(capacity),
    LeftControllerPose: createControllerPose(capacity),
    RightControllerPose: createControllerPose(capacity),
    GripState: createGripState(capacity),
    RenderPose: createRenderPose(capacity),
    Predicted: createPredicted(),
    Interpolated: createInterpolated(),
  };
}
