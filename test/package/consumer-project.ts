/**
 * Builds the fresh consumer project of the package test: `npm pack` of this repository, then a project outside it
 * (in os.tmpdir) that installs the tarball with `npm ci --offline`, from the npm cache that this repository's own
 * `npm ci` filled. Its lockfile is written here: the tarball, and the registry packages it needs with the versions
 * and integrity hashes of this repository's lockfile, so the install needs no network and no registry metadata.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** Longest one packing or installing step may take before the test fails. */
const STEP_TIMEOUT_MS = 180_000;

/** Packages the consumer installs next to ecsync: bitecs (its required peer) and ws (the WebSocket server's). */
const CONSUMER_DEPENDENCIES = ['bitecs', 'ws'];
/** Development packages of the consumer: Node's types for the TypeScript check. */
const CONSUMER_DEV_DEPENDENCIES = ['@types/node'];

interface LockEntry {
  version: string;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** A packed and installed consumer project. */
export interface ConsumerProject {
  /** Scratch directory holding the tarball and the project; removed by the caller. */
  scratch: string;
  /** Path of the packed tarball. */
  tarball: string;
  /** The consumer project's directory (fixtures of test/package/consumer copied in). */
  dir: string;
}

/** Runs a command, returning its stdout; throws with its output when it fails. */
export function run(command: string, args: string[], cwd: string, timeoutMs = STEP_TIMEOUT_MS): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      timeout: timeoutMs,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', npm_config_update_notifier: 'false', npm_config_fund: 'false' },
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
  }
}

/** The lockfile `packages` entries for `names` and everything they depend on, from the repository's lockfile. */
function lockEntries(names: string[], dev: boolean, into: Record<string, LockEntry>): void {
  const repoLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const add = (name: string): void => {
    const key = `node_modules/${name}`;
    if (into[key]) return;
    const entry = repoLock.packages[key];
    if (!entry) throw new Error(`${name} is not installed at the top of this repository's lockfile`);
    const { dev: _dev, peer: _peer, devOptional: _devOptional, optional: _optional, ...rest } = entry;
    into[key] = dev ? { ...rest, dev: true } : rest;
    for (const dependency of Object.keys(entry.dependencies ?? {})) add(dependency);
  };
  for (const name of names) add(name);
}

/** Packs the repository (its `prepack` builds dist/) and installs the tarball into a fresh project. */
export function createConsumerProject(fixtures: string): ConsumerProject {
  const scratch = mkdtempSync(join(tmpdir(), 'ecsync-consumer-'));
  run('npm', ['pack', '--pack-destination', scratch], ROOT);
  const packed = readdirSync(scratch).filter((f) => f.endsWith('.tgz'));
  if (packed.length !== 1) throw new Error(`npm pack made ${packed.length} tarballs`);
  const tarball = join(scratch, packed[0] as string);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    license: string;
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
    peerDependenciesMeta: Record<string, unknown>;
    engines: Record<string, string>;
  };

  const packages: Record<string, LockEntry> = {};
  packages['node_modules/ecsync'] = {
    version: manifest.version,
    resolved: `file:${tarball}`,
    integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
    license: manifest.license,
    dependencies: manifest.dependencies,
    engines: manifest.engines,
    peerDependencies: manifest.peerDependencies,
    peerDependenciesMeta: manifest.peerDependenciesMeta,
  };
  lockEntries([...Object.keys(manifest.dependencies), ...CONSUMER_DEPENDENCIES], false, packages);
  lockEntries(CONSUMER_DEV_DEPENDENCIES, true, packages);
  const versions = (names: string[]) =>
    Object.fromEntries(names.map((name) => [name, (packages[`node_modules/${name}`] as LockEntry).version]));
  const root = {
    name: 'ecsync-consumer',
    version: '1.0.0',
    dependencies: { ecsync: `file:${tarball}`, ...versions(CONSUMER_DEPENDENCIES) },
    devDependencies: versions(CONSUMER_DEV_DEPENDENCIES),
  };

  const dir = join(scratch, 'consumer');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...root, private: true, type: 'module' }, null, 2));
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({ ...root, lockfileVersion: 3, requires: true, packages: { '': root, ...packages } }, null, 2),
  );
  run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], dir);
  cpSync(fixtures, dir, { recursive: true });
  return { scratch, tarball, dir };
}
