/**
 * The server's side of the pose stream. For each InputPoses message: decode and validate it whole, drop devices the
 * sender does not own, and for every tick newer than what it already has, run the validator against the last
 * accepted pose. The newest accepted pose goes into the replicated pose arrays with its stamp (capture time on the
 * server clock and the owner's horizon), so change detection sends it to everyone else. When the accepted pose
 * differs from what the owner sent, or the owner still applies an old correction, a Correction for the newest tick
 * goes back to the owner at the next send. With retiming on (the default), accepted poses go to a `PoseRetimer`
 * instead, and each server tick writes the pose at the owner's render time (pose-retimer.ts says why).
 * Capture times are the owner's clock, mapped onto the server's by `StreamClockMap`.
 */
import { NetError } from '../errors.ts';
import type { ServerContext } from '../context.ts';
import { Tag } from '../protocol/tags.ts';
import type { ServerExtension } from '../replication/extension.ts';
import { BitReader, BitWriter, openBody } from '../replication/wire-bodies.ts';
import { type EntityMapper, readWireValue } from '../replication/compiled-field.ts';
import { WriteVerdict, type WriteVerdictId } from '../replication/write-gate.ts';
import type { ServerPeer } from '../session/server-session.ts';
import { CorrectionFrame, encodeCorrection, MAX_CORRECTIONS } from './correction-codec.ts';
import { POSE_LENGTH } from './pose-history.ts';
import { packStamp, poseCheck } from './pose-stamp.ts';
import { MAX_STREAM_TICKS, type PoseStreamCodec, PoseStreamFrame } from './pose-stream-codec.ts';
import { createPoseCheck, type DeviceKindId, type PoseValidator } from './server-pose-validator.ts';
import { deviceKindOf, storeOf, type VrServerContext, writeTrackedPose } from './vr-context.ts';
import { StreamClockMap } from './stream-clock-map.ts';
import type { PoseRetimer, RetimedPose } from './pose-retimer.ts';

/** Longest time one tick may account for in the speed check: 100 ms, i.e. a sender at >= 10 Hz. */
export const MAX_TICK_MS = 100;
/** Position difference (m) above which an accepted pose counts as corrected: over one 1 mm step of rounding. */
const CORRECTED_POSITION_M = 0.0015;
/** Rotation difference (quaternion dot) below which an accepted pose counts as corrected (~0.5 degree). */
const CORRECTED_ROTATION_DOT = Math.cos((0.25 * Math.PI) / 180);

/** The store arrays of a pose, in accepted-pose order, and the fields they belong to. */
const POSE_KEYS = ['px', 'py', 'pz', 'qx', 'qy', 'qz', 'qw'] as const;
const POSE_FIELD_NAMES = new Set(['px', 'py', 'pz', 'rot']);

/** Pose fields hold no entity references: the mapper is never asked. */
const NO_REFS: EntityMapper = { toNet: () => 0, toLocal: () => 0 };

/** What the server keeps per tracked device. */
interface ServerDevice {
  owner: number;
  lastTick: number;
  hasAccepted: boolean;
  accepted: Float64Array;
  acceptedTimeMs: number;
  /** Correction to send to the owner at the next send: its tick, or -1. */
  pendingTick: number;
}

/** Server extension of the VR pose layer. */
export class ServerPoseReceiver implements ServerExtension {
  private readonly vr: VrServerContext;
  private readonly net: ServerContext;
  private readonly codec: PoseStreamCodec;
  private readonly validator: PoseValidator;
  private readonly frame = new PoseStreamFrame();
  private readonly correction = new CorrectionFrame();
  private readonly reader = new BitReader();
  private readonly writer = new BitWriter(512);
  private readonly check = createPoseCheck();
  private readonly devices = new Map<number, ServerDevice>();
  private readonly clocks = new StreamClockMap();
  private readonly times = new Float64Array(MAX_STREAM_TICKS);
  private readonly raw = new Float64Array(POSE_LENGTH);
  /** Devices given a new sample since the last change detection: entity ids, and their component ids. */
  private readonly written: number[] = [];
  /** The jitter buffer accepted poses go through, or null to write each newest accepted pose at once. */
  private readonly retimer: PoseRetimer | null;
  private readonly velocity = new Float64Array(6);
  private readonly writeRetimed = (p: RetimedPose, owner: number): boolean => this.writeAt(p, owner);

