/**
 * Scale: the server's replication logic (change detection, interest, priority, packing) for N clients, each with
 * its own interest set over a 10k-entity world, transport excluded except the in-memory network's link conditioner
 * that the timed flush hands each packet to (a copy and a heap push: 1-7 % of profile samples). Clients are real sessions that only ack
 * (they do not decode state); each one's viewpoint moves every tick along the standard motion trace (its own seed,
 * around its own seat). The timed part is the server's receive (every client's acks) and send (interest, priority
 * accumulators, the per-client bandwidth cap, packing), in steady state: after every client paid off its join
 * snapshot against the cap. Gives `clients_per_core_20hz`: how many clients fit a 50 ms tick on one core, from the
 * fixed cost and the cost per client measured at the largest room (>= 1,000 clients in the full and quick runs; no
 * figure from smaller rooms is extrapolated).
 * Also: snapshot bytes per entity with and without deflate.
 */
import { addComponent, addEntity, createWorld } from 'bitecs';
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { byScale, type BenchContext } from './harness.ts';
import { getNetContext } from '../src/context.ts';
import {
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  createRandom,
  field,
  Networked,
  registerComponent,
  setViewPosition,
} from '../src/index.ts';
import { ClientSession } from '../src/session/client-session.ts';
import { createKeyPair } from '../src/session/identity.ts';
import { TRACE_SAMPLE_LENGTH, TraceDevice, createMotionTrace, type MotionTrace } from '../src/vr/motion-trace.ts';

/** World edge in metres: 10k entities over 200 m x 200 m, about one per 4 m^2. */
const WORLD_M = 200;
/** Interest radius: ~20 m around each viewpoint sees ~3 % of the world (~300 entities). */
const RADIUS_M = 20;
const TICK_BUDGET_MS = 50;
/** Clients that start their handshake together while the room fills. */
const JOIN_WAVE = 128;
/** Bound of the warm-up: at the 256 kbps default a 10k-entity snapshot is paid off in ~100 frames. */
const MAX_WARMUP_FRAMES = 400;
/** The smallest room `clients_per_core_20hz` may be measured on. */
const MIN_CLIENTS_FOR_CAPACITY = 1000;

interface ScalePoint {
  clients: number;
  tickMs: number;
  /** CPU ms of the process per timed tick (a check on the wall time when other processes share the cores). */
  cpuMs: number;
  perClientUs: number;
  inInterest: number;
  /** Bytes the server sent each client per timed tick (deltas, structural messages, hashes, acks). */
  bytesPerClientTick: number;
  /** Untimed frames run until no client was in bandwidth debt. */
  warmupFrames: number;
}

function setup(entities: number, seed: number, compression = true) {
  const cap = entities + 16;
  const Pose = {
    px: new Float32Array(cap),
    py: new Float32Array(cap),
    pz: new Float32Array(cap),
    qx: new Float32Array(cap),
    qy: new Float32Array(cap),
    qz: new Float32Array(cap),
    qw: new Float32Array(cap).fill(1),
  };
  const protocol = createProtocol();
  const m = field.quantized(-256, 256, 0.001);
  registerComponent(protocol, Pose, { name: 'Pose', fields: { px: m, py: m, pz: m, rot: field.quat() } });
  const clock = createManualClock();
  const network = createMemoryNetwork({ clock, seed });
  const world = createWorld();
  const net = createNetworkPlugin(world, {
    role: 'server',
    protocol,
    transport: network.server,
    clock,
    sendRateHz: 20,
    compression,
    interest: {
      rateHz: 5,
      grid: { cellSize: 10, radius: RADIUS_M, position: { component: Pose, x: 'px', y: 'py', z: 'pz' } },
    },
  });
  const rnd = createRandom(seed);
  const ents: number[] = [];
  for (let i = 0; i < entities; i++) {
    const e = addEntity(world);
    addComponent(world, e, Pose);
    addComponent(world, e, Networked);
    Pose.px[e] = rnd.range(0, WORLD_M);
    Pose.pz[e] = rnd.range(0, WORLD_M);
    ents.push(e);
  }
  const sessions: ClientSession[] = [];
  // One key pair for all: generating thousands of Ed25519 keys would dominate the setup, not the measurement.
  const keyPair = createKeyPair();
  /** Opens one more client link (the memory network offers it to the server at once) and starts its handshake. */
  const join = (): void => {
    const s = new ClientSession({ link: network.connect(), clock, schemaHash: protocol.schemaHash, keyPair });
    s.setHandler({ welcomed: () => {}, message: () => {}, acked: () => {}, lost: () => {} });
    s.start();
    sessions.push(s);
  };
  const ctx = getNetContext(world);
  if (ctx.role !== 'server') throw new Error('server expected');
  const viewers: Viewer[] = [];
  // CPU time of the process (all its threads, GC included) in the server's timed sections, in ms.
  const serverCpu = { ms: 0 };
  return {
    world,
    net,
    Pose,
    ents,
    sessions,
    join,
    network,
    clock,
    rnd,
    replicator: ctx.replicator,
    viewers,
    serverCpu,
  };
}

