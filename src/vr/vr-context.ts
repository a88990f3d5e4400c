/**
 * Per-world state of the VR pose layer, found through a WeakMap like the network context: systems keep nothing at
 * module level, and a disposed world's state goes with it.
 */
import type { PoseComponents } from '../../components/pose-components.ts';
import type { TrackedPose } from '../../components/tracked-pose.ts';
import type { ClientContext, ServerContext } from '../context.ts';
import { type ErrorHandler, usageError } from '../errors.ts';
import type { PositionInterpolation, InterpolationBuffer, SampleModeId } from './interpolation-buffer.ts';
import type { RegisteredPoses } from './pose-protocol.ts';
import { POSE_LENGTH } from './pose-history.ts';
import type { PoseStreamCodec } from './pose-stream-codec.ts';
import type { OwnedPoseState, ReconcileOptions } from './reconciliation.ts';
import type { RenderDelay, RenderDelayOptions } from './render-delay.ts';
import type { DeviceKindId } from './server-pose-validator.ts';

/** Client options after defaults. */
export interface ResolvedClientOptions {
  redundantTicks: number;
  horizonMs: number;
  reconcile: ReconcileOptions;
  interpolation: PositionInterpolation;
  maxExtrapolationMs: number;
  delay: RenderDelayOptions;
}

/** Counters of a client's VR layer. */
export interface VrClientStats {
  /** InputPoses messages sent and their bytes (tag included). */
  posePackets: number;
  /** Bytes of the InputPoses messages sent (tag included). */
  poseBytes: number;
  /** Corrections received, and how many made the owner rebase. */
  corrections: number;
  /** Corrections that made the owner rebase its prediction. */
  rebases: number;
  /** Malformed Correction messages dropped. */
  decodeErrors: number;
  /** Remote device frames rendered interpolating, extrapolating and holding. */
  interpolatedFrames: number;
  /** Remote device frames rendered extrapolating (no newer sample yet). */
  extrapolatedFrames: number;
  /** Remote device frames rendered holding a pose (past the extrapolation horizon, or no owner stream yet). */
  heldFrames: number;
}

/** Counters of the server's VR layer. */
export interface VrServerStats {
  /** InputPoses messages received and device ticks accepted (validated and applied). */
  inputMessages: number;
  /** Device ticks accepted (validated and applied). */
  acceptedTicks: number;
  /** Ticks whose accepted pose differs from what the owner sent. */
  correctedTicks: number;
  /** Correction messages sent. */
  correctionMessages: number;
  /** Device entries refused: not owned by the sender, unknown, or not a tracked device. */
  rejectedDevices: number;
  /** Malformed InputPoses messages dropped. */
  decodeErrors: number;
}

/** A device this client owns. */
export interface OwnedDevice {
  readonly eid: number;
  readonly netId: number;
  readonly kind: DeviceKindId;
  readonly store: TrackedPose;
  readonly state: OwnedPoseState;
  /** Whether a raw pose was captured since it became owned. */
  captured: boolean;
  /** Still owned in this frame's scan. */
  seen: boolean;
}

/** A device someone else owns, rendered from its samples. */
export interface RemoteDevice {
  readonly eid: number;
  readonly netId: number;
  readonly kind: DeviceKindId;
  readonly store: TrackedPose;
  readonly buffer: InterpolationBuffer;
  owner: number;
  /** Still present in this frame's scan. */
  seen: boolean;
  lastStamp: number;
  /** Whether the newest sample's fields matched its stamp's check (else it is repaired when they arrive). */
  complete: boolean;
  horizonMs: number;
  mode: SampleModeId;
  /** Render time used last frame (sample timeline, ms), and that frame's local time. */
  renderTimeMs: number;
  lastNowMs: number;
  readonly displayed: Float64Array;
  hasDisplayed: boolean;
  readonly blendError: Float64Array;
  blendStartMs: number;
}

/** Timeline state of one remote owner (all its devices share a delay). */
export interface RemoteOwner {
  readonly delay: RenderDelay;
  lastSampleMs: number;
  lastArrivalMs: number;
}

/** A correction waiting for the reconciliation system. */
export interface PendingCorrection {
  eid: number;
  tick: number;
  readonly pose: Float64Array;
}

/** Working poses of a client world's VR systems (one set per world, so nothing is shared between worlds). */
export interface VrScratch {
  readonly pose: Float64Array;
  readonly velocity: Float64Array;
  readonly base: Float64Array;
  readonly continuation: Float64Array;
  readonly render: Float64Array;
}

