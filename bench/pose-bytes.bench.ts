/**
 * Pose bytes: what a changed pose and a moving avatar cost on ecsync's wire, with the generic Delta path (the only
 * one there is so far). Two measurements:
 *   - `bytes_per_changed_pose`: the bench's pose workload (10 % of the entities move each tick, every pose field
 *     changes) on an ecsync server with one client; bytes of the Delta messages (u16 tag, Delta header, entity blocks)
 *     divided by the changed poses they carry. Packet headers and entry framing are left out and shown apart.
 *   - `bytes_per_avatar`: a room of users moving head and hands along the standard motion trace (avatar-room.ts); at
 *     one client, for every remote avatar and frame in which all three of its poses (head, both hands) arrived, the
 *     entity-block bytes of those three (network-id gaps, presence bits, field masks and values), averaged. Packet
 *     headers, entry framing and the Delta's own header (shared by every entity of the packet) are excluded and shown
 *     apart; so are frames where part of the avatar did not move by a quantum (then it costs less).
 */
import { runAvatarRoom } from './avatar-room.ts';
import type { AvatarRoomResult } from './avatar-room.ts';
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { createEcsyncPoseServer } from './ecsync-pose-server.ts';
import { byScale, formatFigure } from './harness.ts';
import type { BenchContext } from './harness.ts';
import { tapIncoming } from './packet-tap.ts';
import type { TapCounts } from './packet-tap.ts';
import { DEFAULT_CHANGED_FRACTION, createPoseWorkload } from './workload.ts';

interface PoseBytesPlan {
  /** Workload entities and measured ticks for bytes per changed pose. */
  entities: number;
  ticks: number;
  /** Users and simulated seconds of the avatar room (every remote avatar fits the per-client cap at this size). */
  roomUsers: number;
  roomSeconds: number;
}

const PLANS = {
  full: { entities: 10_000, ticks: 600, roomUsers: 8, roomSeconds: 20 },
  quick: { entities: 1_000, ticks: 300, roomUsers: 8, roomSeconds: 5 },
  tiny: { entities: 100, ticks: 4, roomUsers: 3, roomSeconds: 0.5 },
} satisfies Record<BenchContext['scale'], PoseBytesPlan>;

/** Bytes per changed pose on the workload. */
export interface ChangedPoseRecord {
  entities: number;
  ticks: number;
  changedPoses: number;
  /** Changed poses whose four fields (px, py, pz, rotation) all changed. */
  allFieldsShare: number;
  deltaBytesPerPose: number;
  /** Entity block only: id gap, presence, mask and values. */
  entityBytesPerPose: number;
  /** The Delta header's share (tag, tick, dependsOn, count) and the padding of its last byte. */
  deltaHeaderBytesPerPose: number;
  /** Everything on the link, packet headers and framing included. */
  linkBytesPerPose: number;
  packetsPerTick: number;
  maxPositionErrorM: number;
  maxOrientationErrorDeg: number;
  counts: TapCounts;
}

