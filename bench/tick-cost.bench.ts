import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { bitecsSoaMethod } from './baselines/bitecs-soa.ts';
import { colyseusSchemaMethod } from './baselines/colyseus-schema.ts';
import { copyMethod, memcmpMethod } from './baselines/memcmp.ts';
import { msgpackMethod } from './baselines/msgpack.ts';
import { byScale, collectGarbage, formatCount, formatFigure, summarize } from './harness.ts';
import type { BenchContext, SampleStats } from './harness.ts';
import type { Metrics } from './metrics.ts';
import type { MethodRun, TickMethod } from './tick-method.ts';
import { DEFAULT_CHANGED_FRACTION, createPoseWorkload } from './workload.ts';
import type { PoseWorkload } from './workload.ts';

/** The baselines, in table order; the lead appends the ecsync method (named `ecsync`). */
export const BASELINE_TICK_METHODS: readonly TickMethod[] = [
  memcmpMethod,
  copyMethod,
  bitecsSoaMethod,
  colyseusSchemaMethod,
  msgpackMethod,
];

/** Name of the method the headline ratios are about. */
export const ECSYNC_METHOD = 'ecsync';
/** Entity count of the headline ratios: measured by both quick and full runs, so the metrics mean the same in both. */
export const REFERENCE_ENTITIES = 10_000;
/** Changed shares of the variant rows (owned storage, WASM, marks): sparse, the SPEC's reference, dense. */
export const VARIANT_CHANGED_FRACTIONS = [0.01, 0.1, 0.5] as const;
/** Ticks checked against a decoding receiver before timing: enough to cover the full state and two diffs. */
const CHECK_TICKS = 3;

interface TickCostPlan {
  entityCounts: number[];
  trials: number;
  /** Timed ticks per method per trial, so that the slowest baseline (bitecs, ~1-3 us/entity) stays within budget. */
  ticksPerTrial(entities: number): number;
  warmupTicks(entities: number): number;
}

const PLANS = {
  // 300k entity-ticks per trial: bitecs (~2-3 us/entity) takes ~0.6-1 s per trial at every size, the others far less.
  full: {
    entityCounts: [1_000, 10_000, 50_000],
    trials: 9,
    ticksPerTrial: (n: number) => Math.max(6, Math.round(300_000 / n)),
    warmupTicks: (n: number) => Math.max(6, Math.round(300_000 / n)),
  },
  // 100k entity-ticks per trial: the whole family takes ~10-15 s, leaving the 3-minute quick budget to the others.
  quick: {
    entityCounts: [1_000, 10_000],
    trials: 7,
    ticksPerTrial: (n: number) => Math.max(6, Math.round(100_000 / n)),
    warmupTicks: (n: number) => Math.max(6, Math.round(100_000 / n)),
  },
  tiny: { entityCounts: [100], trials: 2, ticksPerTrial: () => 1, warmupTicks: () => 1 },
} satisfies Record<BenchContext['scale'], TickCostPlan>;

/** One method at one entity count. */
export interface TickCostRecord {
  method: string;
  entities: number;
  /** Share of the entities moved per tick. */
  changedFraction: number;
  changedPerTick: number;
  ticksPerTrial: number;
  /** Per-trial ns per world entity per tick (change detection + encode, divided by all entities). */
  nsPerEntity: SampleStats;
  nsPerEntitySamples: number[];
  /** Median ns per tick divided by the changed entities of a tick. */
  nsPerChangedEntity: number;
  /** null for floors, which encode nothing. */
  bytesPerTick: number | null;
  bytesPerChangedEntity: number | null;
  /** Median over trials of (this method / memcmp) in the same trial; null without a memcmp method. */
  ratioVsMemcmp: number | null;
  /** Median over trials of (this method / ecsync) in the same trial; null until ecsync is registered. */
  ecsyncSpeedup: number | null;
  /** Largest receiver error seen while checking the first ticks. */
  maxReceiverError: number;
}

interface Live {
  method: TickMethod;
  workload: PoseWorkload;
  run: MethodRun;
  samples: number[];
  bytes: number;
  changed: number;
  maxError: number;
}

function advance(live: Live): void {
  live.workload.step();
  live.run.beforeTick?.();
}

function pairedRatio(a: readonly number[], b: readonly number[]): number | null {
  const ratios = a.map((v, i) => v / b[i]).filter(Number.isFinite);
  return ratios.length > 0 ? summarize(ratios).median : null;
}

