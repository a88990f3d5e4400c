/** The action runner (server) and tracker (client) on their own. */
import { describe, expect, it } from 'vitest';
import {
  ActionError,
  ActionFailure,
  ActionRunner,
  ActionTracker,
  MAX_ACTIONS_IN_FLIGHT,
  type ActionSink,
} from '../../src/authority/actions.ts';

function sink() {
  const log: string[] = [];
  const s: ActionSink = {
    progress: (id, b) => log.push(`${id} progress ${b.opId} ${b.percent}`),
    ok: (id, b) => log.push(`${id} ok ${b.opId} ${JSON.stringify(b.result)}`),
    err: (id, b) => log.push(`${id} err ${b.opId} ${b.code}`),
    failed: (id, opId) => log.push(`${id} failed ${opId}`),
  };
  return { s, log };
}

describe('action runner', () => {
  it('refuses duplicates and floods, answers without a handler, and drops answers for clients that left', async () => {
    const { s, log } = sink();
    const pending: Array<(v: unknown) => void> = [];
    const runner = new ActionRunner(() => new Promise((resolve) => pending.push(resolve)), s);
    runner.run(1, 'participant', 7, null);
    runner.run(1, 'participant', 7, null);
    for (let i = 0; i <= MAX_ACTIONS_IN_FLIGHT; i++) runner.run(2, 'participant', 100 + i, null);
    expect(log).toEqual(['1 err 7 duplicate', `2 err ${100 + MAX_ACTIONS_IN_FLIGHT} busy`]);
    runner.forget(1);
    pending[0]('late');
    pending[1]('fine');
    await Promise.resolve();
    await Promise.resolve();
    expect(log.slice(2)).toEqual(['2 ok 100 "fine"']);
    const bare = sink();
    new ActionRunner(null, bare.s).run(3, 'admin', 1, {});
    expect(bare.log).toEqual(['3 err 1 unsupported']);
  });

  it('turns ActionError into its code and anything else into a private internal error', () => {
    const { s, log } = sink();
    const runner = new ActionRunner((ctx) => {
      if (ctx.opId === 1) throw new ActionError('x'.repeat(100), 'long code');
      ctx.progress(-3);
      throw new TypeError('boom');
    }, s);
    runner.run(1, 'participant', 1, null);
    runner.run(1, 'participant', 2, null);
    expect(log).toEqual([`1 err 1 ${'x'.repeat(64)}`, '1 progress 2 0', '1 failed 2', '1 err 2 internal']);
  });
});

describe('action tracker', () => {
  it('rolls back on failure; a throwing rollback becomes the cause instead of throwing', async () => {
    const t = new ActionTracker();
    const { opId, result } = t.start(0, {
      optimistic: () => () => {
        throw new Error('rollback broke');
      },
    });
    expect(() => t.err({ opId, code: 'nope', message: 'no' })).not.toThrow();
    const failure = (await result.catch((e: unknown) => e)) as ActionFailure;
    expect(failure).toBeInstanceOf(ActionFailure);
    expect(failure.code).toBe('nope');
    expect((failure.cause as Error).message).toBe('rollback broke');
  });

  it('registers nothing when the optimistic change throws', () => {
    const t = new ActionTracker();
    expect(() =>
      t.start(0, {
        optimistic: () => {
          throw new Error('cannot apply');
        },
      }),
    ).toThrow('cannot apply');
    expect(t.pending).toBe(0);
  });

  it('ignores answers for unknown op ids and expires by deadline', async () => {
    const t = new ActionTracker();
    const a = t.start(0, { timeoutMs: 100 });
    const b = t.start(0, { timeoutMs: 300 });
    t.ok({ opId: 999, result: 1 });
    t.expire(150);
    await expect(a.result).rejects.toMatchObject({ code: 'timeout' });
    expect(t.pending).toBe(1);
    t.ok({ opId: b.opId, result: 'done' });
    await expect(b.result).resolves.toBe('done');
  });
});