/** A fresh VrScratch. */
export function createVrScratch(): VrScratch {
  return {
    pose: new Float64Array(POSE_LENGTH),
    velocity: new Float64Array(6),
    base: new Float64Array(POSE_LENGTH),
    continuation: new Float64Array(POSE_LENGTH),
    render: new Float64Array(POSE_LENGTH),
  };
}

/** VR state of a client world. */
export interface VrClientContext {
  readonly role: 'client';
  readonly net: ClientContext;
  readonly components: PoseComponents;
  readonly poses: RegisteredPoses;
  readonly codec: PoseStreamCodec;
  readonly options: ResolvedClientOptions;
  readonly onError: ErrorHandler | undefined;
  readonly owned: Map<number, OwnedDevice>;
  readonly remote: Map<number, RemoteDevice>;
  readonly owners: Map<number, RemoteOwner>;
  readonly corrections: PendingCorrection[];
  /** Capture time of each sent tick (ring by tick % length), for the stream's time fields. */
  readonly tickTimes: Float64Array;
  readonly tickOf: Float64Array;
  /** Entities whose tags must change; systems apply and clear these lists. */
  readonly becamePredicted: number[];
  readonly becameInterpolated: number[];
  readonly untracked: number[];
  readonly stats: VrClientStats;
  readonly scratch: VrScratch;
}

/** VR state of a server world. */
export interface VrServerContext {
  readonly role: 'server';
  readonly net: ServerContext;
  readonly components: PoseComponents;
  readonly poses: RegisteredPoses;
  readonly stats: VrServerStats;
  /** Offset (ms) that maps a client's capture clock onto the server clock (server = client + offset). */
  clockOffsetMs(clientId: number): number;
}

/** VR state of a world. */
export type VrContext = VrClientContext | VrServerContext;

const contexts = new WeakMap<object, VrContext>();

/** Attaches `ctx` to `world`; a world has at most one VR pose layer. */
export function setVrContext(world: object, ctx: VrContext): void {
  if (contexts.has(world)) usageError('this world already has VR poses', 'call addVrPoses once per world');
  contexts.set(world, ctx);
}

/** Detaches the VR context of `world`. */
export function deleteVrContext(world: object): void {
  contexts.delete(world);
}

/** The VR context of `world`; throws a Usage error when it has none. */
export function getVrContext(world: object): VrContext {
  const ctx = contexts.get(world);
  if (!ctx) usageError('this world has no VR poses', 'call addVrPoses(world, options) after createNetworkPlugin');
  return ctx;
}

/** The VR context of `world`, or undefined. */
export function findVrContext(world: object): VrContext | undefined {
  return contexts.get(world);
}

/** The store and kind of a replicated entity's tracked-pose component, or -1 when it has none. */
export function deviceKindOf(has: readonly Uint8Array[], poses: RegisteredPoses, eid: number): DeviceKindId | -1 {
  if (has[poses.head.id][eid]) return 0;
  if (has[poses.left.id][eid]) return 1;
  if (has[poses.right.id][eid]) return 2;
  return -1;
}

/** The tracked-pose store of a device kind. */
export function storeOf(components: PoseComponents, kind: DeviceKindId): TrackedPose {
  return kind === 0 ? components.HeadPose : kind === 1 ? components.LeftControllerPose : components.RightControllerPose;
}

/**
 * Writes a pose (7 numbers: position, rotation) and, when the component has them and `velocity` is given, its
 * velocities (6 numbers; zeros when null) into the replicated arrays of `store` at `eid`.
 */
export function writeTrackedPose(
  store: TrackedPose,
  eid: number,
  pose: ArrayLike<number>,
  hasVelocities: boolean,
  velocity: ArrayLike<number> | null,
): void {
  store.px[eid] = pose[0];
  store.py[eid] = pose[1];
  store.pz[eid] = pose[2];
  store.qx[eid] = pose[3];
  store.qy[eid] = pose[4];
  store.qz[eid] = pose[5];
  store.qw[eid] = pose[6];
  if (!hasVelocities) return;
  store.vx[eid] = velocity ? velocity[0] : 0;
  store.vy[eid] = velocity ? velocity[1] : 0;
  store.vz[eid] = velocity ? velocity[2] : 0;
  store.wx[eid] = velocity ? velocity[3] : 0;
  store.wy[eid] = velocity ? velocity[4] : 0;
  store.wz[eid] = velocity ? velocity[5] : 0;
}