  constructor(vr: VrServerContext, codec: PoseStreamCodec, validator: PoseValidator, retimer: PoseRetimer | null) {
    this.vr = vr;
    this.net = vr.net;
    this.codec = codec;
    this.validator = validator;
    this.retimer = retimer;
  }

  /** Offset (ms) mapping `clientId`'s capture clock onto the server clock; NaN before its first message. */
  clockOffsetMs(clientId: number): number {
    return this.clocks.offsetMs(clientId, this.net.clock.now());
  }

  joined(peer: ServerPeer): void {
    this.clocks.forget(peer.clientId);
  }

  left(peer: ServerPeer): void {
    this.clocks.forget(peer.clientId);
    this.retimer?.forgetOwner(peer.clientId);
    for (const [eid, dev] of this.devices) if (dev.owner === peer.clientId) this.devices.delete(eid);
  }

  message(peer: ServerPeer, tag: number, msg: Uint8Array): boolean {
    if (tag !== Tag.InputPoses) return false;
    this.onInput(peer, msg);
    return true;
  }

  private onInput(peer: ServerPeer, msg: Uint8Array): void {
    const stats = this.vr.stats;
    stats.inputMessages++;
    const r = this.reader;
    const f = this.frame;
    openBody(r, msg);
    // 1. decode and validate the whole message before using any of it
    if (!this.codec.decode(r, f)) {
      stats.decodeErrors++;
      peer.counters.decodeErrors++;
      this.report(new NetError('DecodeError', `client ${peer.clientId}: malformed InputPoses dropped`));
      return;
    }
    // 2. capture times of the ticks on the server clock
    const now = this.net.clock.now();
    this.clocks.map(peer.clientId, this.frame, now, this.times);
    // 3. devices
    const reg = this.net.replicator.registry;
    let forbidden = 0;
    for (let d = 0; d < f.deviceCount; d++) {
      const eid = reg.toLocal(f.netId[d]);
      const kind = eid === 0 ? -1 : deviceKindOf(reg.has, this.vr.poses, eid);
      if (kind === -1) {
        stats.rejectedDevices++;
        continue;
      }
      if (reg.owner[eid] !== peer.clientId) {
        forbidden++;
        continue;
      }
      this.applyDevice(peer.clientId, eid, kind, d);
    }
    if (forbidden > 0) {
      stats.rejectedDevices += forbidden;
      peer.counters.rejectedWrites += forbidden;
      this.report(
        new NetError('Forbidden', `client ${peer.clientId} streamed poses of ${forbidden} device(s) it does not own`),
      );
    }
  }

  private report(e: NetError): void {
    this.onError?.(e);
  }

  /** Where problems caused by network input go (set by `addVrPoses`). */
  onError: ((e: NetError) => void) | undefined;

