import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BASELINE_TICK_METHODS, createTickCostFamily } from './tick-cost.bench.ts';
import type { TickCostRecord } from './tick-cost.bench.ts';
import { msgpackMethod } from './baselines/msgpack.ts';
import { BENCH_FAMILIES } from './families.ts';
import { silentProgress, summarize } from './harness.ts';
import { renderLineChart } from './line-chart.ts';
import { METRIC_KEYS } from './metrics.ts';
import { collectMetrics, replaceReadmeSection } from './report.ts';
import { runBench } from './runner.ts';
import type { TickMethod } from './tick-method.ts';
import { createPoseWorkload } from './workload.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ecsync-bench-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('bench smoke (tiny configuration, no timing asserted)', () => {
  it('runs every registered family and writes a complete report to a temp dir', async () => {
    const outDir = await tempDir();
    const jsonFile = join(outDir, 'copy', 'report.json');
    const { report, files } = await runBench({
      scale: 'tiny',
      outDir,
      jsonFile,
      progress: silentProgress,
      readme: null,
    });
    expect(Object.keys(report.metrics)).toEqual([...METRIC_KEYS]);
    for (const value of Object.values(report.metrics)) {
      expect(value === null || (typeof value === 'number' && Number.isFinite(value))).toBe(true);
    }
    expect(Object.keys(report.families)).toEqual(BENCH_FAMILIES.map((f) => f.name));
    expect(report.quick).toBe(true);
    expect(report.machine.cpus).toBeGreaterThan(0);

    const names = await readdir(outDir);
    for (const f of ['latest.json', 'latest.md', 'tick-cost.svg', 'bytes-per-client.svg']) expect(names).toContain(f);
    expect(files.every((f) => f.startsWith(outDir))).toBe(true);
    const json = JSON.parse(await readFile(join(outDir, 'latest.json'), 'utf8'));
    expect(JSON.parse(await readFile(jsonFile, 'utf8'))).toEqual(json);
    expect(Object.keys(json.metrics)).toEqual([...METRIC_KEYS]);

    const md = await readFile(join(outDir, 'latest.md'), 'utf8');
    for (const key of METRIC_KEYS) expect(md).toContain(key);
    expect(await readFile(join(outDir, 'tick-cost.svg'), 'utf8')).toContain('<polyline');
    // the room-bandwidth family draws the per-client chart
    expect(await readFile(join(outDir, 'bytes-per-client.svg'), 'utf8')).toContain('<polyline');
    // ecsync is registered: its tick-cost ratios and byte figures are measured even at the tiny scale
    for (const key of [
      'diff_encode_vs_memcmp',
      'speedup_vs_bitecs_soa',
      'speedup_vs_colyseus_schema',
      'bytes_per_changed_pose',
      'bytes_per_avatar',
      'kbps_per_client_16_users_60hz',
    ] as const) {
      expect(report.metrics[key]).toBeGreaterThan(0);
    }
    // the transport family opens real WebRTC connections: never at the tiny scale
    expect(report.metrics.transport_clients_60hz_geckos).toBeNull();
  });

  it('measures every baseline honestly: receivers match and encoders report bytes', async () => {
    const family = createTickCostFamily(BASELINE_TICK_METHODS);
    const result = await family.run({ scale: 'tiny', seed: 7, timerOverheadNs: 0, progress: silentProgress });
    const records = (result.series as { records: TickCostRecord[] }).records;
    expect(records.map((r) => r.method)).toEqual(BASELINE_TICK_METHODS.map((m) => m.name));
    for (const r of records) {
      const method = BASELINE_TICK_METHODS.find((m) => m.name === r.method)!;
      expect(r.maxReceiverError).toBeLessThanOrEqual(method.tolerance);
      expect(r.nsPerEntity.trials).toBe(2);
      if (method.floor) expect(r.bytesPerChangedEntity).toBeNull();
      // every encoder must at least carry the 7 float32 fields it claims to send
      else expect(r.bytesPerChangedEntity).toBeGreaterThanOrEqual(7 * 4);
    }
    // ecsync is not registered yet: its metrics stay null rather than invented
    expect(collectMetrics([{ name: family.name, title: family.title, result }])).toMatchObject({
      diff_encode_vs_memcmp: null,
      speedup_vs_bitecs_soa: null,
      speedup_vs_colyseus_schema: null,
    });
  });

  it('fills the ratio metrics once a method named ecsync is registered', async () => {
    const fakeEcsync: TickMethod = { ...msgpackMethod, name: 'ecsync' };
    const family = createTickCostFamily([...BASELINE_TICK_METHODS, fakeEcsync]);
    const result = await family.run({ scale: 'tiny', seed: 7, timerOverheadNs: 0, progress: silentProgress });
    const metrics = collectMetrics([{ name: family.name, title: family.title, result }]);
    expect(metrics.diff_encode_vs_memcmp).toBeGreaterThan(0);
    expect(metrics.speedup_vs_bitecs_soa).toBeGreaterThan(0);
    expect(metrics.speedup_vs_colyseus_schema).toBeGreaterThan(0);
    expect(metrics.bytes_per_changed_pose).toBeNull();
  });

  it("fails the run when a method's receiver does not match the sender", async () => {
    const lying: TickMethod = {
      name: 'lying',
      description: 'claims to encode but sends nothing',
      tolerance: 0,
      create: (workload) => ({ setup() {}, tick: () => ({ bytes: 1 }), check: () => (workload.steps > 0 ? 0.5 : 0) }),
    };
    const family = createTickCostFamily([lying]);
    await expect(family.run({ scale: 'tiny', seed: 1, timerOverheadNs: 0, progress: silentProgress })).rejects.toThrow(
      /lying: receiver differs/,
    );
  });

  it('gives every method the same world changes for the same seed', () => {
    const a = createPoseWorkload({ entities: 200, seed: 3 });
    const b = createPoseWorkload({ entities: 200, seed: 3 });
    for (let i = 0; i < 5; i++) {
      a.step();
      b.step();
      expect(Array.from(a.changed)).toEqual(Array.from(b.changed));
    }
    expect(a.changed.length).toBe(20);
    expect(Array.from(a.Pose.qw)).toEqual(Array.from(b.Pose.qw));
    for (const eid of a.eids) {
      const { px, py, pz, qx, qy, qz, qw } = a.Pose;
      expect(Math.max(Math.abs(px[eid]), Math.abs(py[eid]), Math.abs(pz[eid]))).toBeLessThanOrEqual(10);
      expect(Math.hypot(qx[eid], qy[eid], qz[eid], qw[eid])).toBeCloseTo(1, 5);
    }
  });

  it('summarizes trials by median and interquartile range', () => {
    const stats = summarize([5, 1, 3, 100, 2]);
    expect(stats).toMatchObject({ median: 3, min: 1, max: 100, q1: 2, q3: 5, trials: 5 });
    expect(stats.iqrPct).toBeCloseTo(100, 10);
  });

  it('draws one line per series, skipping points a log axis cannot show', () => {
    const svg = renderLineChart({
      file: 'x.svg',
      title: 'a < b',
      xLabel: 'n',
      yLabel: 'ns',
      xLog: true,
      yLog: true,
      series: [
        {
          name: 'one',
          points: [
            [1000, 2],
            [10_000, 0],
          ],
        },
        {
          name: 'two',
          points: [
            [1000, 50],
            [10_000, 40],
          ],
        },
      ],
    });
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle/g)).toHaveLength(3);
    expect(svg).toContain('a &lt; b');
    expect(svg).not.toContain('No data yet');
  });

  it('updates only the README section between the bench markers', () => {
    const readme = 'intro\n<!-- bench:start -->\nold\n<!-- bench:end -->\noutro\n';
    expect(replaceReadmeSection(readme, 'new table')).toBe(
      'intro\n<!-- bench:start -->\nnew table\n<!-- bench:end -->\noutro\n',
    );
    expect(replaceReadmeSection('no markers', 'x')).toBeNull();
  });
});
