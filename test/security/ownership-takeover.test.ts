/**
 * Attack family "ownership takeover": a participant asks for entities it has no business owning — another user's
 * head, a server-owned prop that is not grabbable — under every policy. Each request is refused before the policy
 * sees it (counted in `notGrabbable`), nothing changes hands, and a grabbable object it does get is still held to the
 * write gate's rules.
 */
import { describe, expect, it } from 'vitest';
import {
  addWriteRule,
  clientIdOf,
  entityOfNetworkId,
  Grabbable,
  networkIdOf,
  type OwnershipPolicy,
  ownerOf,
  setOwner,
} from '../../src/index.ts';
import { createRoom, join, poseOf, run } from '../authority/authority-harness.ts';
import { spawn } from '../helpers/fixture.ts';

async function takeover(seed: number, policy: OwnershipPolicy) {
  const { s, authority } = createRoom({ seed, authority: (fx) => ({ pose: poseOf(fx), ownershipPolicy: policy }) });
  const victim = join(s, 'participant:vera', (fx) => ({ pose: poseOf(fx) }));
  const attacker = join(s, 'participant:mal', (fx) => ({ pose: poseOf(fx) }));
  await run(s, 10);
  const head = spawn(s.server, [s.server.Pose]);
  setOwner(s.server.world, head, clientIdOf(victim.world));
  const prop = spawn(s.server, [s.server.Pose]);
  const box = spawn(s.server, [s.server.Pose, Grabbable]);
  await run(s, 10);
  const on = (eid: number) => entityOfNetworkId(attacker.world, networkIdOf(s.server.world, eid));
  return { s, authority, victim, attacker, head, prop, box, on };
}

describe('ownership takeover', () => {
  for (const policy of ['refuse', 'queue', 'steal', () => 'grant'] as OwnershipPolicy[]) {
    const name = typeof policy === 'function' ? 'a granting policy function' : `'${policy}'`;
    it(`refuses another user's head and a non-grabbable prop under ${name}`, async () => {
      const { s, authority, victim, attacker, head, prop, on } = await takeover(41, policy);
      const results = [attacker.authority.requestOwnership(on(head)), attacker.authority.requestOwnership(on(prop))];
      await run(s, 10);
      expect(await Promise.all(results)).toEqual([false, false]);
      expect(ownerOf(s.server.world, head)).toBe(clientIdOf(victim.world));
      expect(ownerOf(s.server.world, prop)).toBe(0);
      expect(authority.stats().ownership.notGrabbable).toBe(2);
      expect(authority.queueOf(head)).toEqual([]);
    });
  }

  it('a granted grabbable is still held to the write gate', async () => {
    const { s, attacker, box, on } = await takeover(42, 'refuse');
    addWriteRule(s.server.world, s.server.Pose, (w) => (w.proposed[w.slot.pz] > 5 ? 'too far' : undefined));
    const boxA = on(box);
    const granted = attacker.authority.requestOwnership(boxA);
    await run(s, 10);
    expect(await granted).toBe(true);
    attacker.Pose.pz[boxA] = 9;
    await run(s, 10);
    expect(s.server.Pose.pz[box]).toBe(0);
    expect(attacker.Pose.pz[boxA]).toBe(0);
  });

  it('a grabbable predicate replaces the tag', async () => {
    const allowed = new Set<number>();
    const { s } = createRoom({ seed: 43, authority: () => ({ grabbable: (eid) => allowed.has(eid) }) });
    const a = join(s, 'participant:ann');
    await run(s, 10);
    const prop = spawn(s.server, [s.server.Pose]);
    const box = spawn(s.server, [s.server.Pose, Grabbable]);
    allowed.add(prop);
    await run(s, 10);
    const on = (eid: number) => entityOfNetworkId(a.world, networkIdOf(s.server.world, eid));
    const results = [a.authority.requestOwnership(on(prop)), a.authority.requestOwnership(on(box))];
    await run(s, 10);
    expect(await Promise.all(results)).toEqual([true, false]);
    expect([ownerOf(s.server.world, prop), ownerOf(s.server.world, box)]).toEqual([clientIdOf(a.world), 0]);
  });
});
