/**
 * The server's jitter buffer of owner pose streams. Owners send a pose every send tick, and the server sends
 * everyone else a pose every send tick of its own; the two clocks are not aligned. Writing each owner's newest
 * pose at every server tick aliases the two rates: with jitter, an owner sample that lands just after a server
 * tick waits a whole tick, and when two land inside one tick the older is never sent at all. Measured on the
 * standard motion trace at 100 ms RTT / 20 ms jitter: 18 % of the gaps viewers saw were two or three sample
 * intervals, and the render delay could not cover the bimodal lag they made (RMS 0.7-5.4 mm over six seeds).
 *
 * The retimer keeps the accepted samples of each device (`InterpolationBuffer`) and, at each server tick, writes
 * the pose at a render time `tau` a little behind the owner's newest sample: an adaptive delay per owner (a
 * `RenderDelay` over the lags of the owner's samples at the server), so `tau` advances one server interval per
 * tick and viewers get a regular stream, stamped with `tau`, with a pose and a velocity from the curve through
 * real samples. It never runs past a device's newest accepted sample: with nothing newer it writes nothing.
 */
import { InterpolationBuffer, SampleMode } from './interpolation-buffer.ts';
import { POSE_LENGTH } from './pose-history.ts';
import { DEFAULT_RENDER_DELAY_OPTIONS, RenderDelay, type RenderDelayOptions } from './render-delay.ts';

/**
 * Defaults of the server's delay, measured with bench/vr-quality over six seeds at 0/50/100/200 ms RTT: with the
 * jitter term at 1.5 deviations (the viewer keeps its own 2.25) the display delay stays inside the budget at every
 * row (worst -0.2 ms at 100 ms RTT) and the RMS is 0.5-0.9 mm at 100 ms RTT; 2.25 on both sides passes the budget
 * by 5 ms.
 */
export const DEFAULT_RETIME_OPTIONS: RenderDelayOptions = { ...DEFAULT_RENDER_DELAY_OPTIONS, jitterFactor: 1.5 };

/** Initial sample spacing (ms) until an owner's own gaps are measured: a 30 Hz sender. */
const INITIAL_INTERVAL_MS = 1000 / 30;
/** Accepted samples kept per device: ~0.5 s at 30 Hz, far more than the delay ever reaches back. */
const SAMPLES_PER_DEVICE = 16;

/** One retimed pose, handed to the writer. */
export interface RetimedPose {
  eid: number;
  /** Device kind (0 head, 1 left, 2 right). */
  kind: number;
  /** Capture time on the server clock (ms) the pose is for. */
  timeMs: number;
  /** Position and rotation (7 numbers). */
  pose: Float64Array;
  /** Linear (m/s) and angular (rad/s) velocity (6 numbers). */
  velocity: Float64Array;
  /** The owner's extrapolation horizon sent with its newest sample (ms). */
  horizonMs: number;
}

interface RetimedDevice {
  owner: number;
  kind: number;
  readonly samples: InterpolationBuffer;
  /** Time of the last written pose (ms), -Infinity before the first. */
  writtenMs: number;
  horizonMs: number;
}

/** Per-owner delays and per-device samples of the server's pose jitter buffer. */
export class PoseRetimer {
  private readonly options: RenderDelayOptions;
  private readonly delays = new Map<number, RenderDelay>();
  private readonly devices = new Map<number, RetimedDevice>();
  private readonly out: RetimedPose = {
    eid: 0,
    kind: 0,
    timeMs: 0,
    pose: new Float64Array(POSE_LENGTH),
    velocity: new Float64Array(6),
    horizonMs: 0,
  };

  constructor(options: RenderDelayOptions = DEFAULT_RETIME_OPTIONS) {
    this.options = options;
  }

  /** Devices with samples held. */
  get deviceCount(): number {
    return this.devices.size;
  }

  /**
   * An accepted sample of `eid` (owned by `owner`) captured at `timeMs` (server clock) arrived at `nowMs`:
   * `pose` 7 numbers, `velocity` 6 numbers or null when the stream carries none.
   */
  accept(
    owner: number,
    eid: number,
    kind: number,
    nowMs: number,
    timeMs: number,
    pose: ArrayLike<number>,
    velocity: ArrayLike<number> | null,
    horizonMs: number,
  ): void {
    let dev = this.devices.get(eid);
    if (!dev || dev.owner !== owner) {
      dev = {
        owner,
        kind,
        samples: new InterpolationBuffer(SAMPLES_PER_DEVICE),
        writtenMs: -Infinity,
        horizonMs,
      };
      this.devices.set(eid, dev);
    }
    dev.kind = kind;
    dev.horizonMs = horizonMs;
    const previous = dev.samples.newestTime;
    if (!dev.samples.push(timeMs, pose, 0, velocity)) return;
    let delay = this.delays.get(owner);
    if (!delay) {
      delay = new RenderDelay(INITIAL_INTERVAL_MS, this.options);
      this.delays.set(owner, delay);
    }
    delay.onSample(nowMs, timeMs);
    if (previous !== -Infinity) delay.onGap(timeMs - previous);
  }

  /**
   * Calls `write` with the pose of every device at its owner's render time for `nowMs`, for each device whose
   * render time moved past the last pose written and is covered by its samples. The object passed is reused;
   * `write` returns false when the entity is no longer that owner's device, and the device is forgotten.
   */
  retime(nowMs: number, write: (p: RetimedPose, owner: number) => boolean): void {
    const out = this.out;
    for (const [eid, dev] of this.devices) {
      const delay = this.delays.get(dev.owner);
      if (!delay) continue;
      // One render time per owner and tick (renderTime advances its state once per nowMs). It keeps its pace when
      // samples are late (no newest sample is given): a device without a sample at it writes nothing, and goes on
      // as soon as one arrives.
      let tau = delay.renderTime(nowMs);
      const samples = dev.samples;
      // Inside a long gap (the device paused, or a loss burst) nothing is known: the device goes on from the
      // gap's end at once (viewers skip the gap as theirs), then waits there until the render time catches up;
      // the owner's other devices keep their pace.
      const gapEnd = samples.gapEndAfter(tau);
      if (gapEnd === gapEnd) tau = gapEnd;
      if (tau > samples.newestTime) tau = samples.newestTime;
      if (!(tau > dev.writtenMs)) continue;
      const mode = samples.sample(tau, 0, out.pose, 'hermite');
      // Before the first sample there is nothing to write yet; past the newest is excluded above.
      if (mode !== SampleMode.interpolating) continue;
      samples.velocityAt(tau, out.velocity);
      dev.writtenMs = tau;
      out.eid = eid;
      out.kind = dev.kind;
      out.timeMs = tau;
      out.horizonMs = dev.horizonMs;
      if (!write(out, dev.owner)) this.devices.delete(eid);
    }
  }

  /** Forgets the samples of one device (its entity is gone or changed owner). */
  forgetDevice(eid: number): void {
    this.devices.delete(eid);
  }

  /** Forgets an owner's delay and devices (it left). */
  forgetOwner(owner: number): void {
    this.delays.delete(owner);
    for (const [eid, dev] of this.devices) if (dev.owner === owner) this.devices.delete(eid);
  }
}
