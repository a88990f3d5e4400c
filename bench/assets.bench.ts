/**
 * Assets: how fast an asset streams under the bandwidth cap, and what it does to the state stream beside it. A
 * server and one client over the in-memory network (20 ms latency, manual clock, 60 Hz frames and sends); 200
 * entities change every frame and carry the frame number, so the client measures the age of what it shows (pose
 * latency) and its spread (jitter). The server offers an asset of random bytes; the same room runs without the
 * asset in the same process. Rows: the default asset share (half the cap) and a share of the whole cap, to show why
 * the share exists, and the default share under 10 % loss.
 */
import { addComponent, addEntity, createWorld, query } from 'bitecs';
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { byScale, formatFigure } from './harness.ts';
import type { BenchContext } from './harness.ts';
import {
  createClientAssets,
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  createServerAssets,
  field,
  Networked,
  registerComponent,
} from '../src/index.ts';
import { createRandom } from '../src/random.ts';

const FRAME_MS = 1000 / 60;
const ENTITIES = 200;
const MAX = 1024;

interface Plan {
  assetBytes: number;
  caps: number[];
}
const PLANS = {
  full: { assetBytes: 4 * 1024 * 1024, caps: [2000, 8000] },
  quick: { assetBytes: 2 * 1024 * 1024, caps: [2000, 8000] },
  tiny: { assetBytes: 128 * 1024, caps: [2000] },
} satisfies Record<BenchContext['scale'], Plan>;

interface Row {
  capKbps: number;
  share: number;
  /** Packet loss each way on the link. */
  loss: number;
  /** Asset throughput up to its last chunk, MB/s (simulated time). */
  mbPerSecond: number | null;
  transferSeconds: number | null;
  /** Age of the entity values the client shows, over the transfer (or the same frames without it): mean, p95, stddev. */
  ageMeanMs: number;
  ageP95Ms: number;
  jitterMs: number;
  kbpsDown: number;
}

function protocol(store: { t: Float32Array; x: Float32Array }) {
  const p = createProtocol();
  registerComponent(p, store, { name: 'Stamp', fields: { t: field.f32(), x: field.f32() } });
  return p;
}

async function runRoom(
  capKbps: number,
  share: number,
  loss: number,
  assetBytes: number,
  withAsset: boolean,
  seed: number,
) {
  const clock = createManualClock();
  const network = createMemoryNetwork({ clock, seed });
  const serverStore = { t: new Float32Array(MAX), x: new Float32Array(MAX) };
  const clientStore = { t: new Float32Array(MAX), x: new Float32Array(MAX) };
  const serverWorld = createWorld();
  const server = createNetworkPlugin(serverWorld, {
    role: 'server',
    protocol: protocol(serverStore),
    transport: network.server,
    clock,
    sendRateHz: 60,
    bandwidthKbps: capKbps,
  });
  const assets = createServerAssets(serverWorld, { bandwidthShare: share });
  const clientWorld = createWorld();
  const client = createNetworkPlugin(clientWorld, {
    role: 'client',
    protocol: protocol(clientStore),
    link: network.connect({ up: { latencyMs: 20, loss }, down: { latencyMs: 20, loss } }),
    clock,
    sendRateHz: 60,
  });
  const received = createClientAssets(clientWorld);
  const eids: number[] = [];
  for (let i = 0; i < ENTITIES; i++) {
    const eid = addEntity(serverWorld);
    addComponent(serverWorld, eid, serverStore);
    addComponent(serverWorld, eid, Networked);
    eids.push(eid);
  }
  const rnd = createRandom(seed);
  let frame = 0;
  const step = () => {
    frame++;
    clock.advance(FRAME_MS);
    network.pump();
    server.receive(serverWorld);
    for (const eid of eids) {
      serverStore.t[eid] = frame;
      serverStore.x[eid] = rnd.range(-10, 10);
    }
    server.send(serverWorld);
    client.receive(clientWorld);
    client.send(clientWorld);
  };
  for (let i = 0; i < 120; i++) step();
  let lastChunkAtMs = -1;
  let done = false;
  received.events.on('progress', (m, n) => n === m.size && (lastChunkAtMs = clock.now()));
  received.events.on('received', () => (done = true));
  const bytes = new Uint8Array(assetBytes);
  for (let i = 0; i < bytes.length; i++) bytes[i] = rnd.int(256);
  const startMs = clock.now();
  const bytesBefore = client.stats()[0]?.bytesIn ?? 0;
  if (withAsset) await assets.offer(bytes, { name: 'bench.bin', mime: 'application/octet-stream' });
  // Without the asset the room runs for as long as the transfer took with it (passed in as assetBytes's time).
  const ages: number[] = [];
  const maxFrames = Math.ceil((assetBytes / ((capKbps * 1000 * share) / 8)) * 3 * 60) + 600;
  for (let f = 0; f < maxFrames && !(withAsset ? lastChunkAtMs >= 0 : f >= maxFrames / 3); f++) {
    step();
    const shown = query(clientWorld, [clientStore]);
    for (const eid of shown) ages.push((frame - clientStore.t[eid]) * FRAME_MS);
  }
  const seconds = (clock.now() - startMs) / 1000;
  const kbpsDown = (((client.stats()[0]?.bytesIn ?? 0) - bytesBefore) * 8) / 1000 / seconds;
  for (let i = 0; i < 600 && withAsset && !done; i++) {
    step();
    await new Promise((r) => setImmediate(r));
  }
  void server.dispose();
  void client.dispose();
  ages.sort((a, b) => a - b);
  const mean = ages.reduce((s, a) => s + a, 0) / Math.max(1, ages.length);
  const sd = Math.sqrt(ages.reduce((s, a) => s + (a - mean) ** 2, 0) / Math.max(1, ages.length));
  const transferSeconds = withAsset && lastChunkAtMs >= 0 ? (lastChunkAtMs - startMs) / 1000 : null;
  const row: Row = {
    capKbps,
    share,
    loss,
    mbPerSecond: transferSeconds ? assetBytes / 1e6 / transferSeconds : null,
    transferSeconds,
    ageMeanMs: mean,
    ageP95Ms: ages[Math.floor(ages.length * 0.95)] ?? 0,
    jitterMs: sd,
    kbpsDown,
  };
  return row;
}

