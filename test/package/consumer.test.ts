/**
 * The path a user takes: `npm pack`, install the tarball into a fresh project outside this repository (offline, from
 * the npm cache), then (1) plain `node` runs a WebSocket server on `ecsync/server` and a client on `ecsync` that
 * converge, without any geckos.io package; (2) a Vite app importing `ecsync` builds and runs in Chromium without an
 * error (its gzip size is printed); (3) a strict TypeScript consumer type-checks in node16 and bundler resolution,
 * without skipLibCheck; (4) publint --strict and arethetypeswrong find no problem; TypeDoc documents the API with
 * no warning.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumerProject, ROOT, run } from './consumer-project.ts';
import type { ConsumerProject } from './consumer-project.ts';

/** Packing (a full build) and installing, on a shared 2-core machine. */
const SETUP_TIMEOUT_MS = 240_000;
/** One check: a Vite build, a tsc run, a browser page. */
const CHECK_TIMEOUT_MS = 120_000;
/** How long the page may take to report its result. */
const PAGE_RESULT_TIMEOUT_MS = 30_000;

const bin = (path: string) => join(ROOT, 'node_modules', path);

let project: ConsumerProject;

beforeAll(() => {
  project = createConsumerProject(join(import.meta.dirname, 'consumer'));
}, SETUP_TIMEOUT_MS);

afterAll(() => {
  if (project) rmSync(project.scratch, { recursive: true, force: true });
});