function measureChangedPose(plan: PoseBytesPlan, seed: number): ChangedPoseRecord {
  const workload = createPoseWorkload({ entities: plan.entities, changedFraction: DEFAULT_CHANGED_FRACTION, seed });
  const server = createEcsyncPoseServer(workload, seed);
  const tap = tapIncoming(server.clientLink, server.replicator.protocol.components);
  tap.reset();
  let changedPoses = 0;
  let allFields = 0;
  let linkBytes = 0;
  let packets = 0;
  let maxPositionErrorM = 0;
  let maxOrientationErrorRad = 0;
  for (let t = 0; t < plan.ticks; t++) {
    workload.step();
    server.settle();
    const figures = server.packAllCounted();
    linkBytes += figures.linkBytes;
    packets += figures.packets;
    changedPoses += server.lastChanged;
    allFields += server.lastAllFieldsChanged;
    maxPositionErrorM = Math.max(maxPositionErrorM, server.maxError());
    maxOrientationErrorRad = Math.max(maxOrientationErrorRad, server.maxOrientationError());
  }
  const c = { ...tap.counts };
  if (c.deltaEntities !== changedPoses) {
    throw new Error(
      `pose-bytes: the client received ${c.deltaEntities} pose updates, the server packed ${changedPoses}`,
    );
  }
  return {
    entities: plan.entities,
    ticks: plan.ticks,
    changedPoses,
    allFieldsShare: allFields / changedPoses,
    deltaBytesPerPose: c.deltaBytes / changedPoses,
    entityBytesPerPose: c.deltaEntityBits / 8 / changedPoses,
    deltaHeaderBytesPerPose: (c.deltaHeaderBits + c.deltaPaddingBits) / 8 / changedPoses,
    linkBytesPerPose: linkBytes / changedPoses,
    packetsPerTick: packets / plan.ticks,
    maxPositionErrorM,
    maxOrientationErrorDeg: (maxOrientationErrorRad * 180) / Math.PI,
    counts: c,
  };
}

/** Bytes per avatar in a room, at one client. */
export interface AvatarRecord {
  room: AvatarRoomResult;
  remoteAvatars: number;
  /** Entity-block bytes of head + both hands, over the avatar-frames where all three arrived (the metric). */
  entityBytesPerAvatar: number;
  /** Share of remote avatar-frames in which all three poses arrived. */
  fullAvatarShare: number;
  /** Entity-block bytes per remote avatar per frame, all frames (moving or not). */
  entityBytesPerAvatarFrame: number;
  /** The Delta header's share per avatar per frame (excluded from the metric). */
  deltaHeaderBytesPerAvatar: number;
  /** Packet header and framing per avatar per frame (excluded from the metric). */
  packetBytesPerAvatar: number;
  /** Pose updates per remote avatar per frame (3 when every pose of every avatar went out every frame). */
  posesPerAvatarFrame: number;
}

function measureAvatar(plan: PoseBytesPlan, seed: number): AvatarRecord {
  const users = plan.roomUsers;
  let userOf: ReadonlyMap<number, number> = new Map();
  const poses = new Uint8Array(users);
  const bits = new Float64Array(users);
  let fullAvatars = 0;
  let fullBits = 0;
  const room = runAvatarRoom({
    users,
    seconds: plan.roomSeconds,
    warmupSeconds: 0.5,
    seed,
    observer: {
      joined: (map) => (userOf = map),
      entity(netId, entityBits) {
        const user = userOf.get(netId) ?? -1;
        if (user < 0) throw new Error(`pose-bytes: Delta for unknown network id ${netId}`);
        poses[user]++;
        bits[user] += entityBits;
      },
      frame() {
        for (let u = 0; u < users; u++) {
          if (poses[u] === 3) {
            fullAvatars++;
            fullBits += bits[u];
          }
        }
        poses.fill(0);
        bits.fill(0);
      },
    },
  });
  const c = room.counts;
  const remoteAvatars = users - 1;
  const perAvatarFrame = (b: number): number => b / 8 / room.frames / remoteAvatars;
  if (fullAvatars === 0) throw new Error('pose-bytes: no frame carried a whole avatar');
  return {
    room,
    remoteAvatars,
    entityBytesPerAvatar: fullBits / 8 / fullAvatars,
    fullAvatarShare: fullAvatars / (room.frames * remoteAvatars),
    entityBytesPerAvatarFrame: perAvatarFrame(c.deltaEntityBits),
    deltaHeaderBytesPerAvatar: perAvatarFrame(c.deltaHeaderBits + c.deltaPaddingBits),
    packetBytesPerAvatar: perAvatarFrame((c.packetHeaderBytes + c.framingBytes) * 8),
    posesPerAvatarFrame: c.deltaEntities / room.frames / remoteAvatars,
  };
}

