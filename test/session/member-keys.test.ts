/** The client's table of member keys: pinned per client id, bounded, counted. */
import { describe, expect, it } from 'vitest';
import type { PresenceBody } from '../../src/protocol/session-messages.ts';
import { MemberKeys } from '../../src/session/member-keys.ts';

const key = (n: number) => new Uint8Array(32).fill(n);
const presence = (...users: Array<[number, Uint8Array | undefined]>): PresenceBody => ({
  full: false,
  left: [],
  users: users.map(([clientId, publicKey]) => ({
    clientId,
    role: 'participant',
    status: 'active',
    connectedAt: 0,
    suspended: false,
    ...(publicKey ? { publicKey } : {}),
  })),
});

describe('MemberKeys', () => {
  it('pins the first key of a client id and refuses (counts, names) a change', () => {
    const keys = new MemberKeys();
    expect(keys.learn(presence([1, key(1)], [2, undefined]))).toEqual([]);
    expect(keys.get(1)).toEqual(key(1));
    expect(keys.get(2)).toBeUndefined();
    expect(keys.learn(presence([1, key(1)]))).toEqual([]);
    expect(keys.learn(presence([1, key(9)]))).toEqual([1]);
    expect(keys.get(1)).toEqual(key(1));
    expect(keys.counters.keyChanges).toBe(1);
  });

  it('keeps at most maxKeys, dropping the oldest first, and counts evictions', () => {
    const keys = new MemberKeys(3);
    for (let id = 1; id <= 10; id++) keys.learn(presence([id, key(id)]));
    expect(keys.size).toBe(3);
    expect(keys.counters.evicted).toBe(7);
    expect([1, 7, 8, 9, 10].map((id) => keys.get(id) !== undefined)).toEqual([false, false, true, true, true]);
    keys.clear();
    expect(keys.size).toBe(0);
  });
});
