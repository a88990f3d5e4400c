/**
 * The server's side of the hand stream. A HandInput is decoded against the frames kept for its sender; each hand the
 * sender owns (a left or right controller entity) updates that hand's newest sample, its capture time mapped onto
 * the server clock like the pose stream's. Each send, every other client that knows the entity gets the hands that
 * changed since it last got them, in one HandFrames delta-coded against the frames it acked.
 */
import type { Connection } from '../connection/connection.ts';
import { NetError } from '../errors.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerExtension } from '../replication/extension.ts';
import { BitReader, BitWriter, openBody } from '../replication/wire-bodies.ts';
import type { ServerPeer } from '../session/server-session.ts';
import {
  CALIBRATION_VALUES,
  decodeHandCalibration,
  encodeHandCalibration,
  HandCalibrationFrame,
  MAX_CALIBRATION_HANDS,
} from './hand-calibration-codec.ts';
import { CalibrationVerdict } from './hand-calibration-store.ts';
import type { HandServerContext, ServerHand } from './hand-context.ts';
import { HAND_PARAM_COUNT } from './hand-skeleton.ts';
import {
  HAND_TIME_RANGE,
  HAND_TIME_UNITS_PER_MS,
  HandDecode,
  HandStreamFrame,
  MAX_HANDS_PER_MESSAGE,
  MAX_INPUT_HANDS,
} from './hand-stream-codec.ts';
import { HandReceiveState, HandSendState, type SentHand } from './hand-stream-state.ts';
import { deviceKindOf } from './vr-context.ts';

/** Sends after which an unacked hand sample is sent again (a loss), ~130 ms at 30 Hz. */
const RESEND_AFTER_FRAMES = 4;

interface PeerHands {
  conn: Connection | null;
  send: HandSendState;
  readonly receive: HandReceiveState;
  /** Version of each hand's calibration this peer was sent (on `conn`). */
  readonly calibrationSent: Map<number, number>;
}

/** Server extension of the hand layer. */
export class ServerHandExtension implements ServerExtension {
  private readonly hx: HandServerContext;
  private readonly frame = new HandStreamFrame();
  private readonly out = new HandStreamFrame();
  private readonly reader = new BitReader();
  private readonly writer = new BitWriter(4096);
  private readonly peers = new Map<number, PeerHands>();
  private readonly list: ServerHand[] = [];
  private readonly bases: Array<Int32Array | null> = [];
  private readonly sent: SentHand[] = [];
  private readonly calFrame = new HandCalibrationFrame();

  constructor(hx: HandServerContext) {
    this.hx = hx;
  }

  private peer(clientId: number): PeerHands {
    let p = this.peers.get(clientId);
    if (!p) {
      p = {
        conn: null,
        send: new HandSendState(),
        receive: new HandReceiveState(MAX_INPUT_HANDS),
        calibrationSent: new Map(),
      };
      this.peers.set(clientId, p);
    }
    return p;
  }

  left(peer: ServerPeer): void {
    this.peers.delete(peer.clientId);
    for (const [eid, h] of this.hx.hands) if (h.owner === peer.clientId) this.hx.hands.delete(eid);
    const shapes = this.hx.shapes;
    for (const [netId, c] of shapes.hands) if (c.owner === peer.clientId) shapes.remove(netId);
  }

  acked(peer: ServerPeer, seq: number): void {
    this.peers.get(peer.clientId)?.send.acked(seq);
  }

  message(peer: ServerPeer, tag: number, msg: Uint8Array): boolean {
    if (tag === Tag.HandCalibration) this.onCalibration(peer, msg);
    else if (tag === Tag.HandInput) this.onInput(peer, msg);
    else return false;
    return true;
  }

