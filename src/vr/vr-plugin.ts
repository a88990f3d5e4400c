/**
 * `addVrPoses(world, options)`: adds the VR pose layer to a world that already has a network plugin. On a client it
 * streams the owned head and controllers (InputPoses) instead of the generic owner-write path, reconciles them with
 * the server's corrections, and interpolates everyone else; on the server it validates the streams, applies them to
 * the replicated pose arrays and corrects owners. The systems that run it each frame are in `systems/`
 * (`reconciliationSystem`, `poseInputSystem`, `interpolationSystem`); `createVrPlugin` returns them in order.
 *
 * @example
 * // shared protocol module
 * const vr = createPoseComponents(4096);
 * registerPoseComponents(protocol, vr);
 * // client
 * const net = createNetworkPlugin(world, { role: 'client', protocol, transport });
 * addVrPoses(world, { components: vr });
 * // each frame: write XR input into vr.HeadPose / vr.RightControllerPose ... of your owned entities, then
 * // pipe(net.receive, reconciliationSystem, poseInputSystem, net.send, interpolationSystem); draw vr.RenderPose.
 */
import type { PoseComponents } from '../../components/pose-components.ts';
import { getNetContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { createClientPoseExtension } from './client-pose-extension.ts';
import type { PositionInterpolation } from './interpolation-buffer.ts';
import { registeredPosesOf } from './pose-protocol.ts';
import { MAX_STREAM_TICKS, PoseStreamCodec } from './pose-stream-codec.ts';
import { DEFAULT_RECONCILE_OPTIONS, type ReconcileOptions } from './reconciliation.ts';
import { DEFAULT_RENDER_DELAY_OPTIONS, type RenderDelayOptions } from './render-delay.ts';
import { ServerPoseReceiver } from './server-pose-extension.ts';
import { DEFAULT_RETIME_OPTIONS, PoseRetimer } from './pose-retimer.ts';
import { type DeviceKindId, type PoseValidationOptions, PoseValidator } from './server-pose-validator.ts';
import { createPoseWriteRule } from './pose-write-rule.ts';
import { POSE_HISTORY_TICKS } from './pose-history.ts';
import {
  createVrScratch,
  deleteVrContext,
  findVrContext,
  getVrContext,
  setVrContext,
  type VrClientContext,
  type VrClientStats,
  type VrServerContext,
  type VrServerStats,
} from './vr-context.ts';

/** Default ticks per InputPoses message: each tick travels 3 times, so 2 losses in a row lose nothing. */
export const DEFAULT_REDUNDANT_TICKS = 3;
/** Default horizon: viewers may extrapolate an owner's devices with its velocities for up to 250 ms (SPEC 6). */
export const DEFAULT_HORIZON_MS = 250;
/** Default longest extrapolation of any remote device before it holds (SPEC 6). */
export const DEFAULT_MAX_EXTRAPOLATION_MS = 250;
/** Packet bytes a client leaves to its pose stream: 3 devices x 3 ticks with velocities is ~90 B; 192 B leaves room. */
const CLIENT_RESERVED_BYTES = 192;
/** Packet bytes the server leaves to Corrections: a few devices at ~14 B each. */
const SERVER_RESERVED_BYTES = 64;

/** Options of `addVrPoses`. */
export interface VrPosesOptions {
  /** The pose components registered in the protocol with `registerPoseComponents`. */
  components: PoseComponents;
  /** Client: ticks per InputPoses message, 1..8 (redundancy against loss). */
  redundantTicks?: number;
  /** Client: how far viewers may extrapolate this client's devices (ms). */
  horizonMs?: number;
  /** Client: reconciliation tolerances and blend time (the blend also smooths remote recoveries). */
  reconcile?: Partial<ReconcileOptions>;
  /** Client: remote position interpolation; 'hermite' uses the samples' velocities, 'linear' is a plain lerp. */
  interpolation?: PositionInterpolation;
  /** Client: longest extrapolation of a remote device before it holds (ms). */
  maxExtrapolationMs?: number;
  /** Client: adaptive render delay tuning. */
  delay?: Partial<RenderDelayOptions>;
  /** Server: what to check on owner poses. */
  validation?: PoseValidationOptions;
  /**
   * Server: the jitter buffer of owner streams (pose-retimer.ts). On by default: each server tick sends every
   * device's pose at a render time a little behind its owner's newest sample, so viewers get one sample per tick
   * however the owner's packets fall between ticks. `false` writes each newest accepted pose at once (lower
   * delay, holes and a bimodal lag under jitter); an object tunes the server's delay like `delay` tunes a client's.
   */
  retime?: boolean | Partial<RenderDelayOptions>;
}

/** Counters of a world's VR layer. */
export type VrStats = VrClientStats | VrServerStats;

/** What `addVrPoses` returns. */
export interface VrPoses {
  /** Whether this VR layer runs on the server or a client. */
  readonly role: 'server' | 'client';
  /** Counters (client: stream bytes, corrections, render modes; server: inputs, corrections, rejections). */
  stats(): VrStats;
  /** Removes the VR layer from the world (the network plugin stays). */
  dispose(): void;
}

function checkRange(name: string, v: number, min: number, max: number): number {
  if (!Number.isFinite(v) || v < min || v > max) usageError(`${name} ${v} is out of range`, `pass ${min}..${max}`);
  return v;
}

/** Checks a render-delay tuning (a Usage NetError names the first option out of range, under `name`). */
function checkDelay(d: RenderDelayOptions, name = 'delay'): RenderDelayOptions {
  checkRange(`${name}.jitterFactor`, d.jitterFactor, 0, 10);
  checkRange(`${name}.intervalFactor`, d.intervalFactor, 0, 4);
  checkRange(`${name}.lagWindow`, d.lagWindow, 2, 65_536);
  checkRange(`${name}.minDelayMs`, d.minDelayMs, 0, d.maxDelayMs);
  checkRange(`${name}.maxDelayMs`, d.maxDelayMs, 0, 10_000);
  checkRange(`${name}.slewRate`, d.slewRate, 0, 1);
  checkRange(`${name}.hysteresisMs`, d.hysteresisMs, 0, 1000);
  checkRange(`${name}.approachMs`, d.approachMs, 0, 1000);
  checkRange(`${name}.allowanceMs`, d.allowanceMs, 0, 10_000);
  return d;
}

/** Adds the VR pose layer to `world` (after `createNetworkPlugin`, with the same pose components as the protocol). */
export function addVrPoses(world: object, options: VrPosesOptions): VrPoses {
  const net = getNetContext(world);
  const protocol = net.replicator.protocol;
  const poses = registeredPosesOf(protocol);
  if (!poses)
    usageError('the protocol has no VR pose components', 'call registerPoseComponents(protocol, components) first');
  if (poses.head.store !== options.components.HeadPose)
    usageError(
      'options.components are not the ones registered in the protocol',
      'pass the same createPoseComponents result',
    );
  const codec = new PoseStreamCodec(poses.quantization);
  if (net.role === 'client') {
    const ctx: VrClientContext = {
      role: 'client',
      net,
      components: options.components,
      poses,
      codec,
      options: {
        redundantTicks: checkRange(
          'redundantTicks',
          options.redundantTicks ?? DEFAULT_REDUNDANT_TICKS,
          1,
          MAX_STREAM_TICKS,
        ),
        horizonMs: checkRange('horizonMs', options.horizonMs ?? DEFAULT_HORIZON_MS, 0, 1020),
        reconcile: { ...DEFAULT_RECONCILE_OPTIONS, ...options.reconcile },
        interpolation: options.interpolation ?? 'hermite',
        maxExtrapolationMs: checkRange(
          'maxExtrapolationMs',
          options.maxExtrapolationMs ?? DEFAULT_MAX_EXTRAPOLATION_MS,
          0,
          10_000,
        ),
        delay: checkDelay({ ...DEFAULT_RENDER_DELAY_OPTIONS, ...options.delay }),
      },
      onError: net.onError,
      owned: new Map(),
      remote: new Map(),
      owners: new Map(),
      corrections: [],
      tickTimes: new Float64Array(POSE_HISTORY_TICKS),
      tickOf: new Float64Array(POSE_HISTORY_TICKS).fill(-1),
      becamePredicted: [],
      becameInterpolated: [],
      untracked: [],
      scratch: createVrScratch(),
      stats: {
        posePackets: 0,
        poseBytes: 0,
        corrections: 0,
        rebases: 0,
        decodeErrors: 0,
        interpolatedFrames: 0,
        extrapolatedFrames: 0,
        heldFrames: 0,
      },
    };
    setVrContext(world, ctx);
    const rep = net.replicator;
    const excluded = [poses.head.id, poses.left.id, poses.right.id];
    for (const c of excluded) rep.ownerWriteExcluded[c] = 1;
    rep.reservedBytes += CLIENT_RESERVED_BYTES;
    const ext = createClientPoseExtension(ctx);
    rep.extensions.push(ext);
    return {
      role: 'client',
      stats: () => ({ ...ctx.stats }),
      dispose() {
        const i = rep.extensions.indexOf(ext);
        if (i >= 0) rep.extensions.splice(i, 1);
        for (const c of excluded) rep.ownerWriteExcluded[c] = 0;
        rep.reservedBytes -= CLIENT_RESERVED_BYTES;
        deleteVrContext(world);
      },
    };
  }
  let receiver: ServerPoseReceiver | null = null;
  const ctx: VrServerContext = {
    role: 'server',
    net,
    components: options.components,
    poses,
    stats: {
      inputMessages: 0,
      acceptedTicks: 0,
      correctedTicks: 0,
      correctionMessages: 0,
      rejectedDevices: 0,
      decodeErrors: 0,
    },
    clockOffsetMs: (clientId) => (receiver ? receiver.clockOffsetMs(clientId) : NaN),
  };
  const validator = new PoseValidator(options.validation);
  const retime = options.retime ?? true;
  const retimer =
    retime === false
      ? null
      : new PoseRetimer(checkDelay({ ...DEFAULT_RETIME_OPTIONS, ...(retime === true ? {} : retime) }, 'retime'));
  receiver = new ServerPoseReceiver(ctx, codec, validator, retimer);
  receiver.onError = net.onError;
  setVrContext(world, ctx);
  const rep = net.replicator;
  // The same pose checks on every other path that writes a pose (owner Deltas, server writes for a client).
  const removeRules = [poses.head, poses.left, poses.right].map((reg, kind) =>
    rep.writeGate.addRule(reg.id, createPoseWriteRule(validator, kind as DeviceKindId)),
  );
  rep.reservedBytes += SERVER_RESERVED_BYTES;
  rep.extensions.push(receiver);
  const ext = receiver;
  return {
    role: 'server',
    stats: () => ({ ...ctx.stats }),
    dispose() {
      const i = rep.extensions.indexOf(ext);
      if (i >= 0) rep.extensions.splice(i, 1);
      for (const remove of removeRules) remove();
      rep.reservedBytes -= SERVER_RESERVED_BYTES;
      deleteVrContext(world);
    },
  };
}

/** Client only: the render time (server clock, ms) a remote device was last drawn at, or NaN. */
export function remoteRenderTimeMs(world: object, eid: number): number {
  const vr = findVrContext(world);
  if (!vr || vr.role !== 'client') return NaN;
  return vr.remote.get(eid)?.renderTimeMs ?? NaN;
}

/**
 * Server only: the offset (ms) that maps client `clientId`'s capture clock onto the server clock (the client's clock
 * offset plus its smallest one-way transit), or NaN before its first pose message.
 */
export function poseClockOffsetMs(world: object, clientId: number): number {
  const vr = getVrContext(world);
  return vr.role === 'server' ? vr.clockOffsetMs(clientId) : NaN;
}

/** The VR layer's counters of `world`. */
export function vrStatsOf(world: object): VrStats {
  const vr = getVrContext(world);
  return { ...vr.stats };
}
