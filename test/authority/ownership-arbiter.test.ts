/** The ownership arbiter on its own: policies, Lamport order within a tick, queues and releases. */
import { describe, expect, it } from 'vitest';
import { OwnershipArbiter, type ArbiterHost, type OwnershipPolicy } from '../../src/authority/ownership-arbiter.ts';
import { createRandom } from '../../src/random.ts';

/** Entities 1..9 with network id = eid, grabbable except 9; clients 1..9 are members with the role 'participant'. */
function world(policy: OwnershipPolicy) {
  const owner = new Map<number, number>();
  const log: string[] = [];
  const members = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const host: ArbiterHost = {
    entityOf: (netId) => (netId >= 1 && netId <= 9 ? netId : 0),
    ownerOf: (eid) => owner.get(eid) ?? 0,
    roleOf: (id) => (members.has(id) ? 'participant' : undefined),
    isGrabbable: (eid) => eid !== 9,
    setOwner: (eid, id) => {
      owner.set(eid, id);
      log.push(`own ${eid}=${id}`);
    },
    denied: (id, netId, reason) => log.push(`deny ${netId} ${id} ${reason}`),
  };
  return { arbiter: new OwnershipArbiter(host, policy), owner, log, members };
}

describe('ownership arbiter', () => {
  it('decides simultaneous requests by Lamport counter, then client id, whatever their arrival order', () => {
    const rnd = createRandom(3);
    const requests = [
      [4, 7],
      [2, 7],
      [3, 5],
      [5, 5],
      [1, 9],
    ]; // [clientId, counter]
    const winners = new Set<string>();
    for (let trial = 0; trial < 30; trial++) {
      const { arbiter, owner } = world('refuse');
      const shuffled = [...requests].sort(() => rnd.next() - 0.5);
      for (const [id, counter] of shuffled) arbiter.request(id, 1, counter);
      arbiter.decide();
      winners.add(String(owner.get(1)));
    }
    expect([...winners]).toEqual(['3']); // counter 5 beats 7 and 9; client 3 beats client 5 at counter 5
  });

  it("'refuse' refuses a held entity, 'steal' takes it, 'queue' waits for the release", () => {
    const r = world('refuse');
    r.arbiter.request(1, 1, 1);
    r.arbiter.decide();
    r.arbiter.request(2, 1, 2);
    r.arbiter.decide();
    expect(r.log).toEqual(['own 1=1', 'deny 1 2 refused']);

    const s = world('steal');
    s.arbiter.request(1, 1, 1);
    s.arbiter.decide();
    s.arbiter.request(2, 1, 2);
    s.arbiter.decide();
    expect(s.owner.get(1)).toBe(2);

    const q = world('queue');
    q.arbiter.request(1, 1, 1);
    q.arbiter.decide();
    q.arbiter.request(3, 1, 3);
    q.arbiter.request(2, 1, 2);
    q.arbiter.decide();
    expect(q.arbiter.queues.get(1)).toEqual([2, 3]);
    expect(q.log).toEqual(['own 1=1', 'deny 1 2 queued', 'deny 1 3 queued']);
    // Release goes to the head of the queue; a member that left is skipped; the last release returns it to the server.
    expect(q.arbiter.release(1, 1)).toBe(true);
    expect(q.owner.get(1)).toBe(2);
    q.members.delete(3);
    q.arbiter.release(2, 1);
    expect(q.owner.get(1)).toBe(0);
    expect(q.arbiter.counters).toMatchObject({ requests: 3, granted: 2, queued: 2, released: 2 });
  });

  it('a queued client can cancel; a non-holder cannot release; unknown entities are refused as unknown', () => {
    const q = world('queue');
    q.arbiter.request(1, 1, 1);
    q.arbiter.request(2, 1, 2);
    q.arbiter.decide();
    expect(q.arbiter.release(3, 1)).toBe(false);
    expect(q.arbiter.release(2, 1)).toBe(true); // leaves the queue
    expect(q.arbiter.queues.has(1)).toBe(false);
    expect(q.owner.get(1)).toBe(1);
    q.arbiter.request(1, 42, 5);
    q.arbiter.request(77, 2, 5); // not a member: silently dropped
    q.arbiter.decide();
    expect(q.log.slice(-1)).toEqual(['deny 42 1 unknown']);
  });

  it('a policy function decides every request', () => {
    const f = world((r) => (r.eid === 5 ? 'refuse' : r.owner === 0 ? 'grant' : 'queue'));
    f.arbiter.request(1, 5, 1);
    f.arbiter.request(1, 6, 2);
    f.arbiter.request(2, 6, 3);
    f.arbiter.decide();
    expect(f.log).toEqual(['deny 5 1 refused', 'own 6=1', 'deny 6 2 queued']);
    f.arbiter.forget(2);
    expect(f.arbiter.queues.has(6)).toBe(false);
  });

  it('refuses an entity that is not grabbable before any policy sees it, even a free one', () => {
    for (const policy of ['refuse', 'queue', 'steal', () => 'grant'] as OwnershipPolicy[]) {
      const f = world(policy);
      f.arbiter.request(1, 9, 1);
      f.arbiter.request(2, 8, 2);
      f.arbiter.decide();
      expect(f.log).toEqual(['deny 9 1 refused', 'own 8=2']);
      expect(f.arbiter.counters.notGrabbable).toBe(1);
      expect(f.arbiter.queues.size).toBe(0);
    }
  });
});