  /** An owner's hand skeletons: kept (for its own hands, when plausible) and relayed to viewers by `send`. */
  private onCalibration(peer: ServerPeer, msg: Uint8Array): void {
    const hx = this.hx;
    const f = this.calFrame;
    openBody(this.reader, msg);
    if (!decodeHandCalibration(this.reader, f, MAX_INPUT_HANDS)) {
      hx.stats.calibrationsRefused++;
      hx.onError?.(new NetError('HandCalibrationInvalid', `malformed HandCalibration from ${peer.clientId} dropped`));
      return;
    }
    const reg = hx.vr.net.replicator.registry;
    for (let h = 0; h < f.count; h++) {
      const netId = f.netId[h];
      const eid = reg.toLocal(netId);
      const kind = eid === 0 ? -1 : deviceKindOf(reg.has, hx.vr.poses, eid);
      const verdict =
        kind < 1 || reg.owner[eid] !== peer.clientId
          ? CalibrationVerdict.invalid
          : hx.shapes.apply(netId, peer.clientId, f.codes, h * CALIBRATION_VALUES);
      if (verdict === CalibrationVerdict.ok) {
        hx.stats.calibrationsAccepted++;
        continue;
      }
      hx.stats.calibrationsRefused++;
      hx.onError?.(
        verdict === CalibrationVerdict.full
          ? new NetError('HandCalibrationFull', `calibration of hand ${netId} from ${peer.clientId} not kept: full`)
          : new NetError('HandCalibrationInvalid', `calibration of hand ${netId} from ${peer.clientId} refused`),
      );
    }
  }

  /** Sends `peer` the calibrations of the hands it knows that changed since it got them (reliable). */
  private sendCalibrations(peer: ServerPeer, p: PeerHands, conn: Connection, known: ArrayLike<number>): void {
    const hx = this.hx;
    const reg = hx.vr.net.replicator.registry;
    const f = this.calFrame;
    f.count = 0;
    for (const c of hx.shapes.hands.values()) {
      const eid = reg.toLocal(c.netId);
      if (eid === 0) {
        hx.shapes.remove(c.netId);
        continue;
      }
      if (c.owner === peer.clientId || eid >= known.length || known[eid] === 0) continue;
      if ((p.calibrationSent.get(c.netId) ?? 0) >= c.version) continue;
      p.calibrationSent.set(c.netId, c.version);
      f.netId[f.count] = c.netId;
      f.codes.set(c.codes, f.count * CALIBRATION_VALUES);
      if (++f.count === MAX_CALIBRATION_HANDS) this.flushCalibrations(conn);
    }
    if (f.count > 0) this.flushCalibrations(conn);
    for (const netId of p.calibrationSent.keys()) if (!hx.shapes.hands.has(netId)) p.calibrationSent.delete(netId);
  }

  private flushCalibrations(conn: Connection): void {
    encodeHandCalibration(this.writer, this.calFrame);
    conn.sendReliable(this.writer.finish());
    this.hx.stats.calibrationsRelayed += this.calFrame.count;
    this.calFrame.count = 0;
  }

  private onInput(peer: ServerPeer, msg: Uint8Array): void {
    const hx = this.hx;
    const stats = hx.stats;
    const p = this.peer(peer.clientId);
    const f = this.frame;
    openBody(this.reader, msg);
    stats.inputMessages++;
    const verdict = hx.codec.decode(this.reader, Tag.HandInput, f, p.receive, MAX_INPUT_HANDS);
    if (verdict === HandDecode.malformed) {
      stats.decodeErrors++;
      hx.onError?.(new NetError('DecodeError', `malformed HandInput from client ${peer.clientId} dropped`));
      return;
    }
    if (verdict === HandDecode.missingBaseline) stats.missingBaselines++;
    const rep = hx.vr.net.replicator;
    const reg = rep.registry;
    const now = hx.vr.net.clock.now();
    const offset = hx.vr.clockOffsetMs(peer.clientId);
    for (let h = 0; h < f.count; h++) {
      const netId = f.netId[h];
      const eid = reg.toLocal(netId);
      const kind = eid === 0 ? -1 : deviceKindOf(reg.has, hx.vr.poses, eid);
      if (kind < 1 || reg.owner[eid] !== peer.clientId) {
        stats.rejectedHands++;
        continue;
      }
      const tracked = f.tracked[h] === 1;
      if (tracked) p.receive.store(netId, f.frame, f.codes, h * HAND_PARAM_COUNT);
      let sh = hx.hands.get(eid);
      if (sh && sh.netId !== netId) sh = undefined;
      if (!sh) {
        sh = {
          eid,
          netId,
          owner: peer.clientId,
          left: kind === 1,
          tracked: false,
          codes: new Int32Array(HAND_PARAM_COUNT),
          timeMs: NaN,
          version: 0,
          lastFrame: -1,
        };
        hx.hands.set(eid, sh);
      }
      stats.acceptedHands++;
      if (f.frame <= sh.lastFrame) continue; // reordered: an older sample
      if (offset !== offset) {
        stats.unplacedSamples++;
        continue;
      }
      // capture time: owner clock (ms modulo 2^22), unwrapped near now - offset, then onto the server clock
      const period = HAND_TIME_RANGE / HAND_TIME_UNITS_PER_MS;
      const x = f.timeUnits / HAND_TIME_UNITS_PER_MS;
      const clientNow = now - offset;
      const clientMs = x + period * Math.round((clientNow - x) / period);
      sh.lastFrame = f.frame;
      sh.tracked = tracked;
      if (tracked) sh.codes.set(f.codes.subarray(h * HAND_PARAM_COUNT, (h + 1) * HAND_PARAM_COUNT));
      sh.timeMs = Math.min(now, clientMs + offset);
      sh.version++;
    }
  }

