/**
 * A deterministic VR room: one server and clients over the in-memory network with a link conditioner and a manual
 * clock, each world with the VR pose layer; avatars (head + two controllers) owned by clients and driven by the
 * standard motion trace. Frames run the systems in the documented order.
 */
import { addComponent, addEntity, createWorld, type World } from 'bitecs';
import { createPoseComponents, type PoseComponents } from '../components/pose-components.ts';
import {
  clientIdOf,
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  entityOfNetworkId,
  Networked,
  networkIdOf,
  setOwner,
  type Link,
  type LinkConditions,
  type ManualClock,
  type MemoryNetwork,
  type NetworkPlugin,
  type Protocol,
  type ServerPluginOptions,
} from '../src/index.ts';
import { createMotionTrace, type MotionTrace, TRACE_SAMPLE_LENGTH, TraceDevice } from '../src/vr/motion-trace.ts';
import { type PoseProtocolOptions, registerPoseComponents } from '../src/vr/pose-protocol.ts';
import { addVrPoses, type VrPoses, type VrPosesOptions } from '../src/vr/vr-plugin.ts';
import { interpolationSystem } from '../systems/interpolation-system.ts';
import { poseInputSystem } from '../systems/pose-input-system.ts';
import { reconciliationSystem } from '../systems/reconciliation-system.ts';

/** Entity capacity of the test worlds. */
export const VR_CAPACITY = 512;

/** One world of the room. */
export interface VrPeer {
  world: World;
  /** The client's link (null for the server). */
  link: Link | null;
  net: NetworkPlugin;
  vr: VrPoses;
  components: PoseComponents;
  protocol: Protocol;
  errors: Error[];
  /** What `VrStepperOptions.registerExtra` registered in this world's protocol (undefined without it). */
  extra?: unknown;
}

/** Server entities of one avatar. */
export interface Avatar {
  head: number;
  left: number;
  right: number;
}

/** Options of the room. */
export interface VrStepperOptions {
  seed?: number;
  /** Frame time of every peer (ms); default 90 Hz, a VR display rate. */
  frameMs?: number;
  /** Send rate of every peer (Hz); default 30. */
  sendRateHz?: number;
  protocol?: PoseProtocolOptions;
  /** VR options of the server (validation) and of every client. */
  server?: Omit<VrPosesOptions, 'components'>;
  client?: Omit<VrPosesOptions, 'components'>;
  /** Server plugin's StateHash interval (ms; 0 = none); default the plugin's. */
  hashIntervalMs?: number;
  /** Server plugin's per-client limits (false: none, so a fuzzing client is not cut off); default the plugin's. */
  rateLimits?: ServerPluginOptions['rateLimits'];
  /** Server plugin's fidelity levels by distance; default none. */
  fidelity?: ServerPluginOptions['fidelity'];
  /** Registers more components after the pose components, per world; its result is the peer's `extra`. */
  registerExtra?: (protocol: Protocol) => unknown;
}

function defineVrProtocol(
  options: PoseProtocolOptions | undefined,
  registerExtra?: (protocol: Protocol) => unknown,
): {
  protocol: Protocol;
  components: PoseComponents;
  extra: unknown;
} {
  const protocol = createProtocol();
  const components = createPoseComponents(VR_CAPACITY);
  registerPoseComponents(protocol, components, options);
  return { protocol, components, extra: registerExtra?.(protocol) };
}

/** Server and clients with VR poses over one memory network, stepped by a manual clock. */
export class VrStepper {
  readonly clock: ManualClock;
  readonly network: MemoryNetwork;
  readonly server: VrPeer;
  readonly clients: VrPeer[] = [];
  readonly frameMs: number;
  private readonly options: VrStepperOptions;
  private readonly sendRateHz: number;

  constructor(options: VrStepperOptions = {}) {
    this.options = options;
    this.clock = createManualClock(1000);
    this.network = createMemoryNetwork({ clock: this.clock, seed: options.seed ?? 1 });
    this.frameMs = options.frameMs ?? 1000 / 90;
    this.sendRateHz = options.sendRateHz ?? 30;
    const { protocol, components, extra } = defineVrProtocol(options.protocol, options.registerExtra);
    const world = createWorld();
    const errors: Error[] = [];
    const net = createNetworkPlugin(world, {
      role: 'server',
      protocol,
      transport: this.network.server,
      clock: this.clock,
      sendRateHz: this.sendRateHz,
      hashIntervalMs: options.hashIntervalMs,
      rateLimits: options.rateLimits,
      fidelity: options.fidelity,
      onError: (e) => errors.push(e),
    });
    const vr = addVrPoses(world, { ...options.server, components });
    this.server = { world, link: null, net, vr, components, protocol, errors, extra };
  }

