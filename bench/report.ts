import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import type { FamilyResult } from './bench-family.ts';
import { formatFigure } from './harness.ts';
import type { BenchScale } from './harness.ts';
import { renderLineChart } from './line-chart.ts';
import type { ChartSpec } from './line-chart.ts';
import { METRICS, METRIC_KEYS, emptyMetrics, isMetricKey } from './metrics.ts';
import type { Metrics } from './metrics.ts';

/** The content of `latest.json`. */
export interface BenchReport {
  date: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  quick: boolean;
  scale: BenchScale;
  /** Exactly the keys of METRICS, each a number or null (not measured). */
  metrics: Metrics;
  /** Raw series per family that ran, keyed by family name. */
  families: Record<string, unknown>;
}

/** One family's name, heading and result, as the runner collected it. */
export interface FamilyOutput {
  name: string;
  title: string;
  result: FamilyResult;
}

/** Charts that always exist after a run: a placeholder says "No data yet" until a family fills it. */
export const DEFAULT_CHARTS: readonly ChartSpec[] = [
  {
    file: 'tick-cost.svg',
    title: 'Tick cost vs entities',
    xLabel: 'entities',
    yLabel: 'ns per entity per tick',
    xLog: true,
    yLog: true,
    series: [],
    emptyNote: 'the tick-cost family did not run',
  },
  {
    file: 'bytes-per-client.svg',
    title: 'Bytes per client vs users',
    xLabel: 'users in the room',
    yLabel: 'bytes per client per second',
    series: [],
    emptyNote: 'no family measures bytes per client yet',
  },
];

/** Merges the families' metrics into one object with every key; throws on unknown keys, bad values or conflicts. */
export function collectMetrics(outputs: readonly FamilyOutput[]): Metrics {
  const metrics = emptyMetrics();
  const source = new Map<string, string>();
  for (const { name, result } of outputs) {
    for (const [key, value] of Object.entries(result.metrics ?? {})) {
      if (!isMetricKey(key)) throw new Error(`family ${name} reported unknown metric ${key}`);
      if (value === null || value === undefined) continue;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${name}: ${key} is not finite`);
      const previous = source.get(key);
      if (previous !== undefined) throw new Error(`metric ${key} reported by both ${previous} and ${name}`);
      source.set(key, name);
      metrics[key] = value;
    }
  }
  return metrics;
}

/** Builds the JSON report of a run. */
export function buildReport(scale: BenchScale, outputs: readonly FamilyOutput[], date = new Date()): BenchReport {
  const cpuList = cpus();
  return {
    date: date.toISOString(),
    machine: {
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    quick: scale !== 'full',
    scale,
    metrics: collectMetrics(outputs),
    families: Object.fromEntries(outputs.map((o) => [o.name, o.result.series])),
  };
}

/** Renders the Markdown report; `assetPrefix` is prepended to chart paths (e.g. `bench/results/` in the README). */
export function renderMarkdown(report: BenchReport, outputs: readonly FamilyOutput[], assetPrefix = ''): string {
  const { machine } = report;
  const lines = [
    '# ecsync benchmarks',
    '',
    `${report.date} · ${machine.cpus} x ${machine.cpuModel} · Node ${machine.node} · ${report.scale} run` +
      ' · `npm run bench` to reproduce',
    '',
    '## Headline metrics (SPEC section 10)',
    '',
    '| metric | value | target | what |',
    '|---|---:|---|---|',
  ];
  for (const m of METRICS) {
    const value = report.metrics[m.key];
    const shown = value === null ? 'not measured yet' : `${formatFigure(value)} ${m.unit}`;
    lines.push(`| \`${m.key}\` | ${shown} | ${m.target} | ${m.what} |`);
  }
  for (const { title, result } of outputs) {
    if (result.markdown === undefined) continue;
    lines.push('', `## ${title}`, '', result.markdown.replace(/\]\((?!https?:)([^)]+\.svg)\)/g, `](${assetPrefix}$1)`));
  }
  lines.push('');
  return lines.join('\n');
}

const README_START = '<!-- bench:start -->';
const README_END = '<!-- bench:end -->';

/** Replaces the text between the README's bench markers with `markdown`; null when the markers are missing. */
export function replaceReadmeSection(readme: string, markdown: string): string | null {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) return null;
  return `${readme.slice(0, start + README_START.length)}\n${markdown}\n${readme.slice(end)}`;
}

/** Where a run writes its files. */
export interface ReportTarget {
  /** Directory of latest.json, latest.md and the SVG charts. */
  outDir: string;
  /** Also write the JSON here (`--json FILE`). */
  jsonFile?: string;
}

/** Writes latest.json, latest.md and every chart (placeholders included); returns the paths written. */
export async function writeReport(
  report: BenchReport,
  outputs: readonly FamilyOutput[],
  target: ReportTarget,
): Promise<string[]> {
  for (const key of Object.keys(report.metrics)) {
    if (!isMetricKey(key)) throw new Error(`unexpected metric ${key}`);
  }
  if (Object.keys(report.metrics).length !== METRIC_KEYS.length) throw new Error('report is missing metrics');
  await mkdir(target.outDir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const written: string[] = [];
  const put = async (path: string, text: string): Promise<void> => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    written.push(path);
  };
  await put(join(target.outDir, 'latest.json'), json);
  if (target.jsonFile !== undefined) await put(target.jsonFile, json);
  await put(join(target.outDir, 'latest.md'), renderMarkdown(report, outputs));
  const charts = new Map<string, ChartSpec>(DEFAULT_CHARTS.map((c) => [c.file, c]));
  for (const { result } of outputs) for (const chart of result.charts ?? []) charts.set(chart.file, chart);
  for (const chart of charts.values()) await put(join(target.outDir, chart.file), renderLineChart(chart));
  return written;
}
