/**
 * ecsync on the bench's pose workload: the workload's own bitecs world becomes an ecsync server (real plugin, real
 * session, in-memory network without loss) with ONE connected client world, so change detection has a peer to fan out
 * to and every packed byte can be decoded on the other side. Shared by the tick-cost method and the pose-bytes family.
 *
 * `packAll()` is the per-tick server work being measured, the parts of `send()` that concern the delta included:
 * the server reads the client's acks (`serverNet.receive`: the connection's ack processing and the delivery
 * state's `acked`), `replicator.detectChanges()`, the priority pass over the pending entities, the bandwidth
 * tokens (refilled from the clock, each packet's budget capped by them, the bytes sent taken off), then the
 * replicator's own packing (`writeDelta`) into packets through the peer's real `Connection`, one packet after
 * another until the client's delivery state is empty, and the accumulators of what went out reset. ecsync's
 * `send()` packs one packet per tick (the connection's 1,100 B unreliable budget, which the MTU bounds, and the
 * per-client cap) and leaves the rest to later ticks; for an "encode every change of this tick" comparison the
 * loop repeats `send()`'s delta path instead, with a cap (BENCH_BANDWIDTH_KBPS) that never binds.
 */
import { addComponent, createWorld } from 'bitecs';
import type { World } from 'bitecs';
import { getNetContext } from '../src/context.ts';
import type { ClientContext, ServerContext } from '../src/context.ts';
import type { Connection } from '../src/connection/connection.ts';
import {
  Networked,
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  field,
  registerComponent,
} from '../src/index.ts';
import type { Link, ManualClock, MemoryNetwork, NetworkPlugin, Protocol } from '../src/index.ts';
import { createPackScratch, writeDelta } from '../src/replication/delta-packer.ts';
import type { PackScratch } from '../src/replication/delta-packer.ts';
import type { PeerReplication, ServerReplicator } from '../src/replication/server-replicator.ts';
import { BitWriter } from '../src/replication/wire-bodies.ts';
import { POSE_FIELDS, createPoseArrays } from './workload.ts';
import type { PoseComponent, PoseWorkload } from './workload.ts';

/** Room-scale positions: +-32 m at 1 mm (16 bits per axis), the SPEC's pose precision. */
export const POSITION_MIN_M = -32;
export const POSITION_MAX_M = 32;
export const POSITION_PRECISION_M = 0.001;
/** Largest position error a receiver may show: half a quantization step, plus float32 storage of a +-10 m value. */
export const POSITION_TOLERANCE_M = POSITION_PRECISION_M / 2 + 1e-6;
/** Bits per smallest-three component of the default `field.quat()` (the field's default: ~0.1 degree on average). */
const QUAT_BITS = 10;
/**
 * Largest rotation error of a received orientation: the codec's first-order bound 2 sqrt(6) / (2^bits - 2) radians
 * (0.275 degrees at 10 bits, see src/codec/quaternion.ts), plus 1e-4 rad for float32 storage on both ends.
 */
export const ORIENTATION_TOLERANCE_RAD = (2 * Math.sqrt(6)) / (2 ** QUAT_BITS - 2) + 1e-4;
/** The per-client cap of the bench server: high enough never to bind, so every change of a tick goes out. */
export const BENCH_BANDWIDTH_KBPS = 1_000_000;
/** A reliable ack header covers the newest packet and the 32 before it (see the connection's packet header). */
const ACK_WINDOW_PACKETS = 33;
/**
 * Environment variable of an A/B switch: `off` drops the `ackedbase` capability (deltas against acked baselines)
 * on both ends once the client joined, so tick cost and bytes can be compared with and without it in one checkout.
 */
export const ACKEDBASE_ENV = 'ECSYNC_BENCH_ACKEDBASE';
/** A 60 Hz server tick. */
export const FRAME_MS = 1000 / 60;
/** Frames allowed for the handshake and the join snapshot (8 packets per flush: ~10 KB per frame, 50k entities fit). */
const MAX_SETUP_FRAMES = 2_000;

