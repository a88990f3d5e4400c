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
  /** Entity capacity the arrays were sized for: entity ids must be below it. */
  readonly capacity: number;
  /** Head pose (the XR viewer) of each head entity: owner input, validated by the server, replicated. */
  readonly HeadPose: HeadPose;
  /** Left controller pose of each left-hand entity: owner input, validated by the server, replicated. */
  readonly LeftControllerPose: ControllerPose;
  /** Right controller pose of each right-hand entity: owner input, validated by the server, replicated. */
  readonly RightControllerPose: ControllerPose;
  /** Grip, trigger and button state of each controller entity, replicated by the owner-write path. */
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