function markdown(rows: Array<{ on: Row; off: Row }>, assetBytes: number): string {
  const f = formatFigure;
  const lines = [
    `A server streams a ${f(assetBytes / 1024 / 1024)} MiB asset of random bytes (not deflatable) to one client ` +
      `while ${ENTITIES} entities change every frame (60 Hz sends, 20 ms latency, manual clock). Age = ` +
      'how old the entity values the client shows are (its pose latency, including waiting for bandwidth), over ' +
      'the transfer; the same room without the asset runs in the same process. Share = the part of the cap ' +
      'assets may take (default 0.5).',
    '',
    '| cap kbps | share | loss | asset MB/s | transfer s | age mean ms (with / without) | age p95 ms (with / without) | jitter ms (with / without) | kbps down (with / without) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { on, off } of rows) {
    lines.push(
      `| ${on.capKbps} | ${on.share} | ${on.loss * 100} % | ${f(on.mbPerSecond)} | ${f(on.transferSeconds)} | ` +
        `${f(on.ageMeanMs)} / ${f(off.ageMeanMs)} | ${f(on.ageP95Ms)} / ${f(off.ageP95Ms)} | ` +
        `${f(on.jitterMs)} / ${f(off.jitterMs)} | ${f(on.kbpsDown)} / ${f(off.kbpsDown)} |`,
    );
  }
  return lines.join('\n');
}

/** The assets family. */
export const assetsFamily: BenchFamily = {
  name: 'assets',
  title: 'Assets: throughput under the cap, and pose latency during a transfer',
  async run(ctx): Promise<FamilyResult> {
    const plan: Plan = byScale(ctx.scale, PLANS);
    const task = ctx.progress.start('assets');
    const rows: Array<{ on: Row; off: Row }> = [];
    // Each cap at both shares without loss, then the default share under 10 % loss each way.
    const cases = plan.caps.flatMap((cap) => [
      [cap, 0.5, 0],
      [cap, 1, 0],
      [cap, 0.5, 0.1],
    ]);
    for (const [cap, share, loss] of cases) {
      task.update(`${cap} kbps, share ${share}, loss ${loss}`);
      const off = await runRoom(cap, share, loss, plan.assetBytes, false, ctx.seed);
      const on = await runRoom(cap, share, loss, plan.assetBytes, true, ctx.seed);
      rows.push({ on, off });
    }
    task.end(rows.map((r) => `${r.on.capKbps}/${r.on.share}: ${formatFigure(r.on.mbPerSecond)} MB/s`).join(', '));
    return { series: { assetBytes: plan.assetBytes, rows }, markdown: markdown(rows, plan.assetBytes) };
  },
};
