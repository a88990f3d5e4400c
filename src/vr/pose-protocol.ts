/**
 * Registers the VR pose components in a shared protocol, with 1 mm / smallest-three defaults. Both peers call it in
 * the same place of their shared protocol module.
 *
 * Wire per tracked device (head, left, right): px, py, pz quantized over the position range (16 bits each by
 * default), rot as smallest-three (32 bits), stamp (30 bits: capture time, horizon, check; see pose-stamp.ts), and
 * when enabled the linear and angular velocities (3 x 11 + 3 x 11 bits). Grip state: grip and trigger at 1/255 (8 bits each), buttons u16.
 *
 * @example
 * const protocol = createProtocol();
 * const vr = createPoseComponents(4096);
 * registerPoseComponents(protocol, vr);
 */
import type { PoseComponents } from '../../components/pose-components.ts';
import type { TrackedPose } from '../../components/tracked-pose.ts';
import { usageError } from '../errors.ts';
import { field, type FieldSpec } from '../protocol/field-schema.ts';
import { type Protocol, registerComponent, type RegisteredComponent } from '../register.ts';
import { DEFAULT_POSE_QUANTIZATION, type PoseQuantization } from './pose-quantization.ts';
import { STAMP_BITS } from './pose-stamp.ts';

/** Options of `registerPoseComponents`. */
export interface PoseProtocolOptions {
  /** Ranges and precisions; must be the same on every peer (it is part of the schema hash). */
  quantization?: PoseQuantization;
  /**
   * Replicate the owner's velocities so viewers extrapolate with them (SPEC 6). Default: controllers yes (fast hands
   * need it to hide latency), head no (it moves slowly; viewers estimate it from samples and save 8 bytes per update).
   */
  velocities?: {
    /** Replicate the head's velocities (default false). */
    head?: boolean;
    /** Replicate the controllers' velocities (default true). */
    controllers?: boolean;
  };
}

/** What `registerPoseComponents` registered. */
export interface RegisteredPoses {
  /** Ranges and precisions the pose fields were registered with. */
  readonly quantization: PoseQuantization;
  /** The registered head pose component. */
  readonly head: RegisteredComponent;
  /** The registered left controller pose component. */
  readonly left: RegisteredComponent;
  /** The registered right controller pose component. */
  readonly right: RegisteredComponent;
  /** The registered grip state component. */
  readonly grip: RegisteredComponent;
  /** Whether each device kind (head, left, right) replicates velocities. */
  readonly velocities: readonly [boolean, boolean, boolean];
}

const registrations = new WeakMap<Protocol, RegisteredPoses>();

function poseFields(q: PoseQuantization, velocities: boolean): Record<string, FieldSpec> {
  const p = field.quantized(q.positionMin, q.positionMax, q.positionPrecision);
  const fields: Record<string, FieldSpec> = {
    px: p,
    py: p,
    pz: p,
    rot: field.quat(['qx', 'qy', 'qz', 'qw'], q.quatBits),
    // A time stamp and check: never coarsened by fidelity levels (its low bits are the capture time).
    stamp: field.quantized(0, 2 ** STAMP_BITS - 1, 1, { exact: true }),
  };
  if (velocities) {
    const v = field.quantized(-q.velocityMax, q.velocityMax, q.velocityPrecision);
    const w = field.quantized(-q.angularMax, q.angularMax, q.angularPrecision);
    Object.assign(fields, { vx: v, vy: v, vz: v, wx: w, wy: w, wz: w });
  }
  return fields;
}

/** Registers HeadPose, LeftControllerPose, RightControllerPose and GripState, in that order. */
export function registerPoseComponents(
  protocol: Protocol,
  components: PoseComponents,
  options: PoseProtocolOptions = {},
): RegisteredPoses {
  if (registrations.has(protocol))
    usageError('registerPoseComponents was already called for this protocol', 'call it once per protocol');
  const q = options.quantization ?? DEFAULT_POSE_QUANTIZATION;
  const headVel = options.velocities?.head ?? false;
  const handVel = options.velocities?.controllers ?? true;
  const reg = (store: TrackedPose, name: string, vel: boolean) =>
    registerComponent(protocol, store, { name, fields: poseFields(q, vel) });
  const head = reg(components.HeadPose, 'HeadPose', headVel);
  const left = reg(components.LeftControllerPose, 'LeftControllerPose', handVel);
  const right = reg(components.RightControllerPose, 'RightControllerPose', handVel);
  const unit = field.quantized(0, 1, 1 / 255);
  const grip = registerComponent(protocol, components.GripState, {
    name: 'GripState',
    fields: { grip: unit, trigger: unit, buttons: field.u16() },
  });
  const result: RegisteredPoses = {
    quantization: q,
    head,
    left,
    right,
    grip,
    velocities: [headVel, handVel, handVel],
  };
  registrations.set(protocol, result);
  return result;
}

/** What `registerPoseComponents` registered in `protocol`, or undefined. */
export function registeredPosesOf(protocol: Protocol): RegisteredPoses | undefined {
  return registrations.get(protocol);
}
