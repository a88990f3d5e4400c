/** The import direction of STYLE.md, read from the source: low layers never import bitecs or systems/. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
}

describe('import direction', () => {
  it('codec, protocol, transport and connection never import bitecs or systems/', () => {
    for (const layer of ['codec', 'protocol', 'transport', 'connection']) {
      for (const f of files(join(root, 'src', layer))) {
        for (const spec of imports(f)) {
          expect(spec, relative(root, f)).not.toBe('bitecs');
          expect(spec, relative(root, f)).not.toMatch(/systems\//);
        }
      }
    }
  });

  it('only plugin.ts, register.ts, context.ts and index.ts in src/ import bitecs or systems/', () => {
    const allowed = new Set(['plugin.ts', 'register.ts', 'context.ts', 'index.ts']);
    for (const f of files(join(root, 'src'))) {
      const rel = relative(join(root, 'src'), f);
      if (allowed.has(rel)) continue;
      for (const spec of imports(f)) {
        const bad = spec === 'bitecs' || /(^|\/)systems\//.test(spec);
        expect(bad, `${rel} imports ${spec}`).toBe(false);
      }
    }
  });

  it('lower layers do not import higher ones', () => {
    const order = ['codec', 'transport', 'connection', 'protocol', 'session', 'replication', 'authority'];
    const rank = (p: string) => order.findIndex((l) => p.startsWith(`${l}/`));
    for (const f of files(join(root, 'src'))) {
      const rel = relative(join(root, 'src'), f);
      const mine = rank(rel);
      if (mine < 0) continue;
      for (const spec of imports(f)) {
        if (!spec.startsWith('.')) continue;
        const target = relative(join(root, 'src'), join(f, '..', spec));
        const theirs = rank(target);
        if (theirs < 0) continue;
        // protocol is shared vocabulary: codec..connection may not use it, session and up may.
        expect(theirs <= mine || (order[theirs] === 'protocol' && mine >= 3), `${rel} imports ${target}`).toBe(true);
      }
    }
  });
  it('the parts of replication never import its composers (ServerReplicator, ClientReplicator)', () => {
    const composers = new Set(['replication/server-replicator.ts', 'replication/client-replicator.ts']);
    for (const f of files(join(root, 'src', 'replication'))) {
      const rel = relative(join(root, 'src'), f);
      for (const spec of imports(f)) {
        if (!spec.startsWith('.')) continue;
        const target = relative(join(root, 'src'), join(f, '..', spec));
        expect(composers.has(target) && target !== rel, `${rel} imports ${target}`).toBe(false);
      }
    }
  });
  it('the parts of sessions never import their composers (ServerSession, ClientSession)', () => {
    const composers = new Set(['session/server-session.ts', 'session/client-session.ts']);
    for (const f of files(join(root, 'src', 'session'))) {
      const rel = relative(join(root, 'src'), f);
      for (const spec of imports(f)) {
        if (!spec.startsWith('.')) continue;
        const target = relative(join(root, 'src'), join(f, '..', spec));
        expect(composers.has(target) && target !== rel, `${rel} imports ${target}`).toBe(false);
      }
    }
  });
  it('bench/ and test/ never import each other; harness/ (shared by both) imports neither', () => {
    const rules: Array<[string, RegExp]> = [
      ['bench', /(^|\/)test\//],
      ['test', /(^|\/)bench\//],
      ['harness', /(^|\/)(test|bench)\//],
    ];
    for (const [dir, forbidden] of rules) {
      for (const f of files(join(root, dir))) {
        for (const spec of imports(f)) {
          if (!spec.startsWith('.')) continue;
          const target = relative(root, join(f, '..', spec));
          expect(forbidden.test(target), `${relative(root, f)} imports ${target}`).toBe(false);
        }
      }
    }
  });
});
