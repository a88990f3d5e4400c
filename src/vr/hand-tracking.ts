/**
 * `addHandTracking(world, options)`: adds WebXR hand tracking on top of the VR pose layer. A tracked hand is a left or
 * right controller entity whose TrackedHand is set: its controller pose is the wrist, and its 25 joints travel as
 * 23 quantized parameters (finger splay and curls, palm fold, hand size), delta-coded against frames the receiver
 * acked (HandInput up, HandFrames down; wire.md). Viewers draw remote hands at the same render time as the devices,
 * so a hand switches between controller and tracked hand without a new entity or a gap.
 *
 * @example
 * const hands = createHandComponents(4096);
 * addVrPoses(world, { components: vr });
 * addHandTracking(world, { hands });
 * // each XR frame, for an owned controller entity whose input source has a hand:
 * writeHandJoints(world, eid, jointPoses); // 25 x 7 (from XRFrame.getJointPose), or null for a controller
 * // pipe(net.receive, reconciliationSystem, poseInputSystem, net.send, interpolationSystem, handRenderSystem);
 * // draw hands.RenderHand.joints where hands.RenderHand.tracked[eid], else the controller at vr.RenderPose
 */
import type { HandComponents } from '../../components/hand-components.ts';
import { HAND_JOINTS_LENGTH } from '../../components/tracked-hand.ts';
import { getNetContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { createClientHandExtension } from './client-hand-extension.ts';
import {
  deleteHandContext,
  findHandContext,
  type HandClientContext,
  type HandClientStats,
  type HandServerContext,
  type HandServerStats,
  setHandContext,
} from './hand-context.ts';
import { HandCalibrationStore } from './hand-calibration-store.ts';
import { HandFitter } from './hand-fit.ts';
import { HAND_PARAM_COUNT } from './hand-skeleton.ts';
import { HandStreamCodec } from './hand-stream-codec.ts';
import { ServerHandExtension } from './server-hand-extension.ts';
import { deviceKindOf, findVrContext } from './vr-context.ts';

/** Remote hands' calibrations a client keeps (as many as the hands it keeps stream state for). */
export const MAX_RECEIVED_CALIBRATIONS = 128;
/** Hand calibrations the server keeps (two per user of a large room, with room to spare). */
export const MAX_SERVER_CALIBRATIONS = 1024;

/** Options of `addHandTracking`. */
export interface HandTrackingOptions {
  /** The world's hand components (`createHandComponents`), sized like the pose components. */
  hands: HandComponents;
}

/** Counters of a world's hand layer. */
export type HandStats = HandClientStats | HandServerStats;

/** What `addHandTracking` returns. */
export interface HandTracking {
  /** Whether this hand layer runs on the server or a client. */
  readonly role: 'server' | 'client';
  /** Counters (client: HandInput sent, HandFrames received; server: hands accepted, refused, relayed). */
  stats(): HandStats;
  /** Removes the hand layer (the VR layer stays). */
  dispose(): void;
}

/** Adds hand tracking to `world` (after `addVrPoses`). */
export function addHandTracking(world: object, options: HandTrackingOptions): HandTracking {
  const net = getNetContext(world);
  const vr = findVrContext(world);
  if (!vr) usageError('this world has no VR poses', 'call addVrPoses(world, options) before addHandTracking');
  const hands = options.hands;
  if (!hands || !hands.TrackedHand || !hands.RenderHand)
    usageError('options.hands is not a set of hand components', 'pass createHandComponents(capacity)');
  const fitter = new HandFitter();
  const codec = new HandStreamCodec();
  const rel = new Float64Array(HAND_JOINTS_LENGTH);
  if (vr.role === 'client' && net.role === 'client') {
    const hx: HandClientContext = {
      role: 'client',
      vr,
      components: hands,
      fitter,
      codec,
      remote: new Map(),
      shapes: new HandCalibrationStore(MAX_RECEIVED_CALIBRATIONS),
      onError: net.onError,
      rel,
      values: new Float64Array(HAND_PARAM_COUNT),
      stats: {
        inputMessages: 0,
        inputBytes: 0,
        trackedHandsSent: 0,
        wholeBodiesSent: 0,
        oversize: 0,
        frameMessages: 0,
        handSamples: 0,
        decodeErrors: 0,
        missingBaselines: 0,
        unplacedSamples: 0,
        evictedHands: 0,
        calibrationsSent: 0,
        calibrationBytes: 0,
        calibrationsReceived: 0,
        calibrationsRefused: 0,
      },
    };
    setHandContext(world, hx);
    const ext = createClientHandExtension(hx);
    const rep = net.replicator;
    rep.extensions.push(ext);
    return {
      role: 'client',
      stats: () => ({ ...hx.stats }),
      dispose() {
        const i = rep.extensions.indexOf(ext);
        if (i >= 0) rep.extensions.splice(i, 1);
        deleteHandContext(world);
      },
    };
  }
  if (vr.role !== 'server' || net.role !== 'server') usageError('mismatched VR and network roles', 'use one world');
  const hx: HandServerContext = {
    role: 'server',
    vr,
    components: hands,
    fitter,
    codec,
    hands: new Map(),
    shapes: new HandCalibrationStore(MAX_SERVER_CALIBRATIONS),
    onError: net.onError,
    rel,
    stats: {
      inputMessages: 0,
      acceptedHands: 0,
      rejectedHands: 0,
      decodeErrors: 0,
      missingBaselines: 0,
      unplacedSamples: 0,
      frameMessages: 0,
      frameBytes: 0,
      handsSent: 0,
      calibrationsAccepted: 0,
      calibrationsRefused: 0,
      calibrationsRelayed: 0,
    },
  };
  setHandContext(world, hx);
  const ext = new ServerHandExtension(hx);
  const rep = net.replicator;
  rep.extensions.push(ext);
  return {
    role: 'server',
    stats: () => ({ ...hx.stats }),
    dispose() {
      const i = rep.extensions.indexOf(ext);
      if (i >= 0) rep.extensions.splice(i, 1);
      deleteHandContext(world);
    },
  };
}

/**
 * Owner: sets controller entity `eid`'s hand input for this frame: `joints` are the 25 joint poses (px, py, pz, qx,
 * qy, qz, qw each, WebXR joint order, in the space of the controller pose), and the wrist joint becomes the
 * controller pose; null marks the input source a controller again (the app writes the controller pose itself).
 */
export function writeHandJoints(world: object, eid: number, joints: ArrayLike<number> | null): void {
  const hx = findHandContext(world);
  if (!hx) usageError('this world has no hand tracking', 'call addHandTracking(world, options) first');
  const { TrackedHand } = hx.components;
  if (eid >= TrackedHand.tracked.length) usageError(`entity ${eid} is beyond the hand capacity`, 'raise the capacity');
  if (joints === null) {
    TrackedHand.tracked[eid] = 0;
    return;
  }
  if (joints.length < HAND_JOINTS_LENGTH) usageError('joints has fewer than 25 x 7 numbers', 'pass every joint pose');
  const reg = hx.vr.net.replicator.registry;
  const kind = deviceKindOf(reg.has, hx.vr.poses, eid);
  if (kind < 1) usageError(`entity ${eid} is not a left or right controller`, 'track hands on controller entities');
  const o = eid * HAND_JOINTS_LENGTH;
  for (let k = 0; k < HAND_JOINTS_LENGTH; k++) TrackedHand.joints[o + k] = joints[k];
  TrackedHand.tracked[eid] = 1;
  const store = kind === 1 ? hx.vr.components.LeftControllerPose : hx.vr.components.RightControllerPose;
  store.px[eid] = joints[0];
  store.py[eid] = joints[1];
  store.pz[eid] = joints[2];
  store.qx[eid] = joints[3];
  store.qy[eid] = joints[4];
  store.qz[eid] = joints[5];
  store.qw[eid] = joints[6];
}

/** The hand layer's counters of `world`. */
export function handStatsOf(world: object): HandStats {
  const hx = findHandContext(world);
  if (!hx) usageError('this world has no hand tracking', 'call addHandTracking(world, options) first');
  return { ...hx.stats };
}
