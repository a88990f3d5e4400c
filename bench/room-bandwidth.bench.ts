/**
 * Room bandwidth: downstream bytes per client in a VR room where every user moves head and hands along the standard
 * motion trace (avatar-room.ts: in-memory network, no loss, server and clients at 60 Hz). Counts every packet one
 * client receives, ecsync's packet headers, framing, state hashes and acks included, in kbps (1 kbps = 1,000 bits
 * per second). The reference room is also run at the plugin's default send rate, for comparison, and under the
 * SPEC's network condition (100 ms RTT, 20 ms jitter, 2 % loss), which gives `bytes_per_moving_pose_delta`.
 */
import { runAvatarRoom } from './avatar-room.ts';
import type { AvatarRoomResult } from './avatar-room.ts';
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { byScale, formatFigure } from './harness.ts';
import type { BenchContext } from './harness.ts';
import type { FidelityOptions, LinkConditions } from '../src/index.ts';
import { DEFAULT_SEND_RATE_HZ } from '../src/plugin.ts';
import { DEFAULT_BANDWIDTH_KBPS } from '../src/replication/server-replicator.ts';

/** Fidelity rows: 32 users on a circle of 15.3 m radius (3 m apart), so neighbours are near and most are far. */
const FIDELITY_USERS = 32;
/** Levels of the fidelity rows: full within 4 m, every 2nd tick at 2x steps to 12 m, every 4th at 4x beyond. */
export const BENCH_FIDELITY = {
  levels: [{ within: 4 }, { within: 12, every: 2, coarsen: 2 }, { every: 4, coarsen: 4 }],
} satisfies Omit<FidelityOptions, 'position'>;

/** The SPEC's room: 16 users at 60 Hz. */
const REFERENCE_USERS = 16;
/** The SPEC's network condition, on every client's link in each direction: 100 ms RTT, 20 ms jitter, 2 % loss. */
const SPEC_LINK: LinkConditions = { latencyMs: 50, jitterMs: 20, loss: 0.02 };

interface RoomPlan {
  /** Room sizes of the chart; must include REFERENCE_USERS. */
  users: number[];
  seconds: number;
  warmupSeconds: number;
}

const PLANS = {
  full: { users: [4, 8, 16, 32], seconds: 20, warmupSeconds: 2 },
  quick: { users: [4, 8, 16, 32], seconds: 5, warmupSeconds: 1 },
  tiny: { users: [4, 16], seconds: 0.25, warmupSeconds: 0.1 },
} satisfies Record<BenchContext['scale'], RoomPlan>;

function fidelityMarkdown(plain: AvatarRoomResult | undefined, fid: AvatarRoomResult): string[] {
  const f = formatFigure;
  const lines = [
    '',
    `### Fidelity by distance (${FIDELITY_USERS} users, 60 Hz)`,
    '',
    `The ${FIDELITY_USERS} users stand on a circle of ${f((3 * FIDELITY_USERS) / (2 * Math.PI))} m radius, 3 m apart ` +
      "(the room is 31 m across), each moving along the standard trace; each user's viewpoint is its head. Levels: " +
      'full rate and precision within 4 m, every 2nd tick at 2x steps to 12 m, every 4th tick at 4x steps beyond. ' +
      "Error = the observer's copy of each remote pose against the server's pose of the same frame (so it includes " +
      "the age of the last update, not only quantization), per level by distance from the observer's head.",
    '',
    '| fidelity | kbps down per client | pose updates per remote avatar per frame | entity B/pose | settled error |',
    '|---|---:|---:|---:|---:|',
  ];
  const row = (name: string, r: AvatarRoomResult) =>
    `| ${name} | ${f(r.kbpsDown)} | ${f(r.posesPerFrame / (r.users - 1))} | ${f(r.entityBytesPerPose)} | ${f(r.settledErrorM * 1000)} mm |`;
  if (plain) lines.push(row('off', plain));
  lines.push(row('on', fid));
  lines.push(
    '',
    '| level | pose samples | mean / max position error | mean / max rotation error |',
    '|---|---:|---:|---:|',
  );
  const names = ['0: <= 4 m, every tick', '1: <= 12 m, every 2nd, 2x steps', '2: farther, every 4th, 4x steps'];
  (fid.levelErrors ?? []).forEach((e, i) =>
    lines.push(
      `| ${names[i]} | ${e.samples} | ${f(e.meanPositionM * 1000)} / ${f(e.maxPositionM * 1000)} mm | ` +
        `${f(e.meanRotationDeg)} / ${f(e.maxRotationDeg)} deg |`,
    ),
  );
  return lines;
}