/** Registers the bench Pose the way an ecsync user would: 1 mm positions over +-32 m, a smallest-three quaternion. */
export function registerPose(protocol: Protocol, Pose: PoseComponent, changes: 'scan' | 'marked' = 'scan'): void {
  const position = field.quantized(POSITION_MIN_M, POSITION_MAX_M, POSITION_PRECISION_M);
  registerComponent(protocol, Pose, {
    name: 'Pose',
    fields: { px: position, py: position, pz: position, rot: field.quat(['qx', 'qy', 'qz', 'qw'], QUAT_BITS) },
    changes,
  });
}

/** What one `packAll()` produced. */
export interface PackFigures {
  /** Bytes the server's connection put on the link this tick: packet headers, entry framing and Delta messages. */
  linkBytes: number;
  /** Bytes of the Delta messages alone (u16 tag + Delta header + entity blocks), as given to `sendUnreliable`. */
  deltaBytes: number;
  packets: number;
}

/** The server world (the workload's) with one connected client, ready to measure ticks. */
export interface EcsyncPoseServer {
  readonly clock: ManualClock;
  readonly network: MemoryNetwork;
  readonly serverNet: NetworkPlugin;
  readonly clientNet: NetworkPlugin;
  readonly clientWorld: World;
  /** The client's end of the link (tap it to count what arrives). */
  readonly clientLink: Link;
  readonly clientPose: PoseComponent;
  readonly replicator: ServerReplicator;
  readonly peer: PeerReplication;
  readonly connection: Connection;
  /** The measured work: change detection, then every pending change packed and flushed (see the file comment). */
  packAll(): PackFigures;
  /** `packAll` that also counts, before packing, the entities with every Pose field changed (not for timing). */
  packAllCounted(): PackFigures;
  /** Untimed: hands this tick's packets to the client and lets it decode them (idempotent until the next pack). */
  deliver(): void;
  /** Untimed: time moves one frame, the client decodes and sends its acks (the next packAll reads them). */
  settle(): void;
  /** Largest position error of the client's copy (throws above the orientation tolerance). */
  maxError(): number;
  /** Largest orientation error (radians) of the client's copy. */
  maxOrientationError(): number;
  /** Entities with all four Pose fields pending right after the last `packAll`'s change detection. */
  readonly lastAllFieldsChanged: number;
  readonly lastChanged: number;
}

function serverContext(world: object): ServerContext {
  const ctx = getNetContext(world);
  if (ctx.role !== 'server') throw new Error('expected a server world');
  return ctx;
}

function clientContext(world: object): ClientContext {
  const ctx = getNetContext(world);
  if (ctx.role !== 'client') throw new Error('expected a client world');
  return ctx;
}

/** Rotation angle between the orientations of `a[i]` and `b[j]`, sign-agnostic: 4 asin(|qa -+ qb| / 2). */
export function quaternionAngle(a: PoseComponent, i: number, b: PoseComponent, j: number): number {
  const minus = Math.hypot(a.qx[i] - b.qx[j], a.qy[i] - b.qy[j], a.qz[i] - b.qz[j], a.qw[i] - b.qw[j]);
  const plus = Math.hypot(a.qx[i] + b.qx[j], a.qy[i] + b.qy[j], a.qz[i] + b.qz[j], a.qw[i] + b.qw[j]);
  return 4 * Math.asin(Math.min(1, Math.min(minus, plus) / 2));
}

/**
 * Turns `workload.world` into an ecsync server with one client and runs the join until the client holds every
 * entity and nothing is pending. Untimed; call once. `changes: 'marked'` registers the server's Pose for change marks;
 * `ackedBaselines` false: without deltas against acked baselines (default: on unless the `ECSYNC_BENCH_ACKEDBASE`
 * environment variable is `off`).
 */
