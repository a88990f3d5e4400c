/**
 * Short strings: what a reliable-only string field costs. (1) The server's send tick (change detection, packing
 * for one client) over a world of labelled entities where 1 % rename per tick, against the same world whose label is a u32 id on
 * the unreliable path: ns per entity and the ratio. (2) Bytes on the link per rename (16-byte names, one client).
 * (3) Frames from a rename on the server to the client holding it, at 0, 2 and 10 % loss (60 Hz, 50 ms RTT): the
 * reliable lane resends what is lost after an RTT-based timeout instead of the next tick's delta.
 */
import { addComponent, addEntity, createWorld } from 'bitecs';
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { byScale, collectGarbage, summarize, type BenchContext } from './harness.ts';
import {
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  createRandom,
  entityOfNetworkId,
  field,
  Networked,
  networkIdOf,
  registerComponent,
  shortStringStatsOf,
  type LinkConditions,
} from '../src/index.ts';

/** Share of entities renamed per tick in the cost run. */
const RENAME_SHARE = 0.01;
/** Length of the benchmark's names in bytes (ASCII): a typical display name. */
const NAME_BYTES = 16;

function nameOf(i: number, tick: number): string {
  return `user-${i}-${tick}`.padEnd(NAME_BYTES, '.').slice(0, NAME_BYTES);
}

/** A server (and `clients` clients) over the memory network; `strings` picks the string or the u32 label. */
function room(entities: number, strings: boolean, clients: number, conditions: LinkConditions, seed: number) {
  const cap = entities + 16;
  const make = () => {
    const Label = strings
      ? { name: [] as string[], color: new Uint8Array(cap) }
      : { id: new Uint32Array(cap), color: new Uint8Array(cap) };
    const protocol = createProtocol();
    registerComponent(protocol, Label, {
      name: 'Label',
      fields: strings ? { name: field.shortString(32), color: field.u8() } : { id: field.u32(), color: field.u8() },
    });
    return { Label, protocol };
  };
  const clock = createManualClock();
  const network = createMemoryNetwork({ clock, seed });
  const server = { world: createWorld(), ...make() };
  const net = createNetworkPlugin(server.world, {
    role: 'server',
    protocol: server.protocol,
    transport: network.server,
    clock,
    sendRateHz: 60,
    hashIntervalMs: 0,
  });
  const peers = Array.from({ length: clients }, () => {
    const c = { world: createWorld(), ...make() };
    const cnet = createNetworkPlugin(c.world, {
      role: 'client',
      protocol: c.protocol,
      link: network.connect({ up: conditions, down: conditions }),
      clock,
      sendRateHz: 60,
    });
    return { ...c, net: cnet };
  });
  const ents: number[] = [];
  for (let i = 0; i < entities; i++) {
    const e = addEntity(server.world);
    addComponent(server.world, e, server.Label);
    addComponent(server.world, e, Networked);
    ents.push(e);
  }
  const rename = (e: number, i: number, tick: number) => {
    const L = server.Label as { name?: string[]; id?: Uint32Array };
    if (L.name) L.name[e] = nameOf(i, tick);
    else L.id![e] = tick * 65536 + i;
  };
  const step = (timed: boolean): bigint => {
    clock.advance(1000 / 60);
    network.pump();
    net.receive(server.world);
    const t0 = timed ? process.hrtime.bigint() : 0n;
    net.send(server.world);
    const dt = timed ? process.hrtime.bigint() - t0 : 0n;
    for (const p of peers) {
      p.net.receive(p.world);
      p.net.send(p.world);
    }
    return dt;
  };
  return { server, net, peers, ents, rename, step };
}

interface CostRow {
  entities: number;
  stringNsPerEntity: number;
  u32NsPerEntity: number;
  ratio: number;
}

function sendCost(entities: number, strings: boolean, ticks: number, seed: number, timerNs: number): number {
  const r = room(entities, strings, 1, {}, seed);
  for (let i = 0; i < 10; i++) r.step(false);
  const rnd = createRandom(seed);
  const perTick = Math.max(1, Math.round(entities * RENAME_SHARE));
  const samples: number[] = [];
  for (let t = 0; t < ticks; t++) {
    for (let k = 0; k < perTick; k++) {
      const i = rnd.int(entities);
      r.rename(r.ents[i], i, t + 1);
    }
    samples.push(Math.max(0, Number(r.step(true)) - timerNs) / entities);
  }
  void r.net.dispose();
  return summarize(samples).median;
}

interface LatencyRow {
  loss: number;
  medianFrames: number;
  p95Frames: number;
  bytesPerRename: number;
  reliableDeltas: number;
}

