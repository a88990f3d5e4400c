import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runQuickstart } from '../../examples/quickstart/main.ts';

describe('README quick start', () => {
  it('converges in process', async () => {
    const lines: string[] = [];
    expect(await runQuickstart((l) => lines.push(l))).toBe(true);
    expect(lines.at(-1)).toBe('converged');
  });

  it('runs as `npm run quickstart` and exits 0', () => {
    const out = execFileSync('npm', ['run', '--silent', 'quickstart'], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/converged/);
  });
});