async function measureCount(
  ctx: BenchContext,
  methods: readonly TickMethod[],
  entities: number,
  plan: TickCostPlan,
  changedFraction = DEFAULT_CHANGED_FRACTION,
) {
  const task = ctx.progress.start(`tick-cost ${formatCount(entities)} entities, ${changedFraction * 100} % changed`);
  const lives: Live[] = methods.map((method) => {
    task.update(`setting up ${method.name}`);
    const workload = createPoseWorkload({ entities, changedFraction, seed: ctx.seed, ...method.workload });
    const run = method.create(workload);
    run.setup();
    return { method, workload, run, samples: [], bytes: 0, changed: 0, maxError: 0 };
  });
  // 1. Honest work: the first ticks of every method are decoded on a receiver and compared with the sender.
  for (let c = 0; c < CHECK_TICKS; c++) {
    for (const live of lives) {
      advance(live);
      live.run.tick();
      const error = live.run.check();
      live.maxError = Math.max(live.maxError, error);
      if (!(error <= live.method.tolerance)) {
        throw new Error(
          `${live.method.name}: receiver differs by ${error} (> ${live.method.tolerance}) at ${entities}`,
        );
      }
    }
  }
  // 2. Warm-up, then trials round-robin across methods, so drifting machine noise hits them alike.
  const warmup = plan.warmupTicks(entities);
  const ticks = plan.ticksPerTrial(entities);
  for (const live of lives) {
    for (let t = 0; t < warmup; t++) {
      advance(live);
      live.run.tick();
    }
  }
  const overhead = ctx.timerOverheadNs;
  for (let trial = 0; trial < plan.trials; trial++) {
    task.update(`trial ${trial + 1}/${plan.trials}`);
    await new Promise((resolve) => setImmediate(resolve)); // let the progress line paint
    for (const live of lives) {
      collectGarbage();
      let ns = 0;
      for (let t = 0; t < ticks; t++) {
        advance(live);
        const t0 = process.hrtime.bigint();
        const result = live.run.tick();
        const t1 = process.hrtime.bigint();
        ns += Math.max(0, Number(t1 - t0) - overhead);
        live.bytes += result.bytes;
        live.changed += live.workload.changed.length;
      }
      live.samples.push(ns / (ticks * entities));
    }
  }
  // 3. Records.
  const floor = lives.find((l) => l.method.name === memcmpMethod.name);
  const ecsync = lives.find((l) => l.method.name === ECSYNC_METHOD);
  const records: TickCostRecord[] = lives.map((live) => {
    const stats = summarize(live.samples);
    const changedPerTick = live.workload.changedPerStep;
    const encodes = live.method.floor !== true;
    return {
      method: live.method.name,
      entities,
      changedFraction,
      changedPerTick,
      ticksPerTrial: ticks,
      nsPerEntity: stats,
      nsPerEntitySamples: live.samples,
      nsPerChangedEntity: (stats.median * entities) / changedPerTick,
      bytesPerTick: encodes ? live.bytes / (plan.trials * ticks) : null,
      bytesPerChangedEntity: encodes ? live.bytes / live.changed : null,
      ratioVsMemcmp: floor ? pairedRatio(live.samples, floor.samples) : null,
      ecsyncSpeedup: ecsync && ecsync !== live ? pairedRatio(live.samples, ecsync.samples) : null,
      maxReceiverError: live.maxError,
    };
  });
  task.end(records.map((r) => `${r.method} ${formatFigure(r.nsPerEntity.median)}`).join(', ') + ' ns/entity');
  return records;
}

function headlineMetrics(records: readonly TickCostRecord[], variants: readonly TickCostRecord[]): Partial<Metrics> {
  const counts = [...new Set(records.map((r) => r.entities))];
  const reference = counts.includes(REFERENCE_ENTITIES) ? REFERENCE_ENTITIES : Math.max(...counts);
  const at = (method: string) => records.find((r) => r.entities === reference && r.method === method);
  const ecsync = at(ECSYNC_METHOD);
  if (ecsync === undefined) return {};
  const variant = (method: string, fraction: number) =>
    variants.find((r) => r.method === method && r.changedFraction === fraction)?.ratioVsMemcmp ?? null;
  return {
    diff_encode_vs_memcmp: ecsync.ratioVsMemcmp,
    speedup_vs_bitecs_soa: at(bitecsSoaMethod.name)?.ecsyncSpeedup ?? null,
    speedup_vs_colyseus_schema: at(colyseusSchemaMethod.name)?.ecsyncSpeedup ?? null,
    diff_encode_vs_memcmp_1pct: variant(ECSYNC_METHOD, 0.01),
    diff_encode_vs_memcmp_50pct: variant(ECSYNC_METHOD, 0.5),
    diff_encode_owned_vs_memcmp: variant('ecsync-owned', DEFAULT_CHANGED_FRACTION),
    diff_encode_owned_js_vs_memcmp: variant('ecsync-owned-js', DEFAULT_CHANGED_FRACTION),
    diff_encode_marks_vs_memcmp_1pct: variant('ecsync-marks', 0.01),
  };
}

function variantMarkdown(variants: readonly TickCostRecord[]): string[] {
  if (variants.length === 0) return [];
  const methods = [...new Set(variants.map((r) => r.method))];
  const fractions = [...new Set(variants.map((r) => r.changedFraction))];
  const lines = [
    '',
    `### Detection paths at ${formatCount(variants[0].entities)} entities: x memcmp (same run, per changed share)`,
    '',
    `| method | ${fractions.map((f) => `${f * 100} % changed`).join(' | ')} | ns/changed entity at ${fractions.map((f) => `${f * 100} %`).join(' / ')} |`,
    `|---|${fractions.map(() => '---:').join('|')}|---:|`,
  ];
  for (const m of methods) {
    const rows = fractions.map((f) => variants.find((r) => r.method === m && r.changedFraction === f));
    lines.push(
      `| ${m} | ${rows.map((r) => formatFigure(r?.ratioVsMemcmp ?? null)).join(' | ')} | ` +
        `${rows.map((r) => formatFigure(r?.nsPerChangedEntity ?? null)).join(' / ')} |`,
    );
  }
  return lines;
}