function renameLatency(loss: number, renames: number, seed: number): LatencyRow {
  const r = room(8, true, 1, { latencyMs: 25, jitterMs: 5, loss }, seed);
  for (let i = 0; i < 60; i++) r.step(false);
  const client = r.peers[0];
  const frames: number[] = [];
  const bytes0 = client.net.stats()[0].bytesIn;
  for (let n = 0; n < renames; n++) {
    const i = n % r.ents.length;
    const e = r.ents[i];
    r.rename(e, i, n + 1);
    const want = nameOf(i, n + 1);
    const netId = networkIdOf(r.server.world, e);
    let f = 0;
    const names = (client.Label as { name: string[] }).name;
    while (names[entityOfNetworkId(client.world, netId)] !== want && f < 600) {
      r.step(false);
      f++;
    }
    frames.push(f);
    for (let k = 0; k < 5; k++) r.step(false);
  }
  const bytes = client.net.stats()[0].bytesIn - bytes0;
  const sorted = [...frames].sort((a, b) => a - b);
  const row = {
    loss,
    medianFrames: sorted[Math.floor(sorted.length / 2)],
    p95Frames: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))],
    // Includes the idle traffic of the frames between renames (pings, acks, packet headers).
    bytesPerRename: bytes / renames,
    reliableDeltas: shortStringStatsOf(r.server.world).reliableDeltas,
  };
  void r.net.dispose();
  return row;
}

/** Bytes of the link per rename without idle traffic: a run with renames minus the same run without. */
function bytesPerRename(renames: number, seed: number): number {
  const run = (withRenames: boolean) => {
    const r = room(8, true, 1, {}, seed);
    for (let i = 0; i < 60; i++) r.step(false);
    const before = r.peers[0].net.stats()[0].bytesIn;
    for (let n = 0; n < renames; n++) {
      if (withRenames) r.rename(r.ents[n % r.ents.length], n % r.ents.length, n + 1);
      for (let k = 0; k < 4; k++) r.step(false);
    }
    const got = r.peers[0].net.stats()[0].bytesIn - before;
    void r.net.dispose();
    return got;
  };
  return (run(true) - run(false)) / renames;
}

export const shortStringsFamily: BenchFamily = {
  name: 'short-strings',
  title: 'Short strings (reliable-only string fields)',
  async run(ctx: BenchContext): Promise<FamilyResult> {
    const sizes = byScale(ctx.scale, { full: [1000, 10000], quick: [1000, 10000], tiny: [200] });
    const ticks = byScale(ctx.scale, { full: 300, quick: 120, tiny: 10 });
    const renames = byScale(ctx.scale, { full: 200, quick: 80, tiny: 8 });
    const cost: CostRow[] = [];
    for (const n of sizes) {
      const task = ctx.progress.start(`short-strings send cost ${n} entities`);
      // A first, untimed round of both warms the JIT for each, so neither pays the other's compilation.
      sendCost(n, true, ticks, ctx.seed, ctx.timerOverheadNs);
      sendCost(n, false, ticks, ctx.seed, ctx.timerOverheadNs);
      collectGarbage();
      const s = sendCost(n, true, ticks, ctx.seed, ctx.timerOverheadNs);
      collectGarbage();
      const u = sendCost(n, false, ticks, ctx.seed, ctx.timerOverheadNs);
      cost.push({ entities: n, stringNsPerEntity: s, u32NsPerEntity: u, ratio: s / u });
      task.end(`${s.toFixed(1)} ns/entity with strings, ${u.toFixed(1)} with a u32 (${(s / u).toFixed(2)} x)`);
    }
    const latency: LatencyRow[] = [];
    for (const loss of [0, 0.02, 0.1]) {
      const task = ctx.progress.start(`short-strings rename latency ${loss * 100} % loss`);
      latency.push(renameLatency(loss, renames, ctx.seed));
      const row = latency[latency.length - 1];
      task.end(`median ${row.medianFrames} frames, p95 ${row.p95Frames}`);
    }
    const perRename = bytesPerRename(renames, ctx.seed);
    const lines = [
      `Server send tick (change detection + packing for one client), ${RENAME_SHARE * 100} % of entities renamed per`,
      'tick, against the same world whose label is a u32 on the unreliable path:',
      '',
      '| entities | ns/entity, shortString(32) | ns/entity, u32 | ratio |',
      '|---:|---:|---:|---:|',
      ...cost.map(
        (r) =>
          `| ${r.entities} | ${r.stringNsPerEntity.toFixed(1)} | ${r.u32NsPerEntity.toFixed(1)} | ${r.ratio.toFixed(2)} x |`,
      ),
      '',
      `Bytes on the link per rename of a ${NAME_BYTES}-byte name (reliable Delta, packet and ack share, idle traffic`,
      `subtracted): **${perRename.toFixed(1)} B**.`,
      '',
      'Frames (60 Hz) from a server rename to the client holding it, 50 ms RTT, 5 ms jitter:',
      '',
      '| loss | median frames | p95 frames |',
      '|---:|---:|---:|',
      ...latency.map((r) => `| ${r.loss * 100} % | ${r.medianFrames} | ${r.p95Frames} |`),
    ];
    return { series: { cost, latency, bytesPerRename: perRename }, markdown: lines.join('\n') };
  },
};
