/**
 * Transport capacity: how many geckos.io clients one server sustains at 60 Hz (bench/transport-geckos.bench.ts's
 * `measureGeckosClients`). WebRTC gathers candidates on every interface, so the measurement runs in a child process
 * inside a loopback-only network namespace (`unshare -n`, root only); elsewhere, and at the tiny (test) scale, the
 * metric stays null with a note. The child is this file run with `--child <options JSON>`: it prints the result as
 * one JSON line after CHILD_RESULT_MARKER.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { byScale } from './harness.ts';
import type { BenchContext } from './harness.ts';
import type { GeckosCapacityOptions, GeckosCapacityResult } from './transport-geckos.bench.ts';

/** Line prefix of the child's result on stdout (geckos.io and node-datachannel may print their own lines). */
const CHILD_RESULT_MARKER = 'ECSYNC_TRANSPORT_RESULT ';
/** Extra time the child gets beyond its own budget (module loading, closing connections) before it is killed. */
const CHILD_GRACE_MS = 30_000;
const GECKOS_BENCH = fileURLToPath(new URL('./transport-geckos.bench.ts', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

interface TransportPlan {
  /** null: skipped at this scale. */
  options: Omit<GeckosCapacityOptions, 'log'> | null;
}

const PLANS = {
  // Doubling until a step fails (hard bound MAX_RAMP_CLIENTS), then bisecting; 150 s at most.
  full: { options: { budgetMs: 150_000 } },
  // The same ramp, bounded tighter: 512 clients at most, 2 s windows, a minute.
  quick: { options: { maxClients: 512, windowMs: 2_000, budgetMs: 60_000 } },
  tiny: { options: null },
} satisfies Record<BenchContext['scale'], TransportPlan>;

interface ChildOutcome {
  result: GeckosCapacityResult | null;
  note: string;
  stderrTail: string;
}

function runChild(options: Omit<GeckosCapacityOptions, 'log'>, onLine: (line: string) => void): Promise<ChildOutcome> {
  const budget = (options.budgetMs ?? 150_000) + CHILD_GRACE_MS;
  return new Promise((resolve) => {
    const child = spawn(
      'unshare',
      [
        '-n',
        'sh',
        '-c',
        'ip link set lo up && exec "$@"',
        'sh',
        'env',
        'ECSYNC_NETNS=1',
        process.execPath,
        '--import',
        'tsx',
        THIS_FILE,
        '--child',
        JSON.stringify(options),
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      for (const line of chunk.split('\n')) if (line.startsWith('{')) onLine(line);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), budget);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ result: null, note: `could not start the child: ${error.message}`, stderrTail: '' });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(CHILD_RESULT_MARKER));
      const stderrTail = stderr.split('\n').slice(-15).join('\n');
      if (line === undefined) {
        const why = signal !== null ? `killed by ${signal} after ${budget} ms` : `exited with code ${code}`;
        resolve({ result: null, note: `the measurement child ${why} without a result`, stderrTail });
        return;
      }
      resolve({
        result: JSON.parse(line.slice(CHILD_RESULT_MARKER.length)) as GeckosCapacityResult,
        note: '',
        stderrTail,
      });
    });
  });
}

function skipped(note: string): FamilyResult {
  return {
    metrics: { transport_clients_60hz_geckos: null },
    series: { skipped: note },
    markdown: `Not measured: ${note}.`,
  };
}

function cell(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (value === null || value === undefined) return '—';
  return String(value);
}

function markdown(result: GeckosCapacityResult, options: Omit<GeckosCapacityOptions, 'log'>): string {
  const lines = [
    'One geckos.io server on native node-datachannel and N geckos.io clients on node-datachannel/polyfill, 200-byte ' +
      'packets both ways at 60 Hz on loopback, inside a loopback-only network namespace ' +
      '(bench/transport-geckos.bench.ts). A step passes with no packet dropped, the server within about one core ' +
      'and both sides keeping the rate; the ramp doubles until a step fails, then bisects. ' +
      `Ramp: ${(options.steps ?? result.ramp ?? []).join(', ')} (stopped by: ${result.stoppedBy}).`,
  ];
  // The step record belongs to transport-geckos.bench.ts; show whatever it measures.
  const steps = result.steps as unknown as Record<string, unknown>[];
  if (steps.length > 0) {
    const keys = Object.keys(steps[0]);
    lines.push('', `| ${keys.join(' | ')} |`, `|${keys.map(() => '---:').join('|')}|`);
    for (const step of steps) lines.push(`| ${keys.map((k) => cell(step[k])).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The transport family: `transport_clients_60hz_geckos`. */
export const transportFamily: BenchFamily = {
  name: 'transport',
  title: 'Transport capacity (geckos.io, 60 Hz)',
  async run(ctx): Promise<FamilyResult> {
    const plan = byScale<TransportPlan>(ctx.scale, PLANS);
    if (plan.options === null) return skipped('skipped at the tiny (test) scale: it opens real WebRTC connections');
    if (process.platform !== 'linux' || process.getuid?.() !== 0) {
      return skipped('needs root on Linux to run inside a loopback-only network namespace (`unshare -n`)');
    }
    if (!existsSync(GECKOS_BENCH)) return skipped('bench/transport-geckos.bench.ts is missing');
    const options = plan.options;
    const task = ctx.progress.start('transport geckos.io');
    const outcome = await runChild(options, (line) => {
      try {
        const step = JSON.parse(line) as { clients?: number; failure?: string | null };
        if (step.clients !== undefined) {
          task.update(`${step.clients} clients: ${step.failure ? `failed (${step.failure})` : 'passed'}`);
        }
      } catch {
        // a progress line that is not JSON: ignore
      }
    });
    if (outcome.result === null) {
      task.end(`failed: ${outcome.note}`);
      const result = skipped(outcome.note);
      return { ...result, series: { error: outcome.note, stderrTail: outcome.stderrTail } };
    }
    const result = outcome.result;
    // Every step passed: the ramp hit its upper bound, not the limit.
    const capped = result.stoppedBy === 'all steps passed';
    task.end(`${result.transport_clients_60hz_geckos} clients (${result.stoppedBy})`);
    return {
      metrics: { transport_clients_60hz_geckos: result.transport_clients_60hz_geckos },
      series: { options, ...result, cappedByQuickRamp: capped },
      markdown:
        markdown(result, options) +
        (capped ? '\n\nEvery step passed: the ramp reached its upper bound, so the figure is a lower bound.' : ''),
    };
  },
};

async function childMain(optionsJson: string): Promise<void> {
  const options = JSON.parse(optionsJson) as Omit<GeckosCapacityOptions, 'log'>;
  const { measureGeckosClients } = await import('./transport-geckos.bench.ts');
  const result = await measureGeckosClients({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${CHILD_RESULT_MARKER}${JSON.stringify(result)}\n`);
  // geckos.io's client keeps polling timers alive after each connect; the result is out already.
  process.exit(0);
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0 && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  childMain(process.argv[childAt + 1] ?? '{}').catch((error: unknown) => {
    process.stderr.write(
      `transport child failed: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`,
    );
    process.exit(1);
  });
}
