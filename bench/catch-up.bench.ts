/**
 * Catch-up: what a client that was away costs to bring back, catch-up (Resync answered by a Deltas batch) against
 * the snapshot it got before (forced here by a one-tick history). The room: 16 users, each owning a head and two
 * hands moved every frame along the standard motion trace, plus 300 props of which the server moves one every
 * 250 ms; the plugin's default 30 Hz send rate, 60 Hz frames, 100 ms RTT. User 0 is cut, stays away 1, 5 or 30 s
 * (its connects fail), then reconnects and resumes. Bytes = everything its new connection received until the batch
 * (or snapshot) was applied (Welcome, presence and framing included); ms = simulated time from the new link to then.
 */
import { addComponent, addEntity, createWorld, query } from 'bitecs';
import type { World } from 'bitecs';
import {
  catchUpStatsOf,
  connectedClients,
  connectionStateOf,
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  isOwnedLocally,
  Networked,
  setOwner,
} from '../src/index.ts';
import type { ClientTransport, Link, LinkConditions, NetworkPlugin, Protocol } from '../src/index.ts';
import { getNetContext } from '../src/context.ts';
import { TRACE_SAMPLE_LENGTH, createMotionTrace } from '../src/vr/motion-trace.ts';
import type { MotionTrace } from '../src/vr/motion-trace.ts';
import { AVATAR_PARTS } from './avatar-room.ts';
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { registerPose } from './ecsync-pose-server.ts';
import { byScale, formatFigure } from './harness.ts';
import type { BenchContext } from './harness.ts';
import { createPoseArrays } from './workload.ts';
import type { PoseComponent } from './workload.ts';

const USERS = 16;
const PROPS = 300;
const FRAME_HZ = 60;
const LINK: LinkConditions = { latencyMs: 50 };
const HEARTBEAT_MS = 200;

const PLANS = {
  full: { away: [1, 5, 30] },
  quick: { away: [1, 5, 30] },
  tiny: { away: [1] },
} satisfies Record<BenchContext['scale'], { away: number[] }>;

interface Member {
  world: World;
  Pose: PoseComponent;
  net: NetworkPlugin;
  trace: MotionTrace;
  own: number[];
}

/** One resume: what it cost and how it went. */
interface CatchUpRow {
  awaySeconds: number;
  mode: 'catch-up' | 'snapshot';
  /** What the server answered with (a catch-up run may still fall back). */
  answered: 'batch' | 'snapshot';
  bytes: number;
  payloadBytes: number;
  ms: number;
  entities: number;
  /** Largest position error of the resumed client against the server once settled (m). */
  settledErrorM: number;
}

function defineWorld(): { world: World; Pose: PoseComponent; protocol: Protocol } {
  const Pose = createPoseArrays(3 * USERS + PROPS + 64);
  Pose.qw.fill(1);
  const protocol = createProtocol();
  registerPose(protocol, Pose);
  return { world: createWorld(), Pose, protocol };
}

