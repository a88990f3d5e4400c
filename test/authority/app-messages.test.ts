/** Actions (ok, error with rollback, progress, timeout), notifications (exactly the subscribers) and signalling. */
import { describe, expect, it } from 'vitest';
import {
  ActionError,
  clientIdOf,
  type ActionContext,
  type ActionFailure,
  type SignalPayload,
} from '../../src/index.ts';
import { createRoom, join, run, settle } from './authority-harness.ts';

function actionRoom(seed: number) {
  let release: (() => void) | null = null;
  const seen: ActionContext[] = [];
  const room = createRoom({
    seed,
    authority: () => ({
      onAction: (ctx) => {
        seen.push(ctx);
        const a = ctx.action as { kind?: string; n?: number };
        if (a.kind === 'add') return { sum: (a.n ?? 0) + 1 };
        if (a.kind === 'deny') throw new ActionError('not-allowed', 'you cannot do that');
        if (a.kind === 'crash') throw new Error('secret internal detail');
        if (a.kind === 'slow')
          return new Promise((resolve) => {
            ctx.progress(10, 'queued');
            release = () => {
              ctx.progress(150, 'almost');
              resolve('slow done');
            };
          });
        if (a.kind === 'never') return new Promise(() => {});
        throw new ActionError('unknown', 'unknown action');
      },
    }),
  });
  return { ...room, seen, finish: () => release?.() };
}

describe('actions', () => {
  it('ok: the handler result comes back as the resolved value', async () => {
    const { s, seen } = actionRoom(41);
    const c = join(s, 'participant:cy');
    await run(s, 10);
    const result = c.authority.act({ kind: 'add', n: 41 });
    await run(s, 5);
    expect(await result).toEqual({ sum: 42 });
    expect(seen.map((x) => [x.clientId, x.role])).toEqual([[clientIdOf(c.world), 'participant']]);
  });

  it('error: ActionErr rejects with the code and rolls the optimistic change back; internal errors stay private', async () => {
    const { s, authority } = actionRoom(42);
    const c = join(s, 'participant:cy');
    await run(s, 10);
    const counter = { value: 0 };
    const optimistic = {
      optimistic: () => {
        counter.value += 5;
        return () => {
          counter.value -= 5;
        };
      },
    };
    const denied = c.authority.act({ kind: 'deny' }, optimistic);
    const crashed = c.authority.act({ kind: 'crash' }, optimistic);
    expect(counter.value).toBe(10);
    await run(s, 5);
    const e1 = (await denied.catch((e: unknown) => e)) as ActionFailure;
    const e2 = (await crashed.catch((e: unknown) => e)) as ActionFailure;
    expect([e1.code, e1.message]).toEqual(['not-allowed', 'you cannot do that']);
    expect(e2.code).toBe('internal');
    expect(e2.message).not.toContain('secret');
    expect(counter.value).toBe(0);
    // An optimistic change that the server confirms stays.
    const ok = c.authority.act({ kind: 'add', n: 1 }, optimistic);
    await run(s, 5);
    await ok;
    expect(counter.value).toBe(5);
    expect(authority.stats().actions).toEqual({ received: 3, ok: 1, err: 2 });
  });

  it('progress: reports arrive in order, clamped, before the result', async () => {
    const { s, finish } = actionRoom(43);
    const c = join(s, 'participant:cy');
    await run(s, 10);
    const progress: string[] = [];
    const result = c.authority.act({ kind: 'slow' }, { onProgress: (p, m) => progress.push(`${p} ${m}`) });
    let done = false;
    void result.then(() => (done = true));
    await run(s, 5);
    expect(progress).toEqual(['10 queued']);
    expect(done).toBe(false);
    finish();
    await settle();
    await run(s, 5);
    expect(progress).toEqual(['10 queued', '100 almost']);
    expect(await result).toBe('slow done');
  });

  it('times out (and rolls back) when no answer comes', async () => {
    const { s } = actionRoom(44);
    const c = join(s, 'participant:cy', () => ({ actionTimeoutMs: 500 }));
    await run(s, 10);
    let applied = false;
    const result = c.authority.act(
      { kind: 'never' },
      {
        optimistic: () => {
          applied = true;
          return () => (applied = false);
        },
      },
    );
    await run(s, 20);
    expect(applied).toBe(true);
    await run(s, 20);
    await expect(result).rejects.toMatchObject({ code: 'timeout' });
    expect(applied).toBe(false);
  });
});

