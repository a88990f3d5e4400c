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
import type { LinkConditions } from '../src/index.ts';
import { DEFAULT_SEND_RATE_HZ } from '../src/plugin.ts';
import { DEFAULT_BANDWIDTH_KBPS } from '../src/replication/server-replicator.ts';

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
    task.end(rooms.map((r) => `${r.users}: ${formatFigure(r.kbpsDown)}`).join(', ') + ' kbps');
    return {
      metrics: {
        kbps_per_client_16_users_60hz: reference?.kbpsDown ?? null,
        bytes_per_moving_pose_delta: lossy.entityBytesPerPose,
      },
      series: { seconds: plan.seconds, warmupSeconds: plan.warmupSeconds, rooms, atDefaultRate, lossy },
      markdown: markdown([...rooms, atDefaultRate], lossy),
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
