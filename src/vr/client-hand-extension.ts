/**
 * The client's hand stream. Each send: fit every owned tracked hand to its codes and send one HandInput with each
 * hand delta-coded against the newest frame the server acked (a hand that stopped being tracked is announced until
 * that is acked). Each HandFrames from the server: decode against the frames this client kept, and queue every
 * other user's hand sample on its owner's pose timeline for the render system.
 */
import type { Connection } from '../connection/connection.ts';
import { NetError } from '../errors.ts';
import { Tag } from '../protocol/tags.ts';
import type { ClientExtension } from '../replication/extension.ts';
import { BitReader, BitWriter, openBody } from '../replication/wire-bodies.ts';
import {
  CALIBRATION_HAND_BYTES,
  CALIBRATION_VALUES,
  decodeHandCalibration,
  dequantizeHandShape,
  encodeHandCalibration,
  HandCalibrationFrame,
  MAX_CALIBRATION_HANDS,
} from './hand-calibration-codec.ts';
import { CalibrationVerdict } from './hand-calibration-store.ts';
import { calibrationMoved, HandCalibrator } from './hand-calibration.ts';
import type { HandClientContext } from './hand-context.ts';
import { HandShape } from './hand-shape.ts';
import { jointsRelativeToWrist } from './hand-frame-math.ts';
import { HAND_PARAM_COUNT, HAND_SCALE_PARAM, JOINT_POSE_LENGTH } from './hand-skeleton.ts';
import {
  HAND_TIME_RANGE,
  HAND_TIME_UNITS_PER_MS,
  HandDecode,
  HandStreamFrame,
  MAX_HAND_AGE_MS,
  MAX_HANDS_PER_MESSAGE,
  MAX_INPUT_HANDS,
} from './hand-stream-codec.ts';
import { HandReceiveState, HandSendState } from './hand-stream-state.ts';
import { RemoteHandBuffer } from './remote-hand-buffer.ts';
import type { OwnedDevice } from './vr-context.ts';

/** Hands a client keeps receive state for: 64 users' two hands; the least recently updated makes room. */
export const MAX_RECEIVED_HANDS = 128;
/** The pose timeline's period: stamps carry server time modulo 2^16 quarter ms (pose-stamp.ts). */
const TIMELINE_PERIOD_MS = 16_384;
/** Remote hands drawn at once (bounded by the receive state). */
const MAX_REMOTE_HANDS = MAX_RECEIVED_HANDS;

/** Sends between calibration measurements, and measurements between median estimates (~1 s at 30 Hz). */
const MEASURE_EVERY_SENDS = 2;
const ESTIMATE_EVERY_MEASURES = 16;
/** Sends a hand may go untracked before its calibration is forgotten (~10 s at 30 Hz: likely another user). */
const FORGET_CALIBRATION_SENDS = 300;

/** The owner's calibration of one of its hands. */
interface OwnCalibration {
  readonly calibrator: HandCalibrator;
  /** Codes announced (and the shape the stream is fitted on), and the newest estimate. */
  readonly codes: Int16Array;
  readonly next: Int16Array;
  readonly shape: HandShape;
  announced: boolean;
  /** The connection it was announced on (a new one gets it again). */
  conn: Connection | null;
  sends: number;
  lastSeen: number;
}

