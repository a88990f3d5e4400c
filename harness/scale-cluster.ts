/**
 * Starts real room processes (harness/scale-process.ts under tsx) as children for the scale-out tests and bench,
 * reads their line protocol, and stops them by pid.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = join(import.meta.dirname, '..');

/** One child room process. */
export interface ScaleProcess {
  readonly id: string;
  readonly pid: number;
  /** The matchmaker URL of this process (every process serves it). */
  readonly url: string;
  /** The geckos.io signalling origin of this process, or null when it serves none. */
  readonly geckosUrl: string | null;
  readonly lines: string[];
  /** Resolves with the first line (seen or to come) matching `pattern`, after `from` lines. */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  send(line: string): void;
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
  readonly exited: Promise<number | null>;
}

/** Options of a child room process. */
export interface ScaleProcessOptions {
  redisUrl: string;
  prefix: string;
  keySeedHex: string;
  capacity?: number;
  domains?: string[];
  drain?: 'handover' | 'wait';
  reservationMs?: number;
  /** Serve geckos.io: signalling on the host's HTTP port ('shared') or on a port of its own ('own'). */
  geckos?: 'shared' | 'own';
  /** The UDP port range of the geckos.io data channels. */
  geckosPorts?: { min: number; max: number };
  /** The geckos.io server's bound on attempts in flight. */
  geckosMaxPending?: number;
  /** The geckos.io server's deadline for an attempt's data channel, in ms. */
  geckosConnectTimeoutMs?: number;
}

/** Starts one child room process and waits for READY. */
export async function startScaleProcess(options: ScaleProcessOptions): Promise<ScaleProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(root, 'harness', 'scale-process.ts')], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      ECSYNC_REDIS_URL: options.redisUrl,
      ECSYNC_PREFIX: options.prefix,
      ECSYNC_KEY_SEED: options.keySeedHex,
      ECSYNC_CAPACITY: String(options.capacity ?? 8),
      ECSYNC_DOMAINS: (options.domains ?? []).join(','),
      ECSYNC_DRAIN: options.drain ?? 'handover',
      ECSYNC_RESERVATION_MS: String(options.reservationMs ?? 10_000),
      ECSYNC_GECKOS: options.geckos ?? '',
      ECSYNC_GECKOS_PORTS: options.geckosPorts ? `${options.geckosPorts.min}-${options.geckosPorts.max}` : '',
      ECSYNC_GECKOS_MAX_PENDING: options.geckosMaxPending ? String(options.geckosMaxPending) : '',
      ECSYNC_GECKOS_CONNECT_TIMEOUT_MS: options.geckosConnectTimeoutMs ? String(options.geckosConnectTimeoutMs) : '',
    },
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (pattern: RegExp, timeoutMs = 20_000, from = 0) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines.slice(from).find((l) => pattern.test(l));
        if (hit === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; got:\n${lines.join('\n')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const ready = await waitFor(/^READY /, 30_000);
  const [, id, port, geckosUrl] = ready.split(' ');
  const pid = child.pid ?? 0;
  return {
    id,
    pid,
    url: `http://127.0.0.1:${port}`,
    geckosUrl: geckosUrl && geckosUrl !== '-' ? geckosUrl : null,
    lines,
    waitFor,
    send: (line) => child.stdin?.write(`${line}\n`),
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal);
    },
    exited,
  };
}

/** Stops every process still running (SIGKILL by pid) and waits for them. */
export async function stopScaleProcesses(processes: readonly ScaleProcess[]): Promise<void> {
  for (const p of processes) p.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
}
