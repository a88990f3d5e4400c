/**
 * The TelemetryReport body (tag 7004, client → server, unreliable): one fixed-size little-endian record of what a
 * client measured over its last report interval. Fixed size makes the cap and the validation one length check.
 */

/** Body version this codec writes and accepts. */
export const TELEMETRY_VERSION = 1;

/** Exact body size in bytes (tag excluded): every field below, nothing variable. */
export const TELEMETRY_BODY_BYTES = 32;

/** Flag bit: the client has a VR layer, so `corrections` and `reconErrorMm` mean something. */
export const TELEMETRY_FLAG_VR = 1;

/** What one TelemetryReport carries, in natural units. */
export interface TelemetryReport {
  /** Report counter of this client (wraps at 65,536), so the server can count lost reports. */
  seq: number;
  /** Length of the interval this report covers, ms. */
  intervalMs: number;
  /** Frame time median and 95th percentile over the interval, ms (0 when no frame was recorded). */
  frameP50Ms: number;
  /** Frame time 95th percentile over the interval, in ms (0 when no frame was recorded). */
  frameP95Ms: number;
  /** Frames recorded in the interval, and how many were slower than the reporter's slow-frame threshold. */
  frames: number;
  /** Frames of the interval slower than the reporter's slow-frame threshold. */
  slowFrames: number;
  /** The connection's smoothed round trip and jitter, ms. */
  rttMs: number;
  /** The connection's jitter (mean deviation of the round trip), in ms. */
  jitterMs: number;
  /** The connection's recent loss ratio, 0..1. */
  lossRatio: number;
  /** Bytes per second received and sent over the interval. */
  bytesInPerSec: number;
  /** Bytes per second sent over the interval. */
  bytesOutPerSec: number;
  /** Whether the client has a VR layer (corrections and reconciliation error are 0 otherwise). */
  vr: boolean;
  /** Pose corrections received from the server in the interval. */
  corrections: number;
  /** Largest reconciliation offset of an owned device now, mm. */
  reconErrorMm: number;
}

const U16 = 0xffff;
const U32 = 0xffffffff;

function clampInt(v: number, max: number): number {
  if (!(v > 0)) return 0;
  return v >= max ? max : Math.round(v);
}

/** Encodes `r` into a new TELEMETRY_BODY_BYTES array; values beyond a field's range saturate. */
export function encodeTelemetry(r: TelemetryReport): Uint8Array {
  const out = new Uint8Array(TELEMETRY_BODY_BYTES);
  const v = new DataView(out.buffer);
  // 1. version, flags
  v.setUint8(0, TELEMETRY_VERSION);
  v.setUint8(1, r.vr ? TELEMETRY_FLAG_VR : 0);
  // 2. seq, interval (ms)
  v.setUint16(2, r.seq & U16, true);
  v.setUint16(4, clampInt(r.intervalMs, U16), true);
  // 3. frame p50, p95 (1/100 ms), frames, slow frames
  v.setUint16(6, clampInt(r.frameP50Ms * 100, U16), true);
  v.setUint16(8, clampInt(r.frameP95Ms * 100, U16), true);
  v.setUint16(10, clampInt(r.frames, U16), true);
  v.setUint16(12, clampInt(r.slowFrames, U16), true);
  // 4. rtt, jitter (1/10 ms), loss (1/65535)
  v.setUint16(14, clampInt(r.rttMs * 10, U16), true);
  v.setUint16(16, clampInt(r.jitterMs * 10, U16), true);
  v.setUint16(18, clampInt(r.lossRatio * U16, U16), true);
  // 5. bytes/s in, out
  v.setUint32(20, clampInt(r.bytesInPerSec, U32), true);
  v.setUint32(24, clampInt(r.bytesOutPerSec, U32), true);
  // 6. corrections, reconciliation error (mm)
  v.setUint16(28, clampInt(r.corrections, U16), true);
  v.setUint16(30, clampInt(r.reconErrorMm, U16), true);
  return out;
}

/** Why a body was refused. */
export type TelemetryDecodeFailure = 'oversize' | 'short' | 'version' | 'invalid';

/**
 * Decodes a body, validating before reading: exact length, known version, no unknown flag, slow frames <= frames,
 * p50 <= p95. Returns the failure instead of throwing.
 */
export function decodeTelemetry(body: Uint8Array): TelemetryReport | TelemetryDecodeFailure {
  if (body.length > TELEMETRY_BODY_BYTES) return 'oversize';
  if (body.length < TELEMETRY_BODY_BYTES) return 'short';
  const v = new DataView(body.buffer, body.byteOffset, body.length);
  // 1. version, flags
  if (v.getUint8(0) !== TELEMETRY_VERSION) return 'version';
  const flags = v.getUint8(1);
  if ((flags & ~TELEMETRY_FLAG_VR) !== 0) return 'invalid';
  // 3. frames (checked before building the record)
  const p50 = v.getUint16(6, true);
  const p95 = v.getUint16(8, true);
  const frames = v.getUint16(10, true);
  const slow = v.getUint16(12, true);
  if (slow > frames || p50 > p95) return 'invalid';
  return {
    // 2. seq, interval
    seq: v.getUint16(2, true),
    intervalMs: v.getUint16(4, true),
    frameP50Ms: p50 / 100,
    frameP95Ms: p95 / 100,
    frames,
    slowFrames: slow,
    // 4. rtt, jitter, loss
    rttMs: v.getUint16(14, true) / 10,
    jitterMs: v.getUint16(16, true) / 10,
    lossRatio: v.getUint16(18, true) / U16,
    // 5. bytes/s
    bytesInPerSec: v.getUint32(20, true),
    bytesOutPerSec: v.getUint32(24, true),
    // 6. VR
    vr: (flags & TELEMETRY_FLAG_VR) !== 0,
    corrections: v.getUint16(28, true),
    reconErrorMm: v.getUint16(30, true),
  };
}