/** A client's viewpoint: its seat in the world plus its head's path on the motion trace. */
interface Viewer {
  clientId: number;
  seatX: number;
  seatZ: number;
  trace: MotionTrace;
}

const headSample = new Float64Array(TRACE_SAMPLE_LENGTH);

/** Moves every viewpoint to its head's place at the clock's time (the clients' reports, so not timed). */
function moveViewpoints(s: Setup): void {
  const t = s.clock.now();
  for (const v of s.viewers) {
    v.trace.sample(TraceDevice.head, t, headSample);
    setViewPosition(s.world, v.clientId, v.seatX + headSample[0], headSample[1], v.seatZ + headSample[2]);
  }
}

type Setup = ReturnType<typeof setup>;

/** One 20 Hz frame; returns the server's time in ms (clients and delivery untimed). */
function frame(s: Setup): number {
  s.clock.advance(50);
  s.network.pump();
  // 10 % of the entities move a little.
  for (let i = 0; i < s.ents.length / 10; i++) {
    const e = s.ents[s.rnd.int(s.ents.length)];
    s.Pose.px[e] = Math.min(WORLD_M, Math.max(0, s.Pose.px[e] + s.rnd.range(-0.05, 0.05)));
    s.Pose.qy[e] = s.rnd.range(-0.1, 0.1);
    s.Pose.qw[e] = Math.sqrt(1 - s.Pose.qy[e] * s.Pose.qy[e]);
  }
  moveViewpoints(s);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  s.net.receive(s.world);
  s.net.send(s.world);
  const dt = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  s.serverCpu.ms += (cpu.user + cpu.system) / 1000;
  for (const c of s.sessions) {
    c.receive();
    c.connection?.flush();
  }
  return dt;
}

function measure(entities: number, clients: number, frames: number, seed: number): ScalePoint {
  const s = setup(entities, seed);
  // Join, viewpoints, and the initial snapshots (untimed).
  // Clients connect in waves below the server's pending-handshake cap (256), as a real crowd arrives over time.
  for (let i = 0; i < clients; i += JOIN_WAVE) {
    for (let j = i; j < Math.min(clients, i + JOIN_WAVE); j++) s.join();
    for (let f = 0; f < 3; f++) frame(s);
  }
  for (let i = 0; i < 4; i++) frame(s);
  for (const clientId of s.replicator.peers.keys()) {
    const trace = createMotionTrace(seed + 101 * clientId);
    s.viewers.push({ clientId, seatX: s.rnd.range(2, WORLD_M - 2), seatZ: s.rnd.range(2, WORLD_M - 2), trace });
  }
  if (s.viewers.length !== clients) throw new Error(`${s.viewers.length} of ${clients} clients joined`);
  // Steady state: a joining client's snapshot (the whole world, sent before its viewpoint is known) puts it in
  // debt against the bandwidth cap, and while in debt it is sent no deltas, so a tick would cost little.
  let warmup = 0;
  for (; warmup < MAX_WARMUP_FRAMES && (warmup < 10 || inDebt(s) > 0); warmup++) frame(s);
  if (inDebt(s) > 0) throw new Error(`${inDebt(s)} clients still in bandwidth debt after ${warmup} frames`);
  let sentBefore = 0;
  for (const p of s.replicator.peers.values()) sentBefore += p.peer.connection.stats.bytesOut;
  const times: number[] = [];
  s.serverCpu.ms = 0;
  for (let i = 0; i < frames; i++) times.push(frame(s));
  const cpuMs = s.serverCpu.ms / frames;
  let sent = -sentBefore;
  for (const p of s.replicator.peers.values()) sent += p.peer.connection.stats.bytesOut;
  // The mean, not the median: interest is recomputed every fourth tick and must count.
  const tickMs = times.reduce((a, b) => a + b, 0) / times.length;
  let known = 0;
  for (const p of s.replicator.peers.values()) known += p.knownSet.count;
  return {
    clients,
    tickMs,
    cpuMs,
    perClientUs: clients > 0 ? (tickMs * 1000) / clients : 0,
    inInterest: clients > 0 ? known / clients : 0,
    bytesPerClientTick: clients > 0 ? sent / clients / frames : 0,
    warmupFrames: warmup,
  };
}