/** Creates the client extension of the hand layer. */
export function createClientHandExtension(hx: HandClientContext): ClientExtension {
  const vr = hx.vr;
  const frame = new HandStreamFrame();
  const writer = new BitWriter(2048);
  const reader = new BitReader();
  const bases: Array<Int32Array | null> = [];
  const devices: OwnedDevice[] = [];
  const codes = new Int32Array(HAND_PARAM_COUNT);
  const receive = new HandReceiveState(MAX_RECEIVED_HANDS);
  let send = new HandSendState();
  let lastConn: Connection | null = null;
  const own = new Map<number, OwnCalibration>();
  const calFrame = new HandCalibrationFrame();
  const calWriter = new BitWriter(64 + MAX_CALIBRATION_HANDS * (CALIBRATION_HAND_BYTES + 8));
  const candidate = new HandShape();
  let sendCount = 0;

  /** Measures hand `netId` (joints in hx.rel), announces its skeleton when it settles or moves; the shape to fit on. */
  function calibrate(conn: Connection, netId: number, left: boolean): HandShape | undefined {
    let oc = own.get(netId);
    if (!oc) {
      oc = {
        calibrator: new HandCalibrator(),
        codes: new Int16Array(CALIBRATION_VALUES),
        next: new Int16Array(CALIBRATION_VALUES),
        shape: new HandShape(),
        announced: false,
        conn: null,
        sends: 0,
        lastSeen: 0,
      };
      own.set(netId, oc);
    }
    oc.lastSeen = sendCount;
    if (oc.sends++ % MEASURE_EVERY_SENDS === 0) {
      const c = oc.calibrator;
      if (c.add(hx.rel, JOINT_POSE_LENGTH, 0, left) && (c.frames % ESTIMATE_EVERY_MEASURES === 0 || !oc.announced)) {
        // a new estimate is announced when it moved past the threshold and is a plausible hand
        if (
          c.estimate(oc.next) &&
          (!oc.announced || calibrationMoved(oc.next, oc.codes)) &&
          dequantizeHandShape(oc.next, candidate)
        ) {
          oc.codes.set(oc.next);
          oc.shape.copy(candidate);
          oc.announced = true;
          oc.conn = null;
        }
      }
    }
    if (oc.announced && oc.conn !== conn) {
      calFrame.count = 1;
      calFrame.netId[0] = netId;
      calFrame.codes.set(oc.codes);
      encodeHandCalibration(calWriter, calFrame);
      const bytes = calWriter.finish();
      conn.sendReliable(bytes);
      oc.conn = conn;
      hx.stats.calibrationsSent++;
      hx.stats.calibrationBytes += bytes.length;
    }
    return oc.announced ? oc.shape : undefined;
  }

  function onCalibration(msg: Uint8Array): void {
    openBody(reader, msg);
    if (!decodeHandCalibration(reader, calFrame, MAX_CALIBRATION_HANDS)) {
      hx.stats.calibrationsRefused++;
      hx.onError?.(new NetError('HandCalibrationInvalid', 'malformed HandCalibration dropped'));
      return;
    }
    for (let h = 0; h < calFrame.count; h++) {
      const verdict = hx.shapes.apply(calFrame.netId[h], 0, calFrame.codes, h * CALIBRATION_VALUES);
      if (verdict === CalibrationVerdict.ok) {
        hx.stats.calibrationsReceived++;
        continue;
      }
      hx.stats.calibrationsRefused++;
      hx.onError?.(
        verdict === CalibrationVerdict.full
          ? new NetError('HandCalibrationFull', `calibration of hand ${calFrame.netId[h]} not kept: store full`)
          : new NetError('HandCalibrationInvalid', `implausible calibration of hand ${calFrame.netId[h]} refused`),
      );
    }
  }

  function sendHands(conn: Connection): void {
    // A new connection (first or resumed) knows none of the old frames.
    if (conn !== lastConn) {
      send = new HandSendState();
      lastConn = conn;
    }
    const { TrackedHand } = hx.components;
    devices.length = 0;
    let timeMs = NaN;
    for (const dev of vr.owned.values()) {
      if (dev.kind === 0 || !dev.captured) continue;
      const tracked = dev.eid < TrackedHand.tracked.length && TrackedHand.tracked[dev.eid] === 1;
      if (!tracked && (send.hands.get(dev.netId)?.offAcked ?? true)) continue;
      if (tracked || timeMs !== timeMs) timeMs = dev.state.rawTimeMs;
      devices.push(dev);
    }
    sendCount++;
    for (const [id, oc] of own) if (sendCount - oc.lastSeen > FORGET_CALIBRATION_SENDS) own.delete(id);
    if (devices.length === 0) return;
    devices.sort((a, b) => a.netId - b.netId);
    if (devices.length > MAX_INPUT_HANDS) devices.length = MAX_INPUT_HANDS;
    // 1. fill the frame: codes of each tracked hand, its baseline
    const f = frame;
    f.frame = send.frame;
    const units = Math.round(timeMs * HAND_TIME_UNITS_PER_MS);
    f.timeUnits = ((units % HAND_TIME_RANGE) + HAND_TIME_RANGE) % HAND_TIME_RANGE;
    f.count = devices.length;
    bases.length = 0;
    for (let h = 0; h < devices.length; h++) {
      const dev = devices[h];
      const sh = send.hand(dev.netId);
      f.netId[h] = dev.netId;
      const tracked = TrackedHand.tracked[dev.eid] === 1;
      f.tracked[h] = tracked ? 1 : 0;
      if (!tracked) {
        bases.push(null);
        continue;
      }
      jointsRelativeToWrist(TrackedHand.joints, dev.eid * 25 * JOINT_POSE_LENGTH, hx.rel);
      const back = send.backFor(sh);
      const prevScale = sh.acked >= 0 ? send.codesAt(sh, sh.acked)[HAND_SCALE_PARAM] : -1;
      const shape = calibrate(conn, dev.netId, dev.kind === 1);
      hx.fitter.fit(hx.rel, JOINT_POSE_LENGTH, 0, dev.kind === 1, codes, prevScale, shape);
      f.codes.set(codes, h * HAND_PARAM_COUNT);
      f.back[h] = back;
      bases.push(back > 0 ? send.codesAt(sh, send.frame - back) : null);
    }
    // 2. encode; a message that does not fit waits for the next send (its baselines stay valid)
    hx.codec.encode(writer, Tag.HandInput, f, bases);
    if (writer.byteLength > conn.unreliableSpaceBytes()) {
      hx.stats.oversize++;
      return;
    }
    const seq = conn.nextPacketSeq;
    const bytes = writer.finish();
    if (!conn.sendUnreliable(bytes)) {
      hx.stats.oversize++;
      return;
    }
    // 3. remember what went out in this frame
    for (let h = 0; h < f.count; h++) {
      const sh = send.hand(f.netId[h]);
      const tracked = f.tracked[h] === 1;
      send.record(sh, tracked, tracked ? f.codes.subarray(h * HAND_PARAM_COUNT) : null, tracked && f.back[h] === 0);
      if (tracked) hx.stats.trackedHandsSent++;
      if (tracked && f.back[h] === 0) hx.stats.wholeBodiesSent++;
    }
    send.sent(seq);
    hx.stats.inputMessages++;
    hx.stats.inputBytes += bytes.length;
  }

  /** The sample's time on the owner's pose timeline (server ms modulo 16,384 s, unwrapped near the owner's last). */
  function timelineMs(serverMs: number, owner: number, eid: number): number {
    const o = vr.owners.get(owner);
    const ref = o && o.lastSampleMs === o.lastSampleMs ? o.lastSampleMs : (vr.remote.get(eid)?.renderTimeMs ?? NaN);
    if (ref !== ref) return NaN;
    const x = ((serverMs % TIMELINE_PERIOD_MS) + TIMELINE_PERIOD_MS) % TIMELINE_PERIOD_MS;
    const t = x + TIMELINE_PERIOD_MS * Math.round((ref - x) / TIMELINE_PERIOD_MS);
    // a sample far from the owner's pose samples cannot be drawn with them (and must not linger in the buffer)
    return Math.abs(t - ref) <= MAX_HAND_AGE_MS ? t : NaN;
  }

  function onFrames(msg: Uint8Array): void {
    openBody(reader, msg);
    const f = frame;
    const verdict = hx.codec.decode(reader, Tag.HandFrames, f, receive, MAX_HANDS_PER_MESSAGE);
    if (verdict === HandDecode.malformed) {
      hx.stats.decodeErrors++;
      hx.onError?.(new NetError('DecodeError', 'malformed HandFrames dropped'));
      return;
    }
    if (verdict === HandDecode.missingBaseline) hx.stats.missingBaselines++;
    hx.stats.frameMessages++;
    const evictedBefore = receive.evicted;
    const reg = vr.net.replicator.registry;
    const me = vr.net.replicator.clientId;
    for (let h = 0; h < f.count; h++) {
      const netId = f.netId[h];
      const tracked = f.tracked[h] === 1;
      if (tracked) receive.store(netId, f.frame, f.codes, h * HAND_PARAM_COUNT);
      const eid = reg.toLocal(netId);
      if (eid === 0 || reg.owner[eid] === me) continue;
      let rh = hx.remote.get(eid);
      if (rh && rh.netId !== netId) rh = undefined;
      if (!rh) {
        if (hx.remote.size >= MAX_REMOTE_HANDS) continue;
        rh = { eid, netId, buffer: new RemoteHandBuffer(), seen: true };
        hx.remote.set(eid, rh);
      }
      const serverMs = f.timeUnits / HAND_TIME_UNITS_PER_MS - (tracked ? f.ageMs[h] : 0);
      const t = timelineMs(serverMs, reg.owner[eid], eid);
      if (t !== t) {
        hx.stats.unplacedSamples++;
        continue;
      }
      rh.buffer.push(t, tracked, tracked ? f.codes : null, h * HAND_PARAM_COUNT);
      hx.stats.handSamples++;
    }
    hx.stats.evictedHands += receive.evicted - evictedBefore;
  }

  return {
    send: sendHands,
    acked: (seq) => send.acked(seq),
    message(tag, msg) {
      if (tag === Tag.HandCalibration) onCalibration(msg);
      else if (tag === Tag.HandFrames) onFrames(msg);
      else return false;
      return true;
    },
  };
}