/** Resolves with the exit code and output of a child process. */
function finished(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

/** The first line a child prints on stdout. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    let errors = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end >= 0) resolve(text.slice(0, end));
    });
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk));
    child.on('close', (code) => reject(new Error(`exited with ${code} before printing a line: ${text}${errors}`)));
  });
}

describe('the packed package in a fresh project', () => {
  it('installs without either geckos.io package', () => {
    const modules = join(project.dir, 'node_modules');
    expect(existsSync(join(modules, 'ecsync', 'dist', 'src', 'index.js'))).toBe(true);
    expect(existsSync(join(modules, '@geckos.io'))).toBe(false);
    const shipped = run('tar', ['-tzf', project.tarball], project.scratch).split('\n').filter(Boolean);
    const outside = shipped.filter((f) => !/^package\/(dist\/|README\.md$|LICENSE$|package\.json$)/.test(f));
    expect(outside).toEqual([]);
  });

  it(
    'plain node: a server on ecsync/server (WebSocket) and a client on ecsync converge',
    async () => {
      const env = { ...process.env, NODE_OPTIONS: '' };
      const server = spawn(process.execPath, ['node/server.mjs'], { cwd: project.dir, env });
      const serverDone = finished(server);
      let client: ChildProcess | null = null;
      try {
        const { port } = JSON.parse(await firstLine(server)) as { port: number };
        client = spawn(process.execPath, ['node/client.mjs', `ws://127.0.0.1:${port}/ecsync`], {
          cwd: project.dir,
          env,
        });
        const [serverResult, clientResult] = await Promise.all([serverDone, finished(client)]);
        expect(clientResult, clientResult.output).toMatchObject({ code: 0 });
        expect(serverResult, serverResult.output).toMatchObject({ code: 0 });
        expect(clientResult.output).toContain('client: saw the box and moved its avatar');
        expect(serverResult.output).toContain('server: saw the client move its avatar');
      } finally {
        // Both exit by themselves (each has a deadline); this only cleans up after a failed assertion.
        if (server.exitCode === null) server.kill();
        if (client && client.exitCode === null) client.kill();
      }
    },
    CHECK_TIMEOUT_MS,
  );

  it(
    'a Vite app on ecsync builds without warnings and runs in Chromium without errors',
    async () => {
      const app = join(project.dir, 'vite-app');
      const log = run(process.execPath, [bin('vite/bin/vite.js'), 'build', '--logLevel', 'warn'], app);
      expect(log.trim(), 'vite build output').toBe('');
      const assets = join(app, 'dist', 'assets');
      const scripts = readdirSync(assets).filter((f) => f.endsWith('.js'));
      const code = scripts.map((f) => readFileSync(join(assets, f)));
      expect(code.join('\n').includes('@geckos.io'), 'the bundle refers to @geckos.io').toBe(false);
      const bytes = code.reduce((sum, c) => sum + c.length, 0);
      const gzipped = code.reduce((sum, c) => sum + gzipSync(c, { level: 9 }).length, 0);
      console.log(
        `[package] Vite app on ecsync: ${scripts.length} JS file(s), ${(bytes / 1024).toFixed(1)} KiB, ` +
          `gzip ${(gzipped / 1024).toFixed(1)} KiB`,
      );

      const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };
      const server = http.createServer((request, response) => {
        const path = join(app, 'dist', (request.url ?? '/') === '/' ? 'index.html' : (request.url ?? ''));
        if (!path.startsWith(join(app, 'dist')) || !existsSync(path) || !statSync(path).isFile()) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' });
        response.end(readFileSync(path));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('console', (message) => {
          if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text());
        });
        page.on('pageerror', (error) => errors.push(error.message));
        page.on('requestfailed', (request) => errors.push(`failed to load ${request.url()}`));
        await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
        await page.waitForFunction(() => '__result' in window, undefined, { timeout: PAGE_RESULT_TIMEOUT_MS });
        const result = await page.evaluate(() => (window as unknown as { __result: unknown }).__result);
        expect(errors).toEqual([]);
        expect(result).toMatchObject({ converged: true });
      } finally {
        await browser.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
    CHECK_TIMEOUT_MS,
  );

  it.each(['node16', 'bundler'])(
    'a strict TypeScript consumer type-checks with moduleResolution %s, without skipLibCheck',
    (mode) => {
      const tsconfig = join(project.dir, 'ts', `tsconfig.${mode}.json`);
      expect(JSON.parse(readFileSync(tsconfig, 'utf8'))).toMatchObject({
        compilerOptions: { strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true },
      });
      run(process.execPath, [bin('typescript/bin/tsc'), '-p', tsconfig], project.dir);
    },
    CHECK_TIMEOUT_MS,
  );

  it('publint --strict reports nothing', async () => {
    const tarball = readFileSync(project.tarball);
    const pack = { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) };
    const { messages, pkg } = await publint({ pack, strict: true, level: 'suggestion' });
    expect(messages.map((message) => `${message.type}: ${formatMessage(message, pkg)}`)).toEqual([]);
  });

  it(
    'arethetypeswrong finds no problem for node16 (ESM) and bundler resolution',
    () => {
      // Exits non-zero on a problem (node10 and CommonJS are not goals: ESM only); --no-definitely-typed: offline.
      const report = run(
        process.execPath,
        [
          bin('@arethetypeswrong/cli/dist/index.js'),
          project.tarball,
          '--profile',
          'esm-only',
          '--no-definitely-typed',
          '--format',
          'json',
        ],
        project.scratch,
      );
      const { analysis } = JSON.parse(report) as {
        analysis: { entrypoints: Record<string, unknown>; problems: Array<{ kind: string; resolutionKind?: string }> };
      };
      expect(Object.keys(analysis.entrypoints).sort()).toEqual([
        '.',
        './discovery',
        './geckos',
        './package.json',
        './scale',
        './server',
      ]);
      const problems = analysis.problems.filter(
        (p) => p.resolutionKind === undefined || p.resolutionKind === 'node16-esm' || p.resolutionKind === 'bundler',
      );
      expect(problems).toEqual([]);
    },
    CHECK_TIMEOUT_MS,
  );

  it(
    'TypeDoc documents every entry point with no warning (nothing referenced but not exported)',
    () => {
      run(process.execPath, [bin('typedoc/bin/typedoc'), '--out', join(project.scratch, 'api-docs')], ROOT);
    },
    CHECK_TIMEOUT_MS,
  );
});
