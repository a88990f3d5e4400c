/**
 * A VR room on ecsync: one server world and `users` client worlds over the in-memory network (by default no loss, no latency),
 * each client owning three Pose entities (head, left and right hand) that it moves every frame along the standard
 * motion trace (src/vr/motion-trace.ts, its own seed per user, each user standing at its own place on a circle).
 * Frames run at 60 Hz on a manual clock; the server and the clients send at `sendRateHz`; `link` conditions every
 * client's link in both directions. One client (the observer)
 * has a tap on its incoming packets, so every byte it receives is counted and split.
 */
import { addComponent, addEntity, createWorld, query } from 'bitecs';
import type { World } from 'bitecs';
import {
  Networked,
  connectedClients,
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  entityOfNetworkId,
  isOwnedLocally,
  networkIdOf,
  setOwner,
  setViewEntity,
} from '../src/index.ts';
import type { FidelityOptions, Link, LinkConditions, NetworkPlugin, Protocol } from '../src/index.ts';
import { getNetContext } from '../src/context.ts';
import { TRACE_SAMPLE_LENGTH, TraceDevice, createMotionTrace } from '../src/vr/motion-trace.ts';
import type { MotionTrace, TraceDeviceId } from '../src/vr/motion-trace.ts';
import { POSITION_TOLERANCE_M, registerPose } from './ecsync-pose-server.ts';
import { tapIncoming } from './packet-tap.ts';
import type { TapCounts } from './packet-tap.ts';
import { POSE_FIELDS, createPoseArrays } from './workload.ts';
import type { PoseComponent } from './workload.ts';

/** Parts of an avatar, in the order its entities are spawned (and so in network id order). */
export const AVATAR_PARTS: readonly TraceDeviceId[] = [TraceDevice.head, TraceDevice.left, TraceDevice.right];
/** Users stand on a circle around the room's centre, this far apart, so their ~1.5 m of trace motion never overlaps. */
const SEAT_SPACING_M = 3;
/** Frames per simulated second: a 60 Hz XR frame loop. */
export const ROOM_FRAME_HZ = 60;
/** Frames allowed to connect everyone and spawn every avatar everywhere. */
const MAX_JOIN_FRAMES = 600;
/** Frames allowed, after motion stops, for every client to hold the server's final poses. */
const MAX_SETTLE_FRAMES = 120;

/** Options of {@link runAvatarRoom}. */
export interface AvatarRoomOptions {
  users: number;
  /** Simulated seconds measured (after the warm-up). */
  seconds: number;
  /** Simulated seconds run before measuring, after everyone joined. */
  warmupSeconds: number;
  seed: number;
  /** Server and client send rate (default 60). */
  sendRateHz?: number;
  /** Sees the observer's traffic in detail during the measured window. */
  observer?: RoomObserver;
  /** Conditions of every client's link (each direction); default none (no latency, no loss). */
  link?: LinkConditions;
  /** Server fidelity levels (position: the Pose component); each user's viewpoint is its head. Default none. */
  fidelity?: Omit<FidelityOptions, 'position'>;
}

/** Error of the observer's copies of remote poses at one fidelity level, against the server's current pose. */
export interface LevelError {
  /** Pose-frames sampled at this level (remote poses x measured frames). */
  samples: number;
  /** Mean and largest position error (m). */
  meanPositionM: number;
  maxPositionM: number;
  /** Mean and largest rotation error (degrees). */
  meanRotationDeg: number;
  maxRotationDeg: number;
}

/** Detailed view of what the observer receives. */
export interface RoomObserver {
  /** Once everyone joined: the user index (0-based) owning each replicated network id. */
  joined?(userOfNetId: ReadonlyMap<number, number>): void;
  /** Each Delta entity received in the measured window: network id and block size in bits (id gap included). */
  entity?(netId: number, bits: number): void;
  /** End of each measured frame. */
  frame?(): void;
}