async function runResume(awaySeconds: number, mode: CatchUpRow['mode'], seed: number): Promise<CatchUpRow> {
  const clock = createManualClock();
  const network = createMemoryNetwork({ clock, seed });
  const server = defineWorld();
  const serverNet = createNetworkPlugin(server.world, {
    role: 'server',
    protocol: server.protocol,
    transport: network.server,
    clock,
    heartbeatMs: HEARTBEAT_MS,
    catchUp: mode === 'snapshot' ? { maxTicks: 1 } : {},
  });
  const props: number[] = [];
  for (let i = 0; i < PROPS; i++) {
    const eid = addEntity(server.world);
    addComponent(server.world, eid, server.Pose);
    server.Pose.px[eid] = (i % 20) - 10;
    server.Pose.pz[eid] = Math.floor(i / 20) - 7;
    addComponent(server.world, eid, Networked);
    props.push(eid);
  }
  const members: Member[] = [];
  let offline = false;
  let linkOpenedAtMs = -1;
  const observerLinks: Link[] = [];
  for (let i = 0; i < USERS; i++) {
    const c = defineWorld();
    const transport: ClientTransport = {
      connect: () => {
        if (i === 0 && offline) return Promise.reject(new Error('away'));
        const link = network.connect({ up: LINK, down: LINK });
        if (i === 0) {
          linkOpenedAtMs = clock.now();
          observerLinks.push(link);
        }
        return Promise.resolve(link);
      },
    };
    const net = createNetworkPlugin(c.world, {
      role: 'client',
      protocol: c.protocol,
      transport,
      clock,
      heartbeatMs: HEARTBEAT_MS,
      reconnect: { seed: 1, initialDelayMs: 100, maxDelayMs: 500 },
    });
    members.push({ world: c.world, Pose: c.Pose, net, trace: createMotionTrace(seed + 101 * i), own: [] });
  }
  const sample = new Float64Array(TRACE_SAMPLE_LENGTH);
  const spawned = new Set<number>();
  let frame = 0;
  let moving = true;
  const step = async (): Promise<void> => {
    // The reconnect resolves promises: let them settle between frames.
    for (let k = 0; k < 8; k++) await Promise.resolve();
    frame++;
    clock.advance(1000 / FRAME_HZ);
    network.pump();
    serverNet.receive(server.world);
    for (const clientId of connectedClients(server.world)) {
      if (spawned.has(clientId)) continue;
      spawned.add(clientId);
      for (let part = 0; part < AVATAR_PARTS.length; part++) {
        const eid = addEntity(server.world);
        addComponent(server.world, eid, server.Pose);
        addComponent(server.world, eid, Networked);
        setOwner(server.world, eid, clientId);
      }
    }
    if (moving && frame % 15 === 0) server.Pose.py[props[(frame / 15) % PROPS]] += 0.25;
    serverNet.send(server.world);
    for (let i = 0; i < members.length; i++) {
      const m = members[i];
      m.net.receive(m.world);
      if (m.own.length < 3) m.own = [...query(m.world, [Networked])].filter((e) => isOwnedLocally(m.world, e));
      if (moving && m.own.length === 3 && !(i === 0 && offline)) {
        for (let part = 0; part < 3; part++) {
          m.trace.sample(AVATAR_PARTS[part], (frame * 1000) / FRAME_HZ, sample);
          m.Pose.px[m.own[part]] = sample[0] + 3 * (i % 4);
          m.Pose.py[m.own[part]] = sample[1];
          m.Pose.pz[m.own[part]] = sample[2] + 3 * Math.floor(i / 4);
        }
      }
      m.net.send(m.world);
    }
  };
  const all = 3 * USERS + PROPS;
  while (!members.every((m) => query(m.world, [Networked]).length === all)) {
    if (frame > 1200) throw new Error('catch-up bench: the room did not fill');
    await step();
  }
  for (let i = 0; i < 2 * FRAME_HZ; i++) await step();
  // User 0 goes away: its link is cut (silence), its connects fail for the time away.
  const observer = members[0];
  const ctx = getNetContext(observer.world);
  if (ctx.role !== 'client') throw new Error('client expected');
  const snapshotsBefore = ctx.replicator.counters.snapshots;
  const serverCtx = getNetContext(server.world);
  if (serverCtx.role !== 'server') throw new Error('server expected');
  const rep = serverCtx.replicator;
  const snapshotBytesBefore = rep.counters.snapshotSentBytes;
  offline = true;
  const conn = ctx.session.connection!;
  network.cut(observerLinks[0]);
  for (let i = 0; i < awaySeconds * FRAME_HZ; i++) await step();
  offline = false;
  const caughtUp = () =>
    ctx.replicator.catchUp.counters.batches > 0 || ctx.replicator.counters.snapshots > snapshotsBefore;
  while (!caughtUp()) {
    if (frame > 1200 + (awaySeconds + 30) * FRAME_HZ) throw new Error('catch-up bench: no resume');
    await step();
  }
  const ms = clock.now() - linkOpenedAtMs;
  const newConn = ctx.session.connection!;
  if (newConn === conn) throw new Error('catch-up bench: still on the old connection');
  const bytes = newConn.stats.bytesIn;
  const st = catchUpStatsOf(server.world);
  const answered = ctx.replicator.catchUp.counters.batches > 0 ? 'batch' : 'snapshot';
  const payloadBytes =
    answered === 'batch' && st.role === 'server'
      ? st.catchUpSentBytes
      : rep.counters.snapshotSentBytes - snapshotBytesBefore;
  // Settle and check the resumed client against the server.
  moving = false;
  for (let i = 0; i < FRAME_HZ; i++) await step();
  let err = 0;
  const reg = rep.registry;
  for (const eid of query(observer.world, [Networked])) {
    const at = reg.toLocal(ctx.replicator.registry.netIdOf[eid]);
    const d = at === 0 ? Infinity : Math.abs(observer.Pose.px[eid] - server.Pose.px[at]);
    if (!(d <= err)) err = d;
  }
  if (connectionStateOf(observer.world) !== 'connected') throw new Error('catch-up bench: observer not connected');
  return {
    awaySeconds,
    mode,
    answered,
    bytes,
    payloadBytes,
    ms,
    entities: answered === 'batch' && st.role === 'server' ? st.catchUpEntities : all,
    settledErrorM: err,
  };
}

function markdown(rows: readonly CatchUpRow[]): string {
  const f = formatFigure;
  const lines = [
    `${USERS} users (head + 2 hands each, moving every frame) and ${PROPS} props (the server moves one every 250 ms), ` +
      'default 30 Hz send rate, 100 ms RTT, no loss. User 0 is cut, stays away, then resumes. bytes = all its new ' +
      'connection received until the batch or snapshot was applied; ms = simulated, from the new link to then. ' +
      '"snapshot" rows force the snapshot with a one-tick history. payload = the Deltas batch or the snapshot alone ' +
      '(framed, deflated where it pays).',
    '',
    '| away | mode | answered with | entities sent | payload bytes | bytes received | ms to catch up | settled error |',
    '|---:|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.awaySeconds} s | ${r.mode} | ${r.answered} | ${r.entities} | ${f(r.payloadBytes)} | ${f(r.bytes)} | ` +
        `${f(r.ms)} | ` +
        `${f(r.settledErrorM * 1000)} mm |`,
    );
  }
  return lines.join('\n');
}

/** The catch-up family. */
export const catchUpFamily: BenchFamily = {
  name: 'catch-up',
  title: 'Catch-up after a resume (16-user room)',
  async run(ctx): Promise<FamilyResult> {
    const plan = byScale(ctx.scale, PLANS);
    const task = ctx.progress.start('catch-up');
    const rows: CatchUpRow[] = [];
    for (const away of plan.away) {
      for (const mode of ['catch-up', 'snapshot'] as const) {
        task.update(`${away} s away, ${mode}`);
        await new Promise((resolve) => setImmediate(resolve));
        rows.push(await runResume(away, mode, ctx.seed));
      }
    }
    task.end(rows.map((r) => `${r.awaySeconds}s ${r.mode}: ${formatFigure(r.bytes)} B`).join(', '));
    return { series: { rows }, markdown: markdown(rows) };
  },
};