function markdown(rooms: readonly AvatarRoomResult[], lossy: AvatarRoomResult): string {
  const f = formatFigure;
  const lines = [
    'Every user owns a head and two hands and moves them every frame along the standard motion trace ' +
      '(src/vr/motion-trace.ts, one seed per user); server and clients send at 60 Hz over the in-memory network ' +
      `(no loss, no latency); the last row is the ${REFERENCE_USERS}-user room at the plugin's default send rate. kbps = ` +
      'everything one client receives (packet headers, framing, Deltas, state hashes) x 8 / simulated seconds / 1000. ' +
      `The server's per-client cap (the plugin's default \`bandwidthKbps\`, ${DEFAULT_BANDWIDTH_KBPS} kbps) defers ` +
      'what does not fit: then fewer than 3 poses per remote avatar arrive per frame.',
    '',
    '| users | send rate | kbps down per client | packets/s | pose updates per remote avatar per frame | entity B/pose | settled error |',
    '|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rooms) {
    lines.push(
      `| ${r.users} | ${r.sendRateHz} Hz | ${f(r.kbpsDown)} | ${f(r.packetsPerSecond)} | ` +
        `${f(r.posesPerFrame / (r.users - 1))} | ${f(r.entityBytesPerPose)} | ${f(r.settledErrorM * 1000)} mm |`,
    );
  }
  lines.push(
    `| ${lossy.users} | ${lossy.sendRateHz} Hz, 100 ms RTT / 20 ms jitter / 2 % loss | ${f(lossy.kbpsDown)} | ` +
      `${f(lossy.packetsPerSecond)} | ${f(lossy.posesPerFrame / (lossy.users - 1))} | ${f(lossy.entityBytesPerPose)} | ` +
      `${f(lossy.settledErrorM * 1000)} mm |`,
  );
  lines.push(
    '',
    '`bytes_per_moving_pose_delta` is the entity B/pose of the lossy row: every bit of the entity block a viewer ' +
      'receives (id gap, presence and change masks, values) per moving pose, Delta and packet headers excluded.',
    '',
    'Pose updates per remote avatar per frame: at most 3 at 60 Hz; fewer when a part did not move by a quantum, ' +
      'or when the per-client cap deferred it.',
  );
  lines.push('', '![bytes per client](bytes-per-client.svg)');
  return lines.join('\n');
}

/** The room-bandwidth family. */
export const roomBandwidthFamily: BenchFamily = {
  name: 'room-bandwidth',
  title: 'Room bandwidth per client',
  async run(ctx): Promise<FamilyResult> {
    const plan: RoomPlan = byScale(ctx.scale, PLANS);
    const task = ctx.progress.start('room-bandwidth');
    const rooms: AvatarRoomResult[] = [];
    for (const users of plan.users) {
      task.update(`${users} users`);
      await new Promise((resolve) => setImmediate(resolve));
      rooms.push(runAvatarRoom({ users, seconds: plan.seconds, warmupSeconds: plan.warmupSeconds, seed: ctx.seed }));
    }
    const reference = rooms.find((r) => r.users === REFERENCE_USERS);
    task.update(`${REFERENCE_USERS} users at ${DEFAULT_SEND_RATE_HZ} Hz`);
    const atDefaultRate = runAvatarRoom({
      users: REFERENCE_USERS,
      seconds: plan.seconds,
      warmupSeconds: plan.warmupSeconds,
      seed: ctx.seed,
      sendRateHz: DEFAULT_SEND_RATE_HZ,
    });
    task.update(`${REFERENCE_USERS} users at 100 ms RTT / 2 % loss`);
    const lossy = runAvatarRoom({
      users: REFERENCE_USERS,
      seconds: plan.seconds,
      warmupSeconds: plan.warmupSeconds,
      seed: ctx.seed,
      link: SPEC_LINK,
    });
    task.update(`${FIDELITY_USERS} users with fidelity`);
    await new Promise((resolve) => setImmediate(resolve));
    const withFidelity = runAvatarRoom({
      users: FIDELITY_USERS,
      seconds: plan.seconds,
      warmupSeconds: plan.warmupSeconds,
      seed: ctx.seed,
      fidelity: BENCH_FIDELITY,
    });
    const plain = rooms.find((r) => r.users === FIDELITY_USERS);
    task.end(rooms.map((r) => `${r.users}: ${formatFigure(r.kbpsDown)}`).join(', ') + ' kbps');
    return {
      metrics: {
        kbps_per_client_16_users_60hz: reference?.kbpsDown ?? null,
        bytes_per_moving_pose_delta: lossy.entityBytesPerPose,
        kbps_per_client_32_users_fidelity: withFidelity.kbpsDown,
      },
      series: { seconds: plan.seconds, warmupSeconds: plan.warmupSeconds, rooms, atDefaultRate, lossy, withFidelity },
      markdown: [markdown([...rooms, atDefaultRate], lossy), ...fidelityMarkdown(plain, withFidelity)].join('\n'),
      charts: [
        {
          file: 'bytes-per-client.svg',
          title: 'Downstream per client vs users (60 Hz, head + 2 hands each)',
          xLabel: 'users in the room',
          yLabel: 'kbps down per client',
          series: [
            { name: 'ecsync', points: rooms.map((r) => [r.users, r.kbpsDown] as const) },
            {
              name: `per-client cap (${DEFAULT_BANDWIDTH_KBPS} kbps)`,
              points: rooms.map((r) => [r.users, DEFAULT_BANDWIDTH_KBPS] as const),
            },
          ],
        },
      ],
    };
  },
};
