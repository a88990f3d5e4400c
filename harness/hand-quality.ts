/**
 * Measurements of the hand layer, shared by tests and the bench: the codec's fingertip error on the synthetic adult
 * hand (fit, quantize, rebuild: no network), and a room run (one owner, one viewer, a conditioned link) reporting
 * bytes per hand each way and the viewer's fingertip error against the owner's truth at the viewer's render time.
 */
import { HAND_JOINTS_LENGTH } from '../components/tracked-hand.ts';
import { clientIdOf } from '../src/index.ts';
import type { HandClientStats, HandServerStats } from '../src/vr/hand-context.ts';
import { CALIBRATION_VALUES, dequantizeHandShape } from '../src/vr/hand-calibration-codec.ts';
import { CALIBRATION_MIN_FRAMES, HandCalibrator } from '../src/vr/hand-calibration.ts';
import { HandFitter } from '../src/vr/hand-fit.ts';
import { HandShape } from '../src/vr/hand-shape.ts';
import { FINGERTIP_JOINTS, HAND_PARAM_COUNT, HAND_SCALE_PARAM, JOINT_POSE_LENGTH } from '../src/vr/hand-skeleton.ts';
import { poseClockOffsetMs, remoteRenderTimeMs } from '../src/vr/vr-plugin.ts';
import { HandDriver, HandRoom } from './hand-room.ts';
import { SyntheticHand } from './synthetic-hand.ts';

/** Spread of a set of errors (mm). */
export interface ErrorSummary {
  mean: number;
  p95: number;
  max: number;
  count: number;
}

/** Mean, p95 and max of `xs`. */
export function summarizeErrors(xs: number[]): ErrorSummary {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return {
    mean,
    p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] ?? NaN,
    max: s[s.length - 1] ?? NaN,
    count: s.length,
  };
}

/** The five fingertip errors (mm) of joints `a` (from `ao`) against `b`, pushed onto `into`. */
export function tipErrors(a: Float64Array | Float32Array, ao: number, b: Float64Array, into: number[]): void {
  for (const j of FINGERTIP_JOINTS) {
    const p = ao + j * JOINT_POSE_LENGTH;
    const q = j * JOINT_POSE_LENGTH;
    into.push(Math.hypot(a[p] - b[q], a[p + 1] - b[q + 1], a[p + 2] - b[q + 2]) * 1000);
  }
}

/**
 * Fingertip error (mm) of encode -> decode on both synthetic hands over `seconds` at 72 Hz; `calibrated`: on the
 * skeleton the owner's calibrator settles on (as the stream does: every other frame measured, re-estimated each
 * 16 measurements), else on the reference hand and its fitted scale.
 */
export function measureHandCodecError(seconds: number, seed: number, calibrated = false): ErrorSummary {
  const fitter = new HandFitter();
  const joints = new Float64Array(HAND_JOINTS_LENGTH);
  const rebuilt = new Float64Array(HAND_JOINTS_LENGTH);
  const codes = new Int32Array(HAND_PARAM_COUNT);
  const errors: number[] = [];
  for (const left of [false, true]) {
    const hand = new SyntheticHand(seed, left);
    const calibrator = new HandCalibrator();
    const calibration = new Int16Array(CALIBRATION_VALUES);
    const shape = new HandShape();
    let scale = -1;
    let frame = 0;
    for (let t = 0; t < seconds * 1000; t += 1000 / 72) {
      hand.jointsAt(t, joints);
      if (calibrated && frame++ % 2 === 0 && calibrator.add(joints, JOINT_POSE_LENGTH, 0, left)) {
        if (calibrator.frames % 16 === 0 || calibrator.frames === CALIBRATION_MIN_FRAMES)
          if (calibrator.estimate(calibration) && !dequantizeHandShape(calibration, shape)) shape.setReference();
      }
      fitter.fit(joints, JOINT_POSE_LENGTH, 0, left, codes, scale, shape);
      scale = codes[HAND_SCALE_PARAM];
      fitter.rebuild(codes, left, rebuilt, 0, shape);
      tipErrors(rebuilt, 0, joints, errors);
    }
  }
  return summarizeErrors(errors);
}

/** Options of a room run. */
export interface HandRoomRunOptions {
  rttMs: number;
  jitterMs: number;
  loss: number;
  seconds: number;
  seed: number;
  sendRateHz?: number;
}

/** What a room run measured. */
export interface HandRoomRun {
  /** HandInput bytes (tag and header shared by the two hands included) per tracked hand sent. */
  uplinkBytesPerHand: number;
  /** HandFrames bytes per hand sent to the viewer. */
  downlinkBytesPerHand: number;
  /** Share of hand bodies sent whole (no acked baseline in reach, or the periodic whole body). */
  wholeShare: number;
  /** The viewer's fingertips against the owner's truth at the viewer's render time. */
  remote: ErrorSummary;
  missingBaselines: number;
}

/** One owner and one viewer, both hands tracked and moving the whole run. */
export function runHandRoom(o: HandRoomRunOptions): HandRoomRun {
  const cond = { latencyMs: o.rttMs / 2, jitterMs: o.jitterMs, loss: o.loss };
  const room = new HandRoom({ seed: o.seed, sendRateHz: o.sendRateHz });
  const owner = room.addClient(cond);
  const viewer = room.addClient(cond);
  const s = room.stepper;
  // the handshake takes a few round trips at high RTT
  for (let i = 0; i < 900 && (clientIdOf(owner.peer.world) === 0 || clientIdOf(viewer.peer.world) === 0); i++) s.step();
  s.run(30);
  const avatar = s.spawnAvatar(owner.peer);
  const driver = new HandDriver(o.seed + 10);
  const truth = new Float64Array(HAND_JOINTS_LENGTH);
  const errors: number[] = [];
  const frames = Math.round((o.seconds * 1000) / s.frameMs);
  for (let i = 0; i < frames; i++) {
    room.step((peer, now) => {
      if (peer !== owner.peer) return;
      const local = {
        head: s.local(peer, avatar.head),
        left: s.local(peer, avatar.left),
        right: s.local(peer, avatar.right),
      };
      driver.drive(peer, local, now, () => true);
    });
    if (i < 450) continue;
    for (const side of [0, 1] as const) {
      const eid = s.local(viewer.peer, side === 0 ? avatar.left : avatar.right);
      if (!viewer.hands.RenderHand.tracked[eid]) continue;
      const render = remoteRenderTimeMs(viewer.peer.world, eid);
      const offset = poseClockOffsetMs(room.server.peer.world, clientIdOf(owner.peer.world));
      const now = s.clock.now();
      // render time: the owner's timeline (server clock modulo 16,384 ms); back onto the owner's capture clock
      const t = render - offset + 16_384 * Math.round((now - render + offset) / 16_384);
      driver.jointsAt(side, t, truth);
      tipErrors(viewer.hands.RenderHand.joints, eid * HAND_JOINTS_LENGTH, truth, errors);
    }
  }
  const up = owner.layer.stats() as HandClientStats;
  const server = room.server.layer.stats() as HandServerStats;
  const down = viewer.layer.stats() as HandClientStats;
  return {
    uplinkBytesPerHand: up.inputBytes / Math.max(1, up.trackedHandsSent),
    downlinkBytesPerHand: server.frameBytes / Math.max(1, server.handsSent),
    wholeShare: up.wholeBodiesSent / Math.max(1, up.trackedHandsSent),
    remote: summarizeErrors(errors),
    missingBaselines: server.missingBaselines + down.missingBaselines,
  };
}