/** What one room run measured at the observer. */
export interface AvatarRoomResult {
  users: number;
  sendRateHz: number;
  seconds: number;
  frames: number;
  /** Everything the observer received in the measured window: all packets, ecsync headers included. */
  counts: TapCounts;
  /** counts.bytes * 8 / seconds / 1000. */
  kbpsDown: number;
  packetsPerSecond: number;
  /** Remote poses the observer received per frame (3 per remote avatar when none is deferred). */
  posesPerFrame: number;
  /** Entity-block bytes (ids, presence, masks, values) per received pose, Delta and packet headers excluded. */
  entityBytesPerPose: number;
  /** Simulated time until every client held every avatar. */
  joinMs: number;
  /** Largest position error of any client's copy of any pose once motion stopped and the room settled. */
  settledErrorM: number;
  settleFrames: number;
  /** With fidelity: the observer's error per level (by distance from its head, as the server chose it). */
  levelErrors?: LevelError[];
}

interface Member {
  world: World;
  Pose: PoseComponent;
  net: NetworkPlugin;
  trace: MotionTrace;
  /** Where this user stands: added to the trace's positions. */
  seat: [number, number];
  /** Local entity ids of this client's own head, left and right hand (by network id order), once all arrived. */
  own: number[];
}

function defineWorld(capacity: number): { world: World; Pose: PoseComponent; protocol: Protocol } {
  const Pose = createPoseArrays(capacity);
  Pose.qw.fill(1);
  const protocol = createProtocol();
  registerPose(protocol, Pose);
  return { world: createWorld(), Pose, protocol };
}

/** Writes the trace's position (moved to the user's seat) and orientation into the Pose of `eid`. */
function writePose(Pose: PoseComponent, eid: number, m: Member, part: number, tMs: number, sample: Float64Array): void {
  m.trace.sample(AVATAR_PARTS[part], tMs, sample);
  Pose.px[eid] = sample[0] + m.seat[0];
  Pose.py[eid] = sample[1];
  Pose.pz[eid] = sample[2] + m.seat[1];
  Pose.qx[eid] = sample[3];
  Pose.qy[eid] = sample[4];
  Pose.qz[eid] = sample[5];
  Pose.qw[eid] = sample[6];
}

/**
 * Runs a room and measures what one client receives.
 * @example const r = runAvatarRoom({ users: 16, seconds: 5, warmupSeconds: 1, seed: 1 }); r.kbpsDown;
 */
