/**
 * A real `redis-server` for tests and benchmarks: started on 127.0.0.1 on a free port, without persistence, and
 * stopped by its pid. Fails with how to install it when the binary is missing (scripts/test.mjs installs it as root).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

/** Where Debian's redis-server package puts the binary. */
export const REDIS_SERVER_BIN = '/usr/bin/redis-server';

/** How long redis-server may take to say it accepts connections. */
const START_TIMEOUT_MS = 10_000;

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Stops it (SIGTERM by pid, SIGKILL after 2 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; it is released at once for the caller to take). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      out += String(chunk);
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });
}

/** Starts redis-server on 127.0.0.1 on a free port. */
export async function startRedisServer(): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER_BIN)) {
    throw new Error(
      `These tests need Debian's redis-server at ${REDIS_SERVER_BIN}.\n` +
        'Install it with:  sudo apt-get update && sudo apt-get install -y redis-server\n' +
        '(npm test does this by itself when run as root).',
    );
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      REDIS_SERVER_BIN,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await waitReady(child);
    } catch (e) {
      child.kill('SIGKILL');
      if (attempt < 2) continue; // another process took the port in between
      throw e;
    }
    const pid = child.pid ?? 0;
    return {
      port,
      pid,
      url: `redis://127.0.0.1:${port}`,
      stop: () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          const kill = setTimeout(() => process.kill(pid, 'SIGKILL'), 2000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          process.kill(pid, 'SIGTERM');
        }),
    };
  }
}
