/** The conflict policies of the command log, applied to the same order on several replicas. */
import { describe, expect, it } from 'vitest';
import { checkCommandTypes, CommandLog, type CommandTypes } from '../../src/authority/command-log.ts';
import type { CommandEntryData } from '../../src/authority/command-signing.ts';
import { encodeBody } from '../../src/codec/msgpack-body.ts';
import { NetError } from '../../src/errors.ts';
import { createRandom } from '../../src/random.ts';

const types: CommandTypes = {
  lww: { policy: 'last-writer-wins' },
  sum: {
    policy: 'merge',
    validate: (p) => (typeof p === 'number' ? Math.max(-10, Math.min(10, p)) : undefined),
    merge: (current, incoming) => ((current as number | undefined) ?? 0) + (incoming as number),
  },
  tool: { policy: 'reject-on-conflict' },
  boom: {
    policy: 'merge',
    merge: () => {
      throw new Error('application bug');
    },
  },
};

function e(
  type: string,
  target: string,
  payload: unknown,
  counter: number,
  author: number,
  base = 0,
): CommandEntryData {
  return { author, seq: counter, counter, base, type, target, payload: encodeBody(payload), sig: new Uint8Array(64) };
}

/** Checks and applies `entry` like a peer does; returns what happened. */
function feed(log: CommandLog, entry: CommandEntryData): string {
  const c = log.check(entry);
  if (!c.ok) return c.reason;
  return log.apply(entry, c.payload) ? 'applied' : 'kept';
}

describe('command log policies', () => {
  it('last-writer-wins: the greatest Lamport stamp wins, whatever order the log has', () => {
    const older = e('lww', 'sel', 'old', 5, 2);
    const newer = e('lww', 'sel', 'new', 6, 1);
    const tie = e('lww', 'sel', 'tie', 6, 3); // same counter, higher client id: later
    const a = new CommandLog(types);
    expect([older, newer, tie].map((x) => feed(a, x))).toEqual(['applied', 'applied', 'applied']);
    const b = new CommandLog(types);
    expect([tie, newer, older].map((x) => feed(b, x))).toEqual(['applied', 'kept', 'kept']);
    expect(a.records.get('sel')?.value).toBe('tie');
    expect(b.records.get('sel')?.value).toBe('tie');
    // Every entry takes its place in the log, applied or not.
    expect([a.index, b.index]).toEqual([3, 3]);
    expect(b.records.get('sel')).toMatchObject({ counter: 6, author: 3, version: 1 });
  });

  it('merge: the application function folds every entry in, after validation clamps it', () => {
    const log = new CommandLog(types);
    for (const [v, c] of [
      [3, 1],
      [4, 2],
      [100, 3],
      [-2.5, 4],
    ] as const)
      feed(log, e('sum', 'x', v, c, 1));
    expect(log.records.get('x')?.value).toBe(3 + 4 + 10 - 2.5);
    expect(feed(log, e('sum', 'x', 'not a number', 9, 1))).toBe('invalid');
    expect(log.records.get('x')).toMatchObject({ value: 14.5, counter: 4, version: 4 });
  });

  it('merge: a merge function that throws leaves the record alone, the same way on every peer', () => {
    const log = new CommandLog(types);
    expect(feed(log, e('boom', 'y', 1, 1, 1))).toBe('kept');
    expect(log.records.has('y')).toBe(false);
    expect(log.index).toBe(1);
  });

  it('reject-on-conflict: an entry based on an older version of its target is refused', () => {
    const log = new CommandLog(types);
    expect(feed(log, e('tool', 't', 'move', 1, 1, 0))).toBe('applied');
    const v = log.versionOf('t');
    expect(v).toBe(1);
    // Two editors both saw version 1; the first in the log wins, the second conflicts.
    expect(feed(log, e('tool', 't', 'rotate', 2, 2, v))).toBe('applied');
    expect(feed(log, e('tool', 't', 'scale', 2, 3, v))).toBe('conflict');
    expect(log.records.get('t')?.value).toBe('rotate');
    expect(log.index).toBe(2); // a refused entry is not in the log
    expect(feed(log, e('tool', 't', 'scale', 3, 3, log.versionOf('t')))).toBe('applied');
  });

  it('refuses unknown types and payloads that do not decode', () => {
    const log = new CommandLog(types);
    expect(feed(log, e('nope', 'a', 1, 1, 1))).toBe('unknown-type');
    const bad = { ...e('lww', 'a', 1, 1, 1), payload: new Uint8Array([0xc1]) };
    expect(feed(log, bad)).toBe('invalid');
    expect(log.index).toBe(0);
  });

  it('replicas fed the same random order end equal, and a snapshot restores the state exactly', () => {
    const rnd = createRandom(77);
    const entries: CommandEntryData[] = [];
    for (let i = 1; i <= 2000; i++) {
      const kind = ['lww', 'sum', 'tool'][rnd.int(3)];
      const payload = kind === 'sum' ? rnd.range(-20, 20) : `v${rnd.int(50)}`;
      entries.push(e(kind, `${kind}:${rnd.int(5)}`, payload, 1 + rnd.int(500), 1 + rnd.int(4), rnd.int(3)));
    }
    const replicas = [new CommandLog(types), new CommandLog(types), new CommandLog(types)];
    const outcomes = replicas.map((log) => entries.map((x) => feed(log, x)).join());
    expect(new Set(outcomes).size).toBe(1);
    expect(replicas[1].rows()).toEqual(replicas[0].rows());
    expect(replicas[2].rows()).toEqual(replicas[0].rows());
    const copy = new CommandLog(types);
    copy.load(replicas[0].index, replicas[0].rows());
    expect(copy.rows()).toEqual(replicas[0].rows());
    expect(copy.index).toBe(replicas[0].index);
  });

  it('checks the declared types', () => {
    expect(() => checkCommandTypes({ x: { policy: 'merge' } })).toThrow(NetError);
    expect(() => checkCommandTypes({ x: { policy: 'first-wins' as never } })).toThrow(/policy/);
    expect(() => checkCommandTypes({ '': { policy: 'last-writer-wins' } })).toThrow(/name/);
  });
});
