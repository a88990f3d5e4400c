/**
 * A VR room with hand tracking: the VrStepper's server and clients, each world with the hand layer, each client's
 * avatar hands driven by synthetic hands on the standard controller trace (the wrist follows the controller). The
 * render system runs after the stepper's frame, as an app would run it last.
 */
import { createHandComponents, type HandComponents } from '../components/hand-components.ts';
import { HAND_JOINTS_LENGTH } from '../components/tracked-hand.ts';
import { addHandTracking, type HandTracking, writeHandJoints } from '../src/vr/hand-tracking.ts';
import { handRenderSystem } from '../systems/hand-render-system.ts';
import { SyntheticHand } from './synthetic-hand.ts';
import { type Avatar, TraceDriver, VR_CAPACITY, type VrPeer, VrStepper, type VrStepperOptions } from './vr-stepper.ts';

/** A peer of the room with its hand layer. */
export interface HandPeer {
  peer: VrPeer;
  hands: HandComponents;
  layer: HandTracking;
}

/** Places wrist-frame joints `rel` at the wrist pose `w` (13 numbers of a trace sample) into `out`. */
function placeAt(rel: Float64Array, w: Float64Array, out: Float64Array): void {
  const [px, py, pz, qx, qy, qz, qw] = w;
  for (let j = 0; j < 25; j++) {
    const o = j * 7;
    const [x, y, z] = [rel[o], rel[o + 1], rel[o + 2]];
    const tx = 2 * (qy * z - qz * y);
    const ty = 2 * (qz * x - qx * z);
    const tz = 2 * (qx * y - qy * x);
    out[o] = px + x + qw * tx + (qy * tz - qz * ty);
    out[o + 1] = py + y + qw * ty + (qz * tx - qx * tz);
    out[o + 2] = pz + z + qw * tz + (qx * ty - qy * tx);
    const [bx, by, bz, bw] = [rel[o + 3], rel[o + 4], rel[o + 5], rel[o + 6]];
    out[o + 3] = qw * bx + qx * bw + qy * bz - qz * by;
    out[o + 4] = qw * by - qx * bz + qy * bw + qz * bx;
    out[o + 5] = qw * bz + qx * by - qy * bx + qz * bw;
    out[o + 6] = qw * bw - qx * bx - qy * by - qz * bz;
  }
}

/** The room. */
export class HandRoom {
  readonly stepper: VrStepper;
  readonly server: HandPeer;
  readonly clients: HandPeer[] = [];

  constructor(options: VrStepperOptions = {}) {
    this.stepper = new VrStepper(options);
    this.server = this.withHands(this.stepper.server);
  }

  private withHands(peer: VrPeer): HandPeer {
    const hands = createHandComponents(VR_CAPACITY);
    return { peer, hands, layer: addHandTracking(peer.world, { hands }) };
  }

  addClient(conditions?: Parameters<VrStepper['addClient']>[0]): HandPeer {
    const hp = this.withHands(this.stepper.addClient(conditions));
    this.clients.push(hp);
    return hp;
  }

  step(drive?: (peer: VrPeer, nowMs: number) => void): void {
    this.stepper.step(drive);
    for (const c of this.clients) handRenderSystem(c.peer.world);
    handRenderSystem(this.server.peer.world);
  }
}

/** Drives an owner's avatar: head and controllers from the trace; each hand, while `tracked(t)`, a synthetic hand. */
export class HandDriver {
  readonly trace: TraceDriver;
  readonly left: SyntheticHand;
  readonly right: SyntheticHand;
  private readonly rel = new Float64Array(HAND_JOINTS_LENGTH);
  private readonly sample = new Float64Array(13);
  /** The joints last written per side (world), for comparing with what viewers draw. */
  readonly written = [new Float64Array(HAND_JOINTS_LENGTH), new Float64Array(HAND_JOINTS_LENGTH)];

  /** Another source of wrist-frame joints (e.g. IWER's recorded hand) instead of the synthetic hands, when set. */
  source: ((side: 0 | 1, tMs: number, out: Float64Array) => void) | null = null;

  constructor(seed: number) {
    this.trace = new TraceDriver(seed);
    this.left = new SyntheticHand(seed + 1, true);
    this.right = new SyntheticHand(seed + 2, false);
  }

  /** The joints (world) of side 0 = left / 1 = right at trace time t, into `out`. */
  jointsAt(side: 0 | 1, tMs: number, out: Float64Array): void {
    if (this.source) this.source(side, tMs, this.rel);
    else (side === 0 ? this.left : this.right).jointsAt(tMs, this.rel);
    this.trace.trace.sample(side === 0 ? 1 : 2, tMs, this.sample);
    placeAt(this.rel, this.sample, out);
  }

  drive(peer: VrPeer, local: Avatar, tMs: number, tracked: (side: 0 | 1, tMs: number) => boolean): void {
    this.trace.drive(peer, local, tMs);
    for (const side of [0, 1] as const) {
      const eid = side === 0 ? local.left : local.right;
      if (eid === 0) continue;
      if (!tracked(side, tMs)) {
        writeHandJoints(peer.world, eid, null);
        continue;
      }
      this.jointsAt(side, tMs, this.written[side]);
      writeHandJoints(peer.world, eid, this.written[side]);
    }
  }
}