function markdown(pose: ChangedPoseRecord, avatar: AvatarRecord): string {
  const f = formatFigure;
  return [
    'Generic Delta path (server to viewers): Pose = 3 x `field.quantized(-32, 32, 0.001)` (16 bits each) + ' +
      '`field.quat()` (smallest-three, 10 bits per component: 32 bits), so the field values alone are 10 bytes; each ' +
      'entity adds its network-id gap (a varuint, 8 bits here), one presence bit per component and an "all fields" ' +
      'bit (or a 4-bit mask). The owner-to-server VR pose stream, delta-coded tick to tick, is measured in the ' +
      'VR quality section (`bytes_per_moving_pose_delta`).',
    '',
    `### Changed pose (workload: ${pose.entities} entities, ${DEFAULT_CHANGED_FRACTION * 100} % moving, ${pose.ticks} ticks)`,
    '',
    '| bytes per changed pose | value |',
    '|---|---:|',
    `| **Delta message** (tag + header + entity blocks) — \`bytes_per_changed_pose\` | **${f(pose.deltaBytesPerPose)}** |`,
    `| entity block only (id gap, presence, mask, values) | ${f(pose.entityBytesPerPose)} |`,
    `| Delta header share (tag, tick, dependsOn, count, padding) | ${f(pose.deltaHeaderBytesPerPose)} |`,
    `| everything on the link (+ 10 B packet header, entry framing) | ${f(pose.linkBytesPerPose)} |`,
    '',
    `${f(pose.allFieldsShare * 100)} % of the changed poses changed all four fields; ${f(pose.packetsPerTick)} packets ` +
      `per tick. Receiver error: position ${f(pose.maxPositionErrorM * 1000)} mm, orientation ` +
      `${f(pose.maxOrientationErrorDeg)} degrees (max).`,
    '',
    `### Avatar (room of ${avatar.room.users} users on the standard motion trace, ${avatar.room.seconds} s at ` +
      `${avatar.room.sendRateHz} Hz, seen by one client)`,
    '',
    '| bytes per remote avatar | value |',
    '|---|---:|',
    `| **head + 2 hands, frames where all three moved** (entity blocks, ids and masks included) — \`bytes_per_avatar\` | **${f(avatar.entityBytesPerAvatar)}** |`,
    `| per frame, all frames (parts that did not move by a quantum cost nothing) | ${f(avatar.entityBytesPerAvatarFrame)} |`,
    `| Delta header share per frame (excluded) | ${f(avatar.deltaHeaderBytesPerAvatar)} |`,
    `| packet header + framing share per frame (excluded) | ${f(avatar.packetBytesPerAvatar)} |`,
    '',
    `All three poses moved in ${f(avatar.fullAvatarShare * 100)} % of the avatar-frames; ` +
      `${f(avatar.posesPerAvatarFrame)} pose updates per avatar per frame; ${f(avatar.room.entityBytesPerPose)} entity ` +
      'bytes per pose update (fields that did not move by a quantum are masked out).',
  ].join('\n');
}

/** The pose-bytes family. */
export const poseBytesFamily: BenchFamily = {
  name: 'pose-bytes',
  title: 'Pose bytes',
  async run(ctx): Promise<FamilyResult> {
    const plan: PoseBytesPlan = byScale(ctx.scale, PLANS);
    const task = ctx.progress.start('pose-bytes');
    task.update('changed poses');
    const pose = measureChangedPose(plan, ctx.seed);
    task.update('avatar room');
    await new Promise((resolve) => setImmediate(resolve));
    const avatar = measureAvatar(plan, ctx.seed);
    task.end(
      `${formatFigure(pose.deltaBytesPerPose)} B/changed pose, ${formatFigure(avatar.entityBytesPerAvatar)} B/avatar`,
    );
    return {
      metrics: {
        bytes_per_changed_pose: pose.deltaBytesPerPose,
        bytes_per_avatar: avatar.entityBytesPerAvatar,
      },
      series: { changedPose: pose, avatar },
      markdown: markdown(pose, avatar),
    };
  },
};
