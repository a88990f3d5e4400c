import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How hard a run works: `full` for published figures, `quick` under 3 minutes, `tiny` for the smoke test. */
export type BenchScale = 'full' | 'quick' | 'tiny';

/** Everything a benchmark family gets from the runner. */
export interface BenchContext {
  readonly scale: BenchScale;
  /** Base seed of every workload; equal seeds give equal world changes in every method. */
  readonly seed: number;
  /** Median cost of one `process.hrtime.bigint()` pair, subtracted from each timed section. */
  readonly timerOverheadNs: number;
  readonly progress: Progress;
}

/** Median and spread of repeated trials. */
export interface SampleStats {
  median: number;
  min: number;
  max: number;
  /** First and third quartiles (linear interpolation). */
  q1: number;
  q3: number;
  /** Interquartile range in percent of the median: the trials' noise, robust to one disturbed trial. */
  iqrPct: number;
  trials: number;
}

/** One benchmark's line on stderr: updated while it runs, final once it ends. */
export interface ProgressTask {
  /** Replaces the status text (throttled on a TTY, ignored otherwise). */
  update(status: string): void;
  /** Prints the final line for this benchmark. */
  end(summary: string): void;
}

/** Progress display for a run. */
export interface Progress {
  start(label: string): ProgressTask;
}

/** Picks the value for this run's scale. */
export function byScale<T>(scale: BenchScale, values: Record<BenchScale, T>): T {
  return values[scale];
}

/** Median and spread of `samples` (at least one). */
export function summarize(samples: readonly number[]): SampleStats {
  if (samples.length === 0) throw new Error('summarize needs at least one sample');
  const sorted = [...samples].sort((a, b) => a - b);
  const quantile = (q: number): number => {
    const at = (sorted.length - 1) * q;
    const lo = Math.floor(at);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
  };
  const median = quantile(0.5);
  const q1 = quantile(0.25);
  const q3 = quantile(0.75);
  return {
    median,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    q1,
    q3,
    iqrPct: median > 0 ? ((q3 - q1) / median) * 100 : 0,
    trials: sorted.length,
  };
}

/** Timer pairs measured to estimate the timer's own cost; enough for a stable median, ~1 ms in all. */
const TIMER_CALIBRATION_PAIRS = 20_000;

/** Median cost in ns of an empty `hrtime.bigint()`-timed section, so it can be subtracted from short sections. */
export function measureTimerOverheadNs(): number {
  const samples = new Float64Array(TIMER_CALIBRATION_PAIRS);
  for (let i = 0; i < TIMER_CALIBRATION_PAIRS; i++) {
    const t0 = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
  }
  samples.sort();
  return samples[TIMER_CALIBRATION_PAIRS >> 1];
}

/**
 * Runs a full garbage collection (untimed, between trials), so that garbage one method leaves is not collected during
 * another method's timed ticks. Uses `global.gc` when node runs with --expose-gc, else exposes it through V8's flags;
 * a no-op where neither works.
 */
export const collectGarbage: () => void = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // fall through: no way to force a collection here
  }
  return () => {};
})();

/** Shortest interval between two repaints of a TTY status line: 10 per second is readable and costs nothing. */
const REPAINT_INTERVAL_MS = 100;

/** Writes one line per benchmark to `stream`: repainted in place on a TTY, plain final lines otherwise. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr, enabled = true): Progress {
  const tty = enabled && stream.isTTY === true;
  return {
    start(label) {
      let lastPaint = 0;
      const started = performance.now();
      const paint = (text: string): void => {
        stream.write(`\r\x1b[2K${text}`);
      };
      if (tty) paint(`${label} ...`);
      return {
        update(status) {
          if (!tty) return;
          const now = performance.now();
          if (now - lastPaint < REPAINT_INTERVAL_MS) return;
          lastPaint = now;
          paint(`${label} ${status}`);
        },
        end(summary) {
          if (!enabled) return;
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          const line = `${label} ${summary} (${seconds} s)`;
          if (tty) paint(`${line}\n`);
          else stream.write(`${line}\n`);
        },
      };
    },
  };
}

/** A progress display that prints nothing (tests). */
export const silentProgress: Progress = createProgress(process.stderr, false);

/** Formats a count compactly for labels: 1000 -> "1k", 50000 -> "50k". */
export function formatCount(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

/** Formats a figure with 3 significant digits (no exponent below 1e6). */
export function formatFigure(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}