export function runAvatarRoom(options: AvatarRoomOptions): AvatarRoomResult {
  const { users, seconds, warmupSeconds, seed } = options;
  const sendRateHz = options.sendRateHz ?? 60;
  if (!Number.isInteger(users) || users < 2) throw new Error(`a room needs at least 2 users, got ${users}`);
  const clock = createManualClock();
  const network = createMemoryNetwork({ clock, seed });
  // bitecs ids start at 1; a little room for ids that are not dense.
  const capacity = 3 * users + 64;
  const server = defineWorld(capacity);
  const serverNet = createNetworkPlugin(server.world, {
    role: 'server',
    protocol: server.protocol,
    transport: network.server,
    clock,
    sendRateHz,
    ...(options.fidelity
      ? { fidelity: { ...options.fidelity, position: { component: server.Pose, x: 'px', y: 'py', z: 'pz' } } }
      : {}),
  });
  const members: Member[] = [];
  const links: Link[] = [];
  for (let i = 0; i < users; i++) {
    const c = defineWorld(capacity);
    const link = network.connect(options.link ? { up: options.link, down: options.link } : {});
    const net = createNetworkPlugin(c.world, { role: 'client', protocol: c.protocol, link, clock, sendRateHz });
    links.push(link);
    const angle = (2 * Math.PI * i) / users;
    const radius = Math.max(SEAT_SPACING_M, (SEAT_SPACING_M * users) / (2 * Math.PI));
    members.push({
      world: c.world,
      Pose: c.Pose,
      net,
      trace: createMotionTrace(seed + 101 * i),
      seat: [radius * Math.cos(angle), radius * Math.sin(angle)],
      own: [],
    });
  }
  // Member 0 observes: its connection took the link's packet handler when the plugin started; tap in front of it.
  const observer = members[0];
  const tap = tapIncoming(links[0], getNetContext(observer.world).replicator.protocol.components);
  tap.enabled = false;

  const sample = new Float64Array(TRACE_SAMPLE_LENGTH);
  const spawned = new Set<number>();
  let frame = 0;
  let moving = true;
  const frameMs = 1000 / ROOM_FRAME_HZ;

  function step(): void {
    frame++;
    clock.advance(frameMs);
    network.pump();
    serverNet.receive(server.world);
    // Each client gets its avatar once it is connected: clientId i + 1 is member i.
    for (const clientId of connectedClients(server.world)) {
      if (spawned.has(clientId)) continue;
      spawned.add(clientId);
      for (let part = 0; part < AVATAR_PARTS.length; part++) {
        const eid = addEntity(server.world);
        addComponent(server.world, eid, server.Pose);
        writePose(server.Pose, eid, members[clientId - 1], part, 0, sample);
        addComponent(server.world, eid, Networked);
        setOwner(server.world, eid, clientId);
        if (part === 0) setViewEntity(server.world, clientId, eid);
      }
    }
    serverNet.send(server.world);
    const tMs = (frame * 1000) / ROOM_FRAME_HZ;
    for (const m of members) {
      m.net.receive(m.world);
      if (m.own.length < AVATAR_PARTS.length) findOwn(m);
      if (moving && m.own.length === AVATAR_PARTS.length) {
        for (let part = 0; part < AVATAR_PARTS.length; part++) writePose(m.Pose, m.own[part], m, part, tMs, sample);
      }
      m.net.send(m.world);
    }
  }

  function findOwn(m: Member): void {
    const own = query(m.world, [Networked]).filter((eid) => isOwnedLocally(m.world, eid));
    if (own.length === AVATAR_PARTS.length)
      m.own = [...own].sort((a, b) => networkIdOf(m.world, a) - networkIdOf(m.world, b));
  }

  const everyoneSees = (): boolean =>
    members.every((m) => m.own.length === AVATAR_PARTS.length && query(m.world, [Networked]).length === 3 * users);
  while (!everyoneSees()) {
    if (frame >= MAX_JOIN_FRAMES) throw new Error(`avatar room: ${users} users did not all join in ${frame} frames`);
    step();
  }
  const joinFrames = frame;
  const serverRegistry = getNetContext(server.world).replicator.registry;
  const userOfNetId = new Map<number, number>();
  for (let i = 0; i < serverRegistry.count; i++) {
    const eid = serverRegistry.list[i];
    userOfNetId.set(serverRegistry.netIdOf[eid], serverRegistry.owner[eid] - 1);
  }
  options.observer?.joined?.(userOfNetId);
  if (options.observer?.entity) tap.onEntity = options.observer.entity;
  for (let i = 0; i < Math.round(warmupSeconds * ROOM_FRAME_HZ); i++) step();

  // Measured window.
  const frames = Math.max(1, Math.round(seconds * ROOM_FRAME_HZ));
  tap.reset();
  tap.enabled = true;
  const levels = options.fidelity
    ? measureLevels(options.fidelity, server.Pose, observer, userOfNetId, serverRegistry)
    : null;
  for (let i = 0; i < frames; i++) {
    step();
    options.observer?.frame?.();
    levels?.sample();
  }
  tap.enabled = false;
  tap.onEntity = null;
  const counts = { ...tap.counts };
  const measuredSeconds = frames / ROOM_FRAME_HZ;

  // Honest work: stop moving, let the room settle, and compare every client's copy with the server's.
  moving = false;
  let settledErrorM = Infinity;
  let settleFrames = 0;
  while (settleFrames < MAX_SETTLE_FRAMES) {
    step();
    settleFrames++;
    settledErrorM = 0;
    for (const m of members) {
      for (const eid of query(m.world, [Networked])) {
        const at = serverRegistry.toLocal(networkIdOf(m.world, eid));
        for (let f = 0; f < 3; f++) {
          const key = POSE_FIELDS[f];
          const d = at === 0 ? Infinity : Math.abs(m.Pose[key][eid] - server.Pose[key][at]);
          if (!(d <= settledErrorM)) settledErrorM = d;
        }
      }
    }
    if (settledErrorM <= POSITION_TOLERANCE_M) break;
  }
  return {
    users,
    sendRateHz,
    seconds: measuredSeconds,
    frames,
    counts,
    kbpsDown: (counts.bytes * 8) / measuredSeconds / 1000,
    packetsPerSecond: counts.packets / measuredSeconds,
    posesPerFrame: counts.deltaEntities / frames,
    entityBytesPerPose: counts.deltaEntities > 0 ? counts.deltaEntityBits / 8 / counts.deltaEntities : 0,
    joinMs: (joinFrames * 1000) / ROOM_FRAME_HZ,
    settledErrorM,
    settleFrames,
    ...(levels ? { levelErrors: levels.result() } : {}),
  };
}

