#!/usr/bin/env node
// Runs the whole test suite the way CI does:
//  1. makes sure Debian's chromium is there when browser tests exist, and Debian's redis-server when scale-out
//     tests exist (installs them as root, else says how);
//  2. runs vitest inside a network namespace that has only loopback, so WebRTC tests can never reach another
//     address. Without root (no namespace), the suite still runs, and the tests that open WebRTC connections
//     fail with a how-to instead of being skipped.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function hasBrowserTests() {
  const dir = join(root, 'test', 'e2e');
  return existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.test.ts'));
}

function ensureChromium() {
  if (existsSync('/usr/bin/chromium')) return;
  if (!isRoot) {
    console.error(
      'The browser tests need Debian chromium at /usr/bin/chromium.\n' +
        'Install it with:  sudo apt-get update && sudo apt-get install -y chromium\nthen run npm test again.',
    );
    process.exit(1);
  }
  console.error('[test] installing Debian chromium for the browser tests (apt-get install -y chromium)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
}

function hasRedisTests() {
  const dir = join(root, 'test', 'scale');
  return existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.test.ts'));
}

// The scale-out tests start a real redis-server on 127.0.0.1 (inside the namespace below): install it first.
function ensureRedis() {
  if (existsSync('/usr/bin/redis-server')) return;
  if (!isRoot) {
    console.error(
      'The scale-out tests need Debian redis-server at /usr/bin/redis-server.\n' +
        'Install it with:  sudo apt-get update && sudo apt-get install -y redis-server\nthen run npm test again.',
    );
    process.exit(1);
  }
  console.error('[test] installing Debian redis-server for the scale-out tests (apt-get install -y redis-server)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], { stdio: 'inherit', env });
}

function canUnshare() {
  if (!isRoot) return false;
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' });
  return r.status === 0;
}

if (hasBrowserTests()) ensureChromium();
if (hasRedisTests()) ensureRedis();

const vitest = [join(root, 'node_modules', '.bin', 'vitest'), 'run', ...args];
let result;
if (canUnshare()) {
  result = spawnSync(
    'unshare',
    ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', 'env', 'ECSYNC_NETNS=1', ...vitest],
    { stdio: 'inherit', cwd: root },
  );
} else {
  console.error(
    '[test] no loopback-only network namespace (needs root and unshare): running without it.\n' +
      '[test] Tests that open WebRTC connections will fail and say how to run them; as root run npm test.',
  );
  result = spawnSync(vitest[0], vitest.slice(1), { stdio: 'inherit', cwd: root });
}
process.exit(result.status ?? 1);