  /** Connects a client whose link to the server has `conditions` both ways (or `up`/`down` apart). */
  addClient(conditions?: LinkConditions | { up?: LinkConditions; down?: LinkConditions }): VrPeer {
    const { protocol, components, extra } = defineVrProtocol(this.options.protocol, this.options.registerExtra);
    const world = createWorld();
    const errors: Error[] = [];
    const pair =
      conditions && ('up' in conditions || 'down' in conditions)
        ? (conditions as { up?: LinkConditions; down?: LinkConditions })
        : { up: conditions as LinkConditions, down: conditions as LinkConditions };
    const link = this.network.connect(pair);
    const net = createNetworkPlugin(world, {
      role: 'client',
      protocol,
      link,
      clock: this.clock,
      sendRateHz: this.sendRateHz,
      onError: (e) => errors.push(e),
    });
    const vr = addVrPoses(world, { ...this.options.client, components });
    const peer = { world, link, net, vr, components, protocol, errors, extra };
    this.clients.push(peer);
    return peer;
  }

  /** Spawns an avatar (head + two controllers with grip state) on the server, owned by `owner`. */
  spawnAvatar(owner: VrPeer): Avatar {
    const w = this.server.world;
    const c = this.server.components;
    const make = (pose: object, grip: boolean) => {
      const eid = addEntity(w);
      addComponent(w, eid, pose);
      if (grip) addComponent(w, eid, c.GripState);
      addComponent(w, eid, Networked);
      setOwner(w, eid, clientIdOf(owner.world));
      return eid;
    };
    return {
      head: make(c.HeadPose, false),
      left: make(c.LeftControllerPose, true),
      right: make(c.RightControllerPose, true),
    };
  }

  /** The local entity of server entity `serverEid` on `peer` (0 when not spawned there yet). */
  local(peer: VrPeer, serverEid: number): number {
    return entityOfNetworkId(peer.world, networkIdOf(this.server.world, serverEid));
  }

  /** One frame: time passes, packets arrive; the server receives and sends; each client runs its VR frame. */
  step(drive?: (peer: VrPeer, nowMs: number) => void): void {
    this.clock.advance(this.frameMs);
    this.network.pump();
    const s = this.server;
    s.net.receive(s.world);
    s.net.send(s.world);
    for (const c of this.clients) {
      c.net.receive(c.world);
      reconciliationSystem(c.world);
      drive?.(c, this.clock.now());
      poseInputSystem(c.world);
      c.net.send(c.world);
      interpolationSystem(c.world);
    }
  }

  /** Runs `frames` frames. */
  run(frames: number, drive?: (peer: VrPeer, nowMs: number) => void): void {
    for (let i = 0; i < frames; i++) this.step(drive);
  }
}

/** Writes one trace sample (13 numbers) into a tracked-pose store at `eid`. */
export function writePose(store: PoseComponents['HeadPose'], eid: number, s: Float64Array): void {
  store.px[eid] = s[0];
  store.py[eid] = s[1];
  store.pz[eid] = s[2];
  store.qx[eid] = s[3];
  store.qy[eid] = s[4];
  store.qz[eid] = s[5];
  store.qw[eid] = s[6];
  store.vx[eid] = s[7];
  store.vy[eid] = s[8];
  store.vz[eid] = s[9];
  store.wx[eid] = s[10];
  store.wy[eid] = s[11];
  store.wz[eid] = s[12];
}

/** Drives the owner's local avatar entities from a motion trace at trace time `tMs`. */
export class TraceDriver {
  readonly trace: MotionTrace;
  private readonly sample = new Float64Array(TRACE_SAMPLE_LENGTH);

  constructor(seed: number) {
    this.trace = createMotionTrace(seed);
  }

  /** Writes head, left and right at trace time `tMs` into the owner's local entities (0 = not there yet). */
  drive(peer: VrPeer, local: Avatar, tMs: number): void {
    const c = peer.components;
    const devices: Array<[number, number, PoseComponents['HeadPose']]> = [
      [TraceDevice.head, local.head, c.HeadPose],
      [TraceDevice.left, local.left, c.LeftControllerPose],
      [TraceDevice.right, local.right, c.RightControllerPose],
    ];
    for (const [device, eid, store] of devices) {
      if (eid === 0) continue;
      this.trace.sample(device as 0 | 1 | 2, tMs, this.sample);
      writePose(store, eid, this.sample);
    }
  }
}