/**
 * Samples, each frame, the observer's copy of every remote pose against the server's current pose, by the level the
 * server's distance bands give it (distance from the observer's head on the server).
 */
function measureLevels(
  fidelity: Omit<FidelityOptions, 'position'>,
  serverPose: PoseComponent,
  observer: Member,
  userOfNetId: ReadonlyMap<number, number>,
  serverRegistry: { toLocal(netId: number): number },
): { sample(): void; result(): LevelError[] } {
  const bands = fidelity.levels.map((l, i) => (i === fidelity.levels.length - 1 ? Infinity : (l.within ?? Infinity)));
  const acc = bands.map(() => ({ n: 0, pos: 0, maxPos: 0, rot: 0, maxRot: 0 }));
  const pairs: Array<[number, number]> = []; // [server eid, observer eid]
  let head = 0;
  return {
    sample() {
      if (pairs.length === 0) {
        for (const [netId, user] of userOfNetId) {
          const local = entityOfNetworkId(observer.world, netId) ?? 0;
          const at = serverRegistry.toLocal(netId);
          if (user !== 0 && local !== 0 && at !== 0) pairs.push([at, local]);
        }
        // The observer's head is its first part (lowest network id).
        const own = [...userOfNetId].filter(([, u]) => u === 0).map(([n]) => n);
        head = serverRegistry.toLocal(Math.min(...own));
      }
      const P = serverPose;
      const O = observer.Pose;
      for (const [e, o] of pairs) {
        const d = Math.hypot(P.px[e] - P.px[head], P.py[e] - P.py[head], P.pz[e] - P.pz[head]);
        let level = 0;
        while (d > bands[level]) level++;
        const pos = Math.max(Math.abs(P.px[e] - O.px[o]), Math.abs(P.py[e] - O.py[o]), Math.abs(P.pz[e] - O.pz[o]));
        const dot = Math.abs(P.qx[e] * O.qx[o] + P.qy[e] * O.qy[o] + P.qz[e] * O.qz[o] + P.qw[e] * O.qw[o]);
        const rot = (2 * Math.acos(Math.min(1, dot)) * 180) / Math.PI;
        const a = acc[level];
        a.n++;
        a.pos += pos;
        a.rot += rot;
        a.maxPos = Math.max(a.maxPos, pos);
        a.maxRot = Math.max(a.maxRot, rot);
      }
    },
    result: () =>
      acc.map((a) => ({
        samples: a.n,
        meanPositionM: a.n > 0 ? a.pos / a.n : 0,
        maxPositionM: a.maxPos,
        meanRotationDeg: a.n > 0 ? a.rot / a.n : 0,
        maxRotationDeg: a.maxRot,
      })),
  };
}