/** Clients whose bandwidth tokens are below zero (owed for what they were sent). */
function inDebt(s: Setup): number {
  let n = 0;
  for (const p of s.replicator.peers.values()) if (p.priority.tokens < 0) n++;
  return n;
}

function snapshotBytes(entities: number, seed: number, compression: boolean): number {
  const s = setup(entities, seed, compression);
  s.join();
  for (let i = 0; i < 3; i++) frame(s);
  const c = s.replicator.counters;
  return c.snapshotSentBytes / entities;
}

export const interestScaleFamily: BenchFamily = {
  name: 'interest-scale',
  title:
    'Scale: interest + priority + packing per client (10k entities, 20 Hz, no real transport: the in-memory link conditioner is inside the timed flush)',
  async run(ctx: BenchContext): Promise<FamilyResult> {
    const entities = byScale(ctx.scale, { full: 10_000, quick: 10_000, tiny: 500 });
    const counts = byScale(ctx.scale, {
      full: [0, 16, 64, 256, 1000, 2000],
      quick: [0, 64, 256, 1000],
      tiny: [0, 4],
    });
    const frames = byScale(ctx.scale, { full: 40, quick: 20, tiny: 2 });
    const points: ScalePoint[] = [];
    for (const n of counts) {
      const task = ctx.progress.start(`interest-scale ${n} clients`);
      const p = measure(entities, n, frames, ctx.seed);
      points.push(p);
      task.end(
        `${n} clients: ${p.tickMs.toFixed(2)} ms/tick, ${p.perClientUs.toFixed(1)} µs/client, ${p.inInterest.toFixed(0)} in interest, ${p.bytesPerClientTick.toFixed(0)} B/client/tick`,
      );
    }
    const fixed = points[0].tickMs;
    const last = points[points.length - 1];
    const perClientMs = last.clients > 0 ? (last.tickMs - fixed) / last.clients : 0;
    // Measured on a room of at least MIN_CLIENTS_FOR_CAPACITY clients, or not at all (the tiny smoke run).
    const clientsPerCore =
      perClientMs > 0 && last.clients >= MIN_CLIENTS_FOR_CAPACITY
        ? Math.floor((TICK_BUDGET_MS - fixed) / perClientMs)
        : null;
    const raw = snapshotBytes(entities, ctx.seed, false);
    const deflated = snapshotBytes(entities, ctx.seed, true);
    const rows = points
      .map(
        (p) =>
          `| ${p.clients} | ${p.tickMs.toFixed(2)} | ${p.cpuMs.toFixed(2)} | ${p.clients ? (((p.tickMs - fixed) * 1000) / p.clients).toFixed(1) : '-'} | ${p.inInterest.toFixed(0)} | ${p.bytesPerClientTick.toFixed(0)} |`,
      )
      .join('\n');
    const markdown = [
      `World: ${entities} posed entities over ${WORLD_M} m x ${WORLD_M} m, 10 % moving per tick, interest radius ${RADIUS_M} m, 20 Hz;`,
      "each client's viewpoint moves along the standard motion trace; timed: the server's receive (acks) and send (interest, priority, bandwidth cap, packing),",
      'in steady state: once no client owes bandwidth for its join snapshot (before that the cap holds every delta back).',
      '',
      '| clients | server ms per tick (mean) | CPU ms per tick (process) | µs per client (above the 0-client cost) | entities in interest per client | bytes sent per client per tick |',
      '|---:|---:|---:|---:|---:|---:|',
      rows,
      '',
      `Fixed cost (change detection of the world, no client): ${fixed.toFixed(2)} ms. Clients per core at 20 Hz (cost per client at ${last.clients} clients): ${clientsPerCore ?? 'n/a (room under 1,000 clients)'}.`,
      '',
      `Snapshot bytes per entity (pose): ${raw.toFixed(1)} raw, ${deflated.toFixed(1)} deflated.`,
    ].join('\n');
    return {
      metrics: { clients_per_core_20hz: clientsPerCore },
      series: { points, fixedMs: fixed, snapshotBytesPerEntity: { raw, deflated } },
      markdown,
    };
  },
};

// Run alone: npx tsx bench/interest-scale.bench.ts
if (import.meta.url === `file://${process.argv[1]}`) {
  const { silentProgress } = await import('./harness.ts');
  const r = await interestScaleFamily.run({ scale: 'quick', seed: 1, timerOverheadNs: 0, progress: silentProgress });
  console.log(r.markdown);
  console.log(JSON.stringify(r.metrics));
}