  send(peer: ServerPeer, conn: Connection): void {
    const hx = this.hx;
    if (hx.hands.size === 0) return;
    const p = this.peer(peer.clientId);
    if (p.conn !== conn) {
      p.conn = conn;
      p.send = new HandSendState();
      p.calibrationSent.clear();
    }
    const rp = hx.vr.net.replicator.peers.get(peer.clientId);
    if (!rp) return;
    const known = rp.known;
    if (hx.shapes.hands.size > 0) this.sendCalibrations(peer, p, conn, known);
    const reg = hx.vr.net.replicator.registry;
    const s = p.send;
    // 1. the hands this peer should get now
    const list = this.list;
    list.length = 0;
    for (const [eid, h] of hx.hands) {
      if (reg.netIdOf[eid] !== h.netId) {
        hx.hands.delete(eid);
        continue;
      }
      if (h.owner === peer.clientId || eid >= known.length || known[eid] === 0 || h.timeMs !== h.timeMs) continue;
      const sh = s.hands.get(h.netId);
      const fresh = !sh || h.version > sh.sentVersion;
      const stale = !!sh && s.frame - sh.lastSentFrame >= RESEND_AFTER_FRAMES;
      const need = h.tracked
        ? fresh || (stale && sh.acked < sh.lastTrackedFrame)
        : !(sh?.offAcked ?? true) && (fresh || stale);
      if (need) list.push(h);
    }
    if (list.length === 0) return;
    list.sort((a, b) => a.netId - b.netId);
    if (list.length > MAX_HANDS_PER_MESSAGE) list.length = MAX_HANDS_PER_MESSAGE;
    // 2. fill and encode, dropping hands from the end until the message fits
    const now = hx.vr.net.clock.now();
    const f = this.out;
    f.frame = s.frame;
    const units = Math.round(now * HAND_TIME_UNITS_PER_MS);
    f.timeUnits = ((units % HAND_TIME_RANGE) + HAND_TIME_RANGE) % HAND_TIME_RANGE;
    const bases = this.bases;
    const sent = this.sent;
    bases.length = 0;
    sent.length = 0;
    for (let i = 0; i < list.length; i++) {
      const h = list[i];
      const sh = s.hand(h.netId);
      sent.push(sh);
      f.netId[i] = h.netId;
      f.tracked[i] = h.tracked ? 1 : 0;
      f.ageMs[i] = now - h.timeMs;
      f.codes.set(h.codes, i * HAND_PARAM_COUNT);
      const back = h.tracked ? s.backFor(sh) : 0;
      f.back[i] = back;
      bases.push(back > 0 ? s.codesAt(sh, s.frame - back) : null);
    }
    const space = conn.unreliableSpaceBytes();
    for (f.count = list.length; f.count > 0; f.count--) {
      hx.codec.encode(this.writer, Tag.HandFrames, f, bases);
      if (this.writer.byteLength <= space) break;
    }
    if (f.count === 0) return;
    const seq = conn.nextPacketSeq;
    const bytes = this.writer.finish();
    if (!conn.sendUnreliable(bytes)) return;
    // 3. remember what went out
    for (let i = 0; i < f.count; i++) {
      const h = list[i];
      const sh = sent[i];
      s.record(sh, h.tracked, h.tracked ? h.codes : null, h.tracked && f.back[i] === 0);
      sh.sentVersion = h.version;
    }
    s.sent(seq);
    hx.stats.frameMessages++;
    hx.stats.frameBytes += bytes.length;
    hx.stats.handsSent += f.count;
  }
}