  private applyDevice(clientId: number, eid: number, kind: DeviceKindId, d: number): void {
    const f = this.frame;
    const codec = this.codec;
    let dev = this.devices.get(eid);
    if (!dev || dev.owner !== clientId) {
      dev = {
        owner: clientId,
        lastTick: -1,
        hasAccepted: false,
        accepted: new Float64Array(POSE_LENGTH),
        acceptedTimeMs: 0,
        pendingTick: -1,
      };
      this.devices.set(eid, dev);
    }
    const check = this.check;
    const raw = this.raw;
    let newest = -1;
    let corrected = false;
    for (let i = f.skip[d]; i < f.tickCount; i++) {
      const tick = f.newestTick - f.tickCount + 1 + i;
      if (tick <= dev.lastTick) continue;
      // a. the proposed pose, dequantized
      const q = (d * MAX_STREAM_TICKS + i) * 3;
      raw[0] = codec.dequantizePosition(f.pos[q]);
      raw[1] = codec.dequantizePosition(f.pos[q + 1]);
      raw[2] = codec.dequantizePosition(f.pos[q + 2]);
      codec.unpackRotation(f.rot[d * MAX_STREAM_TICKS + i], raw, 3);
      // b. validate against the last accepted pose
      check.clientId = clientId;
      check.eid = eid;
      check.device = kind;
      check.tick = tick;
      const limitMs = dev.lastTick >= 0 ? Math.min(tick - dev.lastTick, 1000) * MAX_TICK_MS : 0;
      const dt = this.times[i] - dev.acceptedTimeMs;
      check.dtMs = dev.hasAccepted ? (dt < 0 ? 0 : dt > limitMs ? limitMs : dt) : 0;
      check.hasPrevious = dev.hasAccepted;
      check.previous.set(dev.accepted);
      check.pose.set(raw);
      this.validator.validate(check);
      // c. accept
      dev.accepted.set(check.pose);
      dev.hasAccepted = true;
      dev.acceptedTimeMs = this.times[i];
      dev.lastTick = tick;
      newest = i;
      corrected = isCorrectedPose(check.pose, raw);
      this.vr.stats.acceptedTicks++;
      if (corrected) this.vr.stats.correctedTicks++;
    }
    if (newest < 0) return;
    // d. the newest accepted pose goes through the write gate like any other write (application rules)
    const verdict = this.gate(clientId, eid, kind, dev);
    if (verdict === WriteVerdict.refused) {
      dev.pendingTick = dev.lastTick;
      return;
    }
    if (verdict === WriteVerdict.clamped) corrected = true;
    this.write(eid, kind, d, newest, corrected);
    if (corrected || f.active[d]) dev.pendingTick = dev.lastTick;
  }

  /**
   * Runs the newest accepted pose through the write gate (path 'poses'); a clamp becomes the accepted pose, a refusal
   * puts the accepted pose back at the server's current one. Either way the owner is corrected.
   */
  private gate(clientId: number, eid: number, kind: DeviceKindId, dev: ServerDevice): WriteVerdictId {
    const rep = this.net.replicator;
    const gate = rep.writeGate;
    const poses = this.vr.poses;
    const c = (kind === 0 ? poses.head : kind === 1 ? poses.left : poses.right).id;
    if (!gate.hasRules(c)) return WriteVerdict.accepted;
    const now = this.net.clock.now();
    const w = gate.stage('poses', clientId, eid, c, now);
    const fields = rep.protocol.components[c].fields;
    for (let f = 0; f < fields.length; f++) if (POSE_FIELD_NAMES.has(fields[f].name)) w.mask |= 1 << f;
    const a = dev.accepted;
    for (let k = 0; k < POSE_LENGTH; k++) w.proposed[w.slot[POSE_KEYS[k]]] = a[k];
    const verdict = gate.run(w);
    if (verdict === WriteVerdict.refused) {
      this.vr.stats.rejectedDevices++;
      this.report(new NetError('InvalidWrite', `client ${clientId}: pose of entity ${eid} refused (${gate.reason})`));
      for (let k = 0; k < POSE_LENGTH; k++) a[k] = w.current[w.slot[POSE_KEYS[k]]];
      return verdict;
    }
    for (let k = 0; k < POSE_LENGTH; k++) a[k] = w.proposed[w.slot[POSE_KEYS[k]]];
    gate.accepted(w, now);
    return verdict;
  }

  /**
   * The newest accepted pose, with its velocities and stamp: into the retimer, or straight into the replicated
   * arrays when retiming is off.
   */
  private write(eid: number, kind: DeviceKindId, d: number, i: number, corrected: boolean): void {
    const dev = this.devices.get(eid)!;
    const f = this.frame;
    const withVelocities = this.vr.poses.velocities[kind];
    // A corrected pose is held against a limit: its velocity would carry viewers through the limit.
    const vel = withVelocities && f.hasVelocity[d] === 1 && !corrected ? this.velocity : null;
    if (vel) for (let k = 0; k < 6; k++) vel[k] = this.codec.dequantizeVelocity(f.vel[d * 6 + k], k);
    if (this.retimer) {
      // Without a velocity the samples' own neighbours give one; a corrected pose stands still.
      const v = vel ?? (corrected ? this.velocity.fill(0) : null);
      this.retimer.accept(dev.owner, eid, kind, this.net.clock.now(), this.times[i], dev.accepted, v, f.horizonMs);
      return;
    }
    this.writeArrays(eid, kind, dev.accepted, vel, this.times[i], f.horizonMs);
  }

