/**
 * The client's pose stream: at each send tick it records every owned device's tick (raw input and prediction) and
 * sends one InputPoses message with the last few ticks; it receives the server's Corrections and queues them for
 * the reconciliation system.
 */
import { NetError } from '../errors.ts';
import type { Connection } from '../connection/connection.ts';
import { Tag } from '../protocol/tags.ts';
import type { ClientExtension } from '../replication/extension.ts';
import { BitReader, BitWriter, openBody } from '../replication/wire-bodies.ts';
import { CorrectionFrame, decodeCorrection } from './correction-codec.ts';
import { POSE_LENGTH } from './pose-history.ts';
import { angularVelocityBetween } from './pose-math.ts';
import {
  MAX_STREAM_DEVICES,
  MAX_STREAM_TICKS,
  PoseStreamFrame,
  STREAM_TIME_RANGE,
  STREAM_TIME_UNITS_PER_MS,
} from './pose-stream-codec.ts';
import { recordTick } from './reconciliation.ts';
import type { OwnedDevice, VrClientContext } from './vr-context.ts';

/** Corrections queued between two frames before the oldest are dropped (a frame never needs more than a few). */
export const MAX_PENDING_CORRECTIONS = 64;

/** Creates the client extension of the VR pose layer. */
export function createClientPoseExtension(vr: VrClientContext): ClientExtension {
  const frame = new PoseStreamFrame();
  const correction = new CorrectionFrame();
  const writer = new BitWriter(1024);
  const reader = new BitReader();
  const devices: OwnedDevice[] = [];
  const w4 = new Float64Array(4);
  let firstTick = -1;

  function send(conn: Connection, tick: number): void {
    // 1. record this tick for every owned device that has input
    const times = vr.tickTimes;
    devices.length = 0;
    let timeMs = NaN;
    for (const dev of vr.owned.values()) {
      if (!dev.captured) continue;
      recordTick(dev.state, tick);
      timeMs = dev.state.rawTimeMs;
      devices.push(dev);
    }
    if (devices.length === 0) return;
    const slot = tick % times.length;
    times[slot] = timeMs;
    vr.tickOf[slot] = tick;
    if (firstTick < 0 || tick < firstTick) firstTick = tick;
    // 2. ticks: the last few that all have a recorded time
    let count = 1;
    while (count < vr.options.redundantTicks && tick - count >= firstTick) {
      const s = (tick - count) % times.length;
      if (vr.tickOf[s] !== tick - count) break;
      count++;
    }
    devices.sort((a, b) => a.netId - b.netId);
    if (devices.length > MAX_STREAM_DEVICES) devices.length = MAX_STREAM_DEVICES;
    // 3. encode, with fewer ticks if the message would not fit the packet
    const space = conn.unreliableSpaceBytes();
    for (; count >= 1; count--) {
      fill(tick, count);
      vr.codec.encode(writer, frame);
      if (writer.byteLength <= space) break;
    }
    if (count === 0) return;
    const bytes = writer.finish();
    if (conn.sendUnreliable(bytes)) {
      vr.stats.posePackets++;
      vr.stats.poseBytes += bytes.length;
    }
  }

  function fill(tick: number, count: number): void {
    const f = frame;
    const codec = vr.codec;
    const times = vr.tickTimes;
    const newestUnits = Math.round(times[tick % times.length] * STREAM_TIME_UNITS_PER_MS);
    f.newestTick = tick;
    f.tickCount = count;
    f.newestTimeUnits = ((newestUnits % STREAM_TIME_RANGE) + STREAM_TIME_RANGE) % STREAM_TIME_RANGE;
    for (let i = 0; i < count; i++) {
      const t = tick - count + 1 + i;
      f.ageUnits[i] = Math.max(0, newestUnits - Math.round(times[t % times.length] * STREAM_TIME_UNITS_PER_MS));
    }
    f.horizonMs = vr.options.horizonMs;
    f.deviceCount = 0;
    for (const dev of devices) {
      const h = dev.state.history;
      const d = f.deviceCount;
      // The device's ticks must run without a hole up to the newest: skip everything older than a hole.
      let skip = count;
      while (skip > 0 && h.slotOf(tick - count + skip) >= 0) skip--;
      if (skip === count) continue;
      f.netId[d] = dev.netId;
      f.active[d] = dev.state.active ? 1 : 0;
      f.skip[d] = skip;
      for (let i = skip; i < count; i++) {
        const s = h.slotOf(tick - count + 1 + i);
        const p = s * POSE_LENGTH;
        const q = (d * MAX_STREAM_TICKS + i) * 3;
        f.pos[q] = codec.quantizePosition(h.raw[p]);
        f.pos[q + 1] = codec.quantizePosition(h.raw[p + 1]);
        f.pos[q + 2] = codec.quantizePosition(h.raw[p + 2]);
        f.rot[d * MAX_STREAM_TICKS + i] = codec.packRotation(h.raw[p + 3], h.raw[p + 4], h.raw[p + 5], h.raw[p + 6]);
      }
      f.hasVelocity[d] = vr.poses.velocities[dev.kind] ? 1 : 0;
      if (f.hasVelocity[d]) fillVelocity(dev, tick, d);
      f.deviceCount++;
    }
  }

  /** The app's input velocity when it gave one, else a backward difference over the last two ticks. */
  function fillVelocity(dev: OwnedDevice, tick: number, d: number): void {
    const h = dev.state.history;
    const s = h.slotOf(tick);
    const v = h.velocity;
    let given = false;
    for (let k = 0; k < 6; k++) if (v[s * 6 + k] !== 0) given = true;
    const out = frame.vel;
    if (given) {
      for (let k = 0; k < 6; k++) out[d * 6 + k] = vr.codec.quantizeVelocity(v[s * 6 + k], k);
      return;
    }
    const s0 = h.slotOf(tick - 1);
    const dtS = s0 >= 0 ? (h.time[s] - h.time[s0]) / 1000 : 0;
    if (!(dtS > 0)) {
      for (let k = 0; k < 6; k++) out[d * 6 + k] = vr.codec.quantizeVelocity(0, k);
      return;
    }
    const r = h.raw;
    const a = s0 * POSE_LENGTH;
    const b = s * POSE_LENGTH;
    angularVelocityBetween(r[a + 3], r[a + 4], r[a + 5], r[a + 6], r[b + 3], r[b + 4], r[b + 5], r[b + 6], dtS, w4);
    for (let k = 0; k < 3; k++) out[d * 6 + k] = vr.codec.quantizeVelocity((r[b + k] - r[a + k]) / dtS, k);
    for (let k = 0; k < 3; k++) out[d * 6 + 3 + k] = vr.codec.quantizeVelocity(w4[k], 3 + k);
  }

  function onCorrection(msg: Uint8Array): void {
    openBody(reader, msg);
    if (!decodeCorrection(reader, vr.codec, correction)) {
      vr.stats.decodeErrors++;
      vr.onError?.(new NetError('DecodeError', 'malformed Correction dropped'));
      return;
    }
    const reg = vr.net.replicator.registry;
    const codec = vr.codec;
    for (let j = 0; j < correction.count; j++) {
      const eid = reg.toLocal(correction.netId[j]);
      if (eid === 0 || !vr.owned.has(eid)) continue;
      const list = vr.corrections;
      if (list.length >= MAX_PENDING_CORRECTIONS) list.shift();
      const pose = new Float64Array(POSE_LENGTH);
      pose[0] = codec.dequantizePosition(correction.pos[j * 3]);
      pose[1] = codec.dequantizePosition(correction.pos[j * 3 + 1]);
      pose[2] = codec.dequantizePosition(correction.pos[j * 3 + 2]);
      codec.unpackRotation(correction.rot[j], pose, 3);
      list.push({ eid, tick: correction.tick[j], pose });
    }
  }

  return {
    send,
    message(tag, msg) {
      if (tag !== Tag.Correction) return false;
      onCorrection(msg);
      return true;
    },
  };
}