describe('notifications', () => {
  it('reach exactly the subscribed clients; targeted ones reach one client or one user', async () => {
    const { s, authority } = createRoom({
      seed: 45,
      authority: () => ({ allowDomain: (_id, d) => d !== 'admin-only' }),
    });
    const a = join(s, 'participant:ann');
    const b = join(s, 'participant:bob');
    const b2 = join(s, 'viewer:bob'); // the same user on a second device
    const c = join(s, 'participant:cy');
    await run(s, 10);
    const got = new Map<string, string[]>();
    for (const [name, cl] of [
      ['a', a],
      ['b', b],
      ['b2', b2],
      ['c', c],
    ] as const) {
      got.set(name, []);
      cl.authority.events.on('notify', (domain, event, corr) =>
        got.get(name)?.push(`${domain}:${JSON.stringify(event)}${corr !== undefined ? `#${corr}` : ''}`),
      );
    }
    a.authority.subscribe('world', 'rewards');
    b.authority.subscribe('world');
    b2.authority.subscribe('rewards');
    c.authority.subscribe('admin-only'); // refused by allowDomain
    await run(s, 5);
    expect(authority.domainsOf(clientIdOf(c.world))).toEqual([]);
    expect(c.errors.some((e) => String(e).includes('admin-only'))).toBe(true);

    expect(authority.notify('world', { door: 'open' })).toBe(2);
    expect(authority.notify('rewards', 'gold', { correlationId: 7 })).toBe(2);
    expect(authority.notify('admin-only', 'secret')).toBe(0);
    expect(authority.notify('rewards', 'to-bob', { to: { userId: 'bob' } })).toBe(1); // b2 only: b is not subscribed
    expect(authority.notify('world', 'to-a', { to: clientIdOf(a.world) })).toBe(1);
    await run(s, 5);
    a.authority.unsubscribe('world');
    await run(s, 5);
    expect(authority.notify('world', 'after')).toBe(1);
    await run(s, 5);
    expect(Object.fromEntries(got)).toEqual({
      a: ['world:{"door":"open"}', 'rewards:"gold"#7', 'world:"to-a"'],
      b: ['world:{"door":"open"}', 'world:"after"'],
      b2: ['rewards:"gold"#7', 'rewards:"to-bob"'],
      c: [],
    });
    expect(authority.stats().notifications).toBe(7);
  });
});

describe('signalling', () => {
  it('relays offers, answers and candidates between two members, and nothing to non-members', async () => {
    const { s, authority } = createRoom({ seed: 46, authority: () => ({ allowSignal: (_f, to) => to !== 99 }) });
    const a = join(s, 'participant:ann');
    const b = join(s, 'viewer:bob'); // viewers may signal (voice)
    await run(s, 10);
    const [ida, idb] = [clientIdOf(a.world), clientIdOf(b.world)];
    const atB: Array<[number, SignalPayload]> = [];
    const atA: Array<[number, SignalPayload]> = [];
    b.authority.events.on('signal', (from, sig) => atB.push([from, sig]));
    a.authority.events.on('signal', (from, sig) => atA.push([from, sig]));
    a.authority.signal(idb, { type: 'offer', sdp: 'v=0 offer' });
    a.authority.signal(idb, {
      type: 'candidate',
      candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    });
    b.authority.signal(ida, { type: 'answer', sdp: 'v=0 answer' });
    a.authority.signal(ida, { type: 'offer', sdp: 'to myself' });
    a.authority.signal(4242, { type: 'offer', sdp: 'to nobody' });
    await run(s, 10);
    expect(atB).toEqual([
      [ida, { type: 'offer', sdp: 'v=0 offer' }],
      [
        ida,
        { type: 'candidate', candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
      ],
    ]);
    expect(atA).toEqual([[idb, { type: 'answer', sdp: 'v=0 answer' }]]);
    expect(authority.stats().signals).toEqual({ relayed: 3, refused: 2 });
    expect(() => a.authority.signal(idb, { type: 'bogus' } as unknown as SignalPayload)).toThrow(/signalling/);
  });
});