  /** Writes a retimed pose into the replicated arrays; false when `eid` is no longer `owner`'s device. */
  private writeAt(p: RetimedPose, owner: number): boolean {
    const reg = this.net.replicator.registry;
    const dev = this.devices.get(p.eid);
    if (!dev || dev.owner !== owner || reg.owner[p.eid] !== owner) return false;
    if (deviceKindOf(reg.has, this.vr.poses, p.eid) !== p.kind) return false;
    this.writeArrays(p.eid, p.kind as DeviceKindId, p.pose, p.velocity, p.timeMs, p.horizonMs);
    return true;
  }

  /** Pose, velocities (zeros when null) and stamp into the replicated arrays; the entity is sent at the next tick. */
  private writeArrays(
    eid: number,
    kind: DeviceKindId,
    pose: ArrayLike<number>,
    vel: ArrayLike<number> | null,
    timeMs: number,
    horizonMs: number,
  ): void {
    const s = storeOf(this.vr.components, kind);
    writeTrackedPose(s, eid, pose, this.vr.poses.velocities[kind], vel);
    const poses = this.vr.poses;
    const reg = kind === 0 ? poses.head : kind === 1 ? poses.left : poses.right;
    s.stamp[eid] = packStamp(timeMs, horizonMs, poseCheck(reg, eid));
    this.written.push(eid, reg.id);
  }

  /**
   * Before change detection: a sample whose pose moved is sent whole. The generic path resends a lost field on its
   * own, with its latest value; a field that did not move again would otherwise reach viewers only after the loss
   * is detected, behind newer stamps. Forgetting the shadow of every pose field makes all of them go out together
   * (the "all fields" bit, no mask), so a moving sample is complete wherever it arrives.
   */
  beforeDetect(): void {
    this.retimer?.retime(this.net.clock.now(), this.writeRetimed);
    const shadow = this.net.replicator.shadow;
    const w = this.written;
    for (let i = 0; i < w.length; i += 2) {
      const eid = w[i];
      const c = w[i + 1];
      const comp = this.net.replicator.protocol.components[c];
      const wires = shadow.wire[c];
      if (eid >= shadow.capacity) continue;
      let moved = false;
      for (let f = 0; f < comp.fields.length && !moved; f++) {
        const fd = comp.fields[f];
        if (fd.name !== 'stamp' && readWireValue(fd, eid, NO_REFS) !== wires[f][eid]) moved = true;
      }
      if (moved) for (let f = 0; f < comp.fields.length; f++) wires[f][eid] = NaN;
    }
    w.length = 0;
  }

  send(peer: ServerPeer): void {
    const c = this.correction;
    const reg = this.net.replicator.registry;
    c.count = 0;
    for (const [eid, dev] of this.devices) {
      if (dev.owner !== peer.clientId || dev.pendingTick < 0) continue;
      const netId = reg.toNet(eid);
      if (netId === 0 || c.count === MAX_CORRECTIONS) continue;
      const j = c.count++;
      c.netId[j] = netId;
      c.tick[j] = dev.pendingTick;
      const a = dev.accepted;
      for (let k = 0; k < 3; k++) c.pos[j * 3 + k] = this.codec.quantizePosition(a[k]);
      c.rot[j] = this.codec.packRotation(a[3], a[4], a[5], a[6]);
      dev.pendingTick = -1;
    }
    if (c.count === 0) return;
    encodeCorrection(this.writer, this.codec, c);
    if (peer.connection.sendUnreliable(this.writer.finish())) this.vr.stats.correctionMessages++;
  }
}

/** True when the accepted pose differs from the proposed one by more than rounding. */
export function isCorrectedPose(accepted: Float64Array, proposed: Float64Array): boolean {
  const dist = Math.hypot(accepted[0] - proposed[0], accepted[1] - proposed[1], accepted[2] - proposed[2]);
  if (dist > CORRECTED_POSITION_M) return true;
  const dot =
    accepted[3] * proposed[3] + accepted[4] * proposed[4] + accepted[5] * proposed[5] + accepted[6] * proposed[6];
  return Math.abs(dot) < CORRECTED_ROTATION_DOT;
}
