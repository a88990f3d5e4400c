import type { BenchContext } from './harness.ts';
import type { ChartSpec } from './line-chart.ts';
import type { MetricKey } from './metrics.ts';

/** What a benchmark family hands back to the runner. */
export interface FamilyResult {
  /** Headline metrics this family measured; leave out (or set null) what it did not. */
  metrics?: Partial<Record<MetricKey, number | null>>;
  /** Raw, JSON-serialisable series, written to `latest.json` under `families[name]`. */
  series: unknown;
  /** The family's section of `latest.md` (Markdown tables, notes), without its heading. */
  markdown?: string;
  /** Charts to write next to the report; a chart whose `file` is a default chart replaces the placeholder. */
  charts?: ChartSpec[];
}

/** A group of related benchmarks run in one go (tick cost, pose bytes, VR quality, scale, transport...). */
export interface BenchFamily {
  /** Stable id: `--only NAME`, the key under `families` in the JSON. */
  readonly name: string;
  /** Heading of the family's section in the Markdown report. */
  readonly title: string;
  run(ctx: BenchContext): Promise<FamilyResult>;
}