export function createEcsyncPoseServer(
  workload: PoseWorkload,
  seed: number,
  changes: 'scan' | 'marked' = 'scan',
  ackedBaselines = process.env[ACKEDBASE_ENV] !== 'off',
): EcsyncPoseServer {
  const { world, Pose, eids } = workload;
  const clock = createManualClock();
  const network = createMemoryNetwork({ clock, seed });
  const serverProtocol = createProtocol();
  registerPose(serverProtocol, Pose, changes);
  const serverNet = createNetworkPlugin(world, {
    role: 'server',
    protocol: serverProtocol,
    transport: network.server,
    clock,
    sendRateHz: 60,
    bandwidthKbps: BENCH_BANDWIDTH_KBPS,
  });
  for (const eid of eids) addComponent(world, eid, Networked);

  const clientWorld = createWorld();
  // The client creates one local entity per replicated one; leave room for bitecs ids that do not start at 1.
  const clientPose = createPoseArrays(Pose.px.length + 64);
  const clientProtocol = createProtocol();
  registerPose(clientProtocol, clientPose);
  const clientLink = network.connect();
  const clientNet = createNetworkPlugin(clientWorld, {
    role: 'client',
    protocol: clientProtocol,
    link: clientLink,
    clock,
    sendRateHz: 60,
  });

  const server = serverContext(world);
  const client = clientContext(clientWorld);
  const replicator = server.replicator;
  const joined = (): boolean =>
    replicator.peers.size === 1 &&
    client.replicator.registry.count === eids.length &&
    [...replicator.peers.values()][0].delivery.dirtyCount === 0 &&
    [...replicator.peers.values()][0].peer.connection.reliablePendingBytes === 0;
  for (let frame = 0; !joined(); frame++) {
    if (frame >= MAX_SETUP_FRAMES) {
      throw new Error(
        `ecsync pose server: the client holds ${client.replicator.registry.count}/${eids.length} entities`,
      );
    }
    clock.advance(FRAME_MS);
    network.pump();
    serverNet.receive(world);
    serverNet.send(world);
    clientNet.receive(clientWorld);
    clientNet.send(clientWorld);
  }
  const peer = [...replicator.peers.values()][0];
  const connection = peer.peer.connection;
  if (!ackedBaselines) {
    // A/B switch (bench only): drop the granted acked-baseline coding on both ends before the measured ticks.
    peer.useBaselines(undefined);
    (client.replicator as unknown as { baselines: unknown }).baselines = undefined;
  }
  const comps = replicator.protocol.components;
  const pose = comps[0];
  const writer = new BitWriter(2048);
  const scratch: PackScratch = createPackScratch(comps);
  const sentSeqs: number[] = [];
  let delivered = true;
  let lastAllFieldsChanged = 0;
  let lastChanged = 0;
  const clientRegistry = client.replicator.registry;
  const serverRegistry = replicator.registry;

  function countAllFields(): void {
    const d = peer.delivery;
    let all = 0;
    for (let i = 0; i < d.dirtyCount; i++) if (d.pending[0][d.dirty[i]] === pose.allFieldsMask) all++;
    lastAllFieldsChanged = all;
    lastChanged = d.dirtyCount;
  }

  const bytesPerSec = (BENCH_BANDWIDTH_KBPS * 1000) / 8;
  // The replicator's priority pass and accumulator reset, as send() runs them (the bench drives the delta path
  // itself); the priority function is the replicator's own (private: the default unless the options set one).
  const pr = peer.priority;
  const priorityFn = (replicator as unknown as { priority: Parameters<typeof pr.prioritize>[5] }).priority;
  const priorityPass = () => {
    const grid = replicator.interest.config.grid;
    const view = grid ? replicator.interest.viewpoint(peer.interest, replicator.registry) : null;
    pr.prioritize(peer.delivery, peer.peer.clientId, replicator.registry, grid, view, priorityFn);
  };

  function pack(count: boolean): PackFigures {
    // 1. acks the client sent since the last tick (settle() put them on the link)
    serverNet.receive(world);
    // 2. change detection
    replicator.detectChanges();
    if (count) countAllFields();
    replicator.tick++;
    const d = peer.delivery;
    const before = connection.stats.bytesOut;
    // 3. bandwidth tokens, as send() refills them
    const now = clock.now();
    pr.refill(now, bytesPerSec);
    pr.lastSendAtMs = now;
    // 4. priority pass over the pending entities
    priorityPass();
    let deltaBytes = 0;
    let packets = 0;
    while (d.dirtyCount > 0) {
      const budget = Math.min(connection.unreliableSpaceBytes(), Math.floor(pr.tokens) - 16);
      const delta = writeDelta(writer, scratch, comps, replicator.shadow, replicator.registry, d, {
        tick: replicator.tick,
        dependsOn: connection.lastReliableIdSent,
        budgetBytes: budget,
        baselines: peer.baselines,
      });
      if (delta === null) break;
      if (!connection.sendUnreliable(delta)) throw new Error('a Delta packed to the space left did not fit');
      deltaBytes += delta.length;
      const out = connection.stats.bytesOut;
      const seq = connection.flush();
      d.commit(seq);
      pr.tokens -= connection.stats.bytesOut - out;
      sentSeqs.push(seq);
      packets++;
    }
    pr.resetSent(d);
    if (d.dirtyCount > 0) throw new Error(`${d.dirtyCount} entities still pending after packing every change`);
    delivered = false;
    return { linkBytes: connection.stats.bytesOut - before, deltaBytes, packets };
  }

  const harness: EcsyncPoseServer = {
    clock,
    network,
    serverNet,
    clientNet,
    clientWorld,
    clientLink,
    clientPose,
    replicator,
    peer,
    connection,
    get lastAllFieldsChanged() {
      return lastAllFieldsChanged;
    },
    get lastChanged() {
      return lastChanged;
    },
    packAll: () => pack(false),
    packAllCounted: () => pack(true),
    deliver() {
      if (delivered) return;
      delivered = true;
      const clientConn = client.session.connection;
      const before = clientConn?.stats.packetsIn ?? 0;
      network.pump();
      clientNet.receive(clientWorld);
      const received = (clientConn?.stats.packetsIn ?? 0) - before;
      if (received < sentSeqs.length) {
        throw new Error(`the client received ${received} of ${sentSeqs.length} packets on a lossless link`);
      }
      // The lossless link delivered every packet. A tick of many changes takes more packets than one ack header
      // covers, and the connection would call the oldest lost and resend them: file those as acked here; the
      // newest ACK_WINDOW_PACKETS are acked the real way, by the client's ack read in the next packAll().
      const uncovered = Math.max(0, sentSeqs.length - ACK_WINDOW_PACKETS);
      for (let i = 0; i < uncovered; i++) peer.delivery.acked(sentSeqs[i]);
      sentSeqs.length = 0;
    },
    settle() {
      clock.advance(FRAME_MS);
      harness.deliver();
      clientNet.send(clientWorld);
      network.pump();
    },
    maxOrientationError() {
      let max = 0;
      for (const eid of eids) {
        const local = clientRegistry.toLocal(serverRegistry.netIdOf[eid]);
        const angle = local === 0 ? Infinity : quaternionAngle(Pose, eid, clientPose, local);
        if (!(angle <= max)) max = angle;
      }
      return max;
    },
    maxError() {
      harness.deliver();
      const angle = harness.maxOrientationError();
      if (!(angle <= ORIENTATION_TOLERANCE_RAD)) {
        throw new Error(`ecsync: received orientation off by ${angle} rad (> ${ORIENTATION_TOLERANCE_RAD})`);
      }
      let max = 0;
      for (const eid of eids) {
        const local = clientRegistry.toLocal(serverRegistry.netIdOf[eid]);
        if (local === 0) return Infinity;
        for (let f = 0; f < 3; f++) {
          const key = POSE_FIELDS[f];
          const d = Math.abs(Pose[key][eid] - clientPose[key][local]);
          if (!(d <= max)) max = d;
        }
      }
      return max;
    },
  };
  return harness;
}