function markdown(
  methods: readonly TickMethod[],
  records: readonly TickCostRecord[],
  variants: readonly TickCostRecord[],
): string {
  const lines: string[] = [
    `Each tick ${DEFAULT_CHANGED_FRACTION * 100} % of the entities move (1-5 cm, 0.5-3 degrees); every method runs on ` +
      'its own copy of the same seeded world and step sequence. ns/entity = timed tick / all entities (median of the trials; IQR = interquartile range of the trials in % of the median). Ratios are ' +
      'medians of per-trial ratios (methods run round-robin), so they hold better than the absolute figures on a ' +
      'noisy machine. memcmp, copy and bitecs scan the whole state; colyseus and msgpack are handed the changed ' +
      'entities (their change detection is free here).',
    '',
  ];
  for (const m of methods) lines.push(`- **${m.name}**: ${m.description}`);
  for (const entities of [...new Set(records.map((r) => r.entities))]) {
    const rows = records.filter((r) => r.entities === entities);
    lines.push('', `### ${formatCount(entities)} entities, ${rows[0].changedPerTick} changed per tick`, '');
    lines.push('| method | ns/entity | IQR | ns/changed entity | bytes/changed entity | x memcmp | ecsync speedup |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const speedup = r.ecsyncSpeedup === null ? '—' : `${formatFigure(r.ecsyncSpeedup)}x`;
      lines.push(
        `| ${r.method} | ${formatFigure(r.nsPerEntity.median)} | ${Math.round(r.nsPerEntity.iqrPct)} % | ` +
          `${formatFigure(r.nsPerChangedEntity)} | ${formatFigure(r.bytesPerChangedEntity)} | ` +
          `${formatFigure(r.ratioVsMemcmp)} | ${speedup} |`,
      );
    }
  }
  lines.push(...variantMarkdown(variants));
  lines.push('', '![tick cost](tick-cost.svg)');
  return lines.join('\n');
}

/**
 * The tick-cost family: change detection + encode per tick, each method on the same world changes, at several sizes.
 * With `variants` (other ecsync detection paths) and a method named ecsync, it also measures memcmp, ecsync and
 * each variant at the reference size for every share of VARIANT_CHANGED_FRACTIONS, ratios from the same run.
 * @example createTickCostFamily([...BASELINE_TICK_METHODS, ecsyncMethod], ECSYNC_VARIANT_METHODS)
 */
export function createTickCostFamily(
  methods: readonly TickMethod[] = BASELINE_TICK_METHODS,
  variantMethods: readonly TickMethod[] = [],
): BenchFamily {
  const names = methods.map((m) => m.name);
  if (new Set(names).size !== names.length) throw new Error(`tick-cost: duplicate method names in ${names.join(', ')}`);
  return {
    name: 'tick-cost',
    title: 'Tick cost: change detection + encode',
    async run(ctx): Promise<FamilyResult> {
      const plan: TickCostPlan = byScale(ctx.scale, PLANS);
      const records: TickCostRecord[] = [];
      for (const entities of plan.entityCounts) records.push(...(await measureCount(ctx, methods, entities, plan)));
      const variants: TickCostRecord[] = [];
      const ecsync = methods.find((m) => m.name === ECSYNC_METHOD);
      if (ecsync !== undefined && variantMethods.length > 0) {
        const entities = plan.entityCounts.includes(REFERENCE_ENTITIES)
          ? REFERENCE_ENTITIES
          : Math.max(...plan.entityCounts);
        const compared = [memcmpMethod, ecsync, ...variantMethods];
        for (const fraction of VARIANT_CHANGED_FRACTIONS)
          variants.push(...(await measureCount(ctx, compared, entities, plan, fraction)));
      }
      return {
        metrics: headlineMetrics(records, variants),
        series: {
          changedFraction: DEFAULT_CHANGED_FRACTION,
          seed: ctx.seed,
          referenceEntities: REFERENCE_ENTITIES,
          timerOverheadNs: ctx.timerOverheadNs,
          trials: plan.trials,
          methods: methods.map((m) => ({ name: m.name, description: m.description, floor: m.floor === true })),
          records,
          variantChangedFractions: VARIANT_CHANGED_FRACTIONS,
          variants,
        },
        markdown: markdown(methods, records, variants),
        charts: [
          {
            file: 'tick-cost.svg',
            title: `Tick cost vs entities (${DEFAULT_CHANGED_FRACTION * 100} % changed per tick)`,
            xLabel: 'entities',
            yLabel: 'ns per entity per tick',
            xLog: true,
            yLog: true,
            series: methods.map((m) => ({
              name: m.name,
              points: records
                .filter((r) => r.method === m.name)
                .map((r) => [r.entities, r.nsPerEntity.median] as const),
            })),
          },
        ],
      };
    },
  };
}
