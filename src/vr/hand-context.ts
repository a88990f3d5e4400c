/** Per-world state of the hand layer, found through a WeakMap (systems keep nothing at module level). */
import type { HandComponents } from '../../components/hand-components.ts';
import { type ErrorHandler, usageError } from '../errors.ts';
import type { HandCalibrationStore } from './hand-calibration-store.ts';
import type { HandFitter } from './hand-fit.ts';
import type { HandStreamCodec } from './hand-stream-codec.ts';
import type { RemoteHandBuffer } from './remote-hand-buffer.ts';
import type { VrClientContext, VrServerContext } from './vr-context.ts';

/** Counters of a client's hand layer. */
export interface HandClientStats {
  /** HandInput messages sent, their bytes (tag included), and the hand entries in them (tracked / whole bodies). */
  inputMessages: number;
  /** Bytes of the HandInput messages sent (tag included). */
  inputBytes: number;
  /** Hand entries sent with tracked joints (whole or delta-coded). */
  trackedHandsSent: number;
  /** Tracked hands sent whole (no baseline), not delta-coded against an acked frame. */
  wholeBodiesSent: number;
  /** HandInput messages that did not fit the packet (dropped; the next send codes against the same baseline). */
  oversize: number;
  /** HandFrames received and hand samples taken from them. */
  frameMessages: number;
  /** Hand samples taken from the HandFrames received. */
  handSamples: number;
  /** Malformed HandFrames dropped; messages cut short at a missing baseline; samples with no timeline yet. */
  decodeErrors: number;
  /** HandFrames cut short at a missing baseline (the rest of the message is skipped). */
  missingBaselines: number;
  /** Hand samples dropped because their sender has no timeline here yet. */
  unplacedSamples: number;
  /** Remote hands forgotten because the receive state was full. */
  evictedHands: number;
  /** HandCalibration messages sent (the owner's hand skeletons: first estimate, then each move past the threshold). */
  calibrationsSent: number;
  /** Bytes of the HandCalibration messages sent (tag included). */
  calibrationBytes: number;
  /** Remote hands' calibrations received and kept. */
  calibrationsReceived: number;
  /** Calibrations refused: malformed messages, implausible skeletons, or the store full. */
  calibrationsRefused: number;
}

/** Counters of the server's hand layer. */
export interface HandServerStats {
  /** HandInput messages received; hand entries accepted, and refused (not the sender's controller). */
  inputMessages: number;
  /** Hand entries accepted (the sender's own controller). */
  acceptedHands: number;
  /** Hand entries refused (not the sender's controller). */
  rejectedHands: number;
  /** Malformed HandInput messages dropped. */
  decodeErrors: number;
  /** HandInput messages cut short at a missing baseline (the rest of the message is skipped). */
  missingBaselines: number;
  /** Hand samples before the sender's clock was known (no pose stream yet): not relayed. */
  unplacedSamples: number;
  /** HandFrames sent, their bytes, and hand entries in them. */
  frameMessages: number;
  /** Bytes of the HandFrames sent (tag included). */
  frameBytes: number;
  /** Hand entries in the HandFrames sent. */
  handsSent: number;
  /** Hand calibrations accepted from owners. */
  calibrationsAccepted: number;
  /** Hand calibrations refused: malformed, not the sender's hand, implausible, or the store full. */
  calibrationsRefused: number;
  /** Hand calibrations relayed to viewers (hand entries in the HandCalibration messages sent). */
  calibrationsRelayed: number;
}

/** A remote hand a client draws. */
export interface RemoteHand {
  readonly eid: number;
  readonly netId: number;
  readonly buffer: RemoteHandBuffer;
  seen: boolean;
}

/** Hand state of a client world. */
export interface HandClientContext {
  readonly role: 'client';
  readonly vr: VrClientContext;
  readonly components: HandComponents;
  readonly fitter: HandFitter;
  readonly codec: HandStreamCodec;
  readonly remote: Map<number, RemoteHand>;
  /** Remote hands' skeletons (from their owners' calibrations). */
  readonly shapes: HandCalibrationStore;
  readonly onError: ErrorHandler | undefined;
  readonly stats: HandClientStats;
  /** Working arrays: wrist-frame joints, parameter values. */
  readonly rel: Float64Array;
  readonly values: Float64Array;
}

/** A hand the server holds the newest sample of. */
export interface ServerHand {
  readonly eid: number;
  readonly netId: number;
  readonly owner: number;
  readonly left: boolean;
  tracked: boolean;
  readonly codes: Int32Array;
  /** Sample time on the server clock (ms). */
  timeMs: number;
  /** Bumped with each newer sample. */
  version: number;
  /** Newest HandInput frame applied (the owner's numbering). */
  lastFrame: number;
}

/** Hand state of a server world. */
export interface HandServerContext {
  readonly role: 'server';
  readonly vr: VrServerContext;
  readonly components: HandComponents;
  readonly fitter: HandFitter;
  readonly codec: HandStreamCodec;
  readonly hands: Map<number, ServerHand>;
  /** Owners' hand calibrations, relayed to viewers and used for the server's own RenderHand. */
  readonly shapes: HandCalibrationStore;
  readonly onError: ErrorHandler | undefined;
  readonly stats: HandServerStats;
  readonly rel: Float64Array;
}

export type HandContext = HandClientContext | HandServerContext;

const contexts = new WeakMap<object, HandContext>();

/** Attaches `ctx` to `world` (once). */
export function setHandContext(world: object, ctx: HandContext): void {
  if (contexts.has(world)) usageError('this world already has hand tracking', 'call addHandTracking once per world');
  contexts.set(world, ctx);
}

export function deleteHandContext(world: object): void {
  contexts.delete(world);
}

/** The hand context of `world`, or undefined. */
export function findHandContext(world: object): HandContext | undefined {
  return contexts.get(world);
}
