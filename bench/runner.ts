import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BenchFamily } from './bench-family.ts';
import { BENCH_FAMILIES } from './families.ts';
import { createProgress, measureTimerOverheadNs } from './harness.ts';
import type { BenchContext, BenchScale, Progress } from './harness.ts';
import { buildReport, renderMarkdown, replaceReadmeSection, writeReport } from './report.ts';
import type { BenchReport, FamilyOutput } from './report.ts';

/** Where `npm run bench` writes: bench/results next to this file. */
export const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
/** The README whose `<!-- bench:start -->`...`<!-- bench:end -->` section shows the latest report. */
export const DEFAULT_README = fileURLToPath(new URL('../README.md', import.meta.url));
/** Any fixed seed will do; fixing it makes every run encode the same world changes. */
export const DEFAULT_SEED = 20_251_124;

/** Options of {@link runBench}. */
export interface RunBenchOptions {
  scale: BenchScale;
  /** Run only the family with this name. */
  only?: string;
  outDir?: string;
  jsonFile?: string;
  families?: readonly BenchFamily[];
  progress?: Progress;
  seed?: number;
  /** README to update between its bench markers; null to leave every README alone. */
  readme?: string | null;
}

/** Result of a run: the JSON report and the files written. */
export interface RunBenchResult {
  report: BenchReport;
  files: string[];
}

/**
 * Runs the registered benchmark families in order and writes the report files.
 * @example await runBench({ scale: 'quick' });
 */
export async function runBench(options: RunBenchOptions): Promise<RunBenchResult> {
  const all = options.families ?? BENCH_FAMILIES;
  const families = options.only === undefined ? all : all.filter((f) => f.name === options.only);
  if (families.length === 0) {
    throw new Error(`no benchmark family named ${options.only}; known: ${all.map((f) => f.name).join(', ')}`);
  }
  const ctx: BenchContext = {
    scale: options.scale,
    seed: options.seed ?? DEFAULT_SEED,
    timerOverheadNs: measureTimerOverheadNs(),
    progress: options.progress ?? createProgress(),
  };
  const outputs: FamilyOutput[] = [];
  for (const family of families) {
    outputs.push({ name: family.name, title: family.title, result: await family.run(ctx) });
  }
  const report = buildReport(options.scale, outputs);
  const outDir = options.outDir ?? DEFAULT_RESULTS_DIR;
  const files = await writeReport(report, outputs, { outDir, jsonFile: options.jsonFile });
  const readmePath = options.readme === undefined ? DEFAULT_README : options.readme;
  if (readmePath !== null) {
    const readme = await readFile(readmePath, 'utf8').catch(() => null);
    const updated =
      readme === null ? null : replaceReadmeSection(readme, renderMarkdown(report, outputs, 'bench/results/'));
    if (updated !== null && updated !== readme) {
      await writeFile(readmePath, updated);
      files.push(readmePath);
    }
  }
  return { report, files };
}
