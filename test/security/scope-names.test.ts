/**
 * Attack: unbounded scope names. Every Subscribe, Unsubscribe or receive toggle naming a new scope used to
 * allocate an id that was never freed, and the receive toggle skipped `allowScope`. Now names are
 * reference-counted and freed when unused, bounded in all and per client (refused with `LimitExceeded`,
 * counted), and every path naming a scope goes through `allowScope`.
 */
import { describe, expect, it } from 'vitest';
import { getNetContext, type ServerContext } from '../../src/context.ts';
import { encodeMessage } from '../../src/codec/message-frame.ts';
import { encodeBody } from '../../src/codec/msgpack-body.ts';
import { setEntityScopes, subscribeScope, Tag } from '../../src/index.ts';
import { dump, spawn, Stepper, type Peer } from '../helpers/fixture.ts';

function serverCtx(s: Stepper): ServerContext {
  const ctx = getNetContext(s.server.world);
  if (ctx.role !== 'server') throw new Error('not a server');
  return ctx;
}

function codes(peer: Peer): string[] {
  return peer.errors.map((e) => (e as { code?: string }).code ?? '');
}

/** Sends a raw Subscribe/Unsubscribe body from a client (what a modified client can send). */
export function sendScopeMessage(client: Peer, tag: number, body: Record<string, unknown>): void {
  const ctx = getNetContext(client.world);
  if (ctx.role !== 'client' || !ctx.session.connection) throw new Error('connected client expected');
  ctx.session.connection.sendReliable(encodeMessage(tag, encodeBody(body)));
}

describe('scope names', () => {
  it('bounds names per client and in all, frees unused ones, and honest scoped clients keep converging', () => {
    const PER_CLIENT = 16;
    const TOTAL = 40;
    const s = new Stepper({
      seed: 311,
      server: () => ({ scopeLimits: { maxScopes: TOTAL, maxScopesPerClient: PER_CLIENT } }),
    });
    const room = [];
    for (let i = 0; i < 20; i++) {
      const e = spawn(s.server, [s.server.Ints]);
      s.server.Ints.u16[e] = i;
      room.push(e);
    }
    for (const e of room) setEntityScopes(s.server.world, e, ['room:a']);
    const honest = s.addClient({ latencyMs: 20, loss: 0.05 });
    const attackers = [s.addClient(), s.addClient(), s.addClient()];
    s.run(20);
    subscribeScope(honest.world, 'room:a');
    const names = serverCtx(s).replicator.interest.names;
    // Each attacker names 100 fresh scopes by subscribing and by pausing (the receive toggle).
    for (let round = 0; round < 10; round++) {
      attackers.forEach((a, k) => {
        for (let i = 0; i < 5; i++) sendScopeMessage(a, Tag.Subscribe, { scope: `s${k}:${round}:${i}` });
        for (let i = 0; i < 5; i++)
          sendScopeMessage(a, Tag.Subscribe, { scope: `p${k}:${round}:${i}`, receive: false });
        // Unsubscribing from names that do not exist allocates nothing.
        sendScopeMessage(a, Tag.Unsubscribe, { scope: `never:${k}:${round}` });
      });
      s.run(2);
      expect(names.size).toBeLessThanOrEqual(TOTAL);
    }
    s.run(30);
    // room:a (entities and the honest client) + 16 per attacker, up to the total of 40.
    expect(names.size).toBe(TOTAL);
    expect(names.counters.refused).toBe(3 * 100 - (TOTAL - 1));
    const held = attackers.map((a) => {
      const p = serverCtx(s).replicator.peers.get(a.net.stats()[0].clientId);
      return p ? p.interest.scopes.size + p.interest.pausedScopes.size : -1;
    });
    expect(Math.max(...held)).toBe(PER_CLIENT);
    expect(held.reduce((a, b) => a + b, 0)).toBe(TOTAL - 1);
    for (const a of attackers) expect(codes(a)).toContain('LimitExceeded');
    expect(codes(s.server)).toContain('LimitExceeded');
    expect(names.idOf('never:0:0')).toBeUndefined();
    expect(dump(honest)).toEqual(dump(s.server));
    // Names are freed when unused: an attacker leaving releases its names; unsubscribing releases one.
    const before = names.size;
    sendScopeMessage(attackers[0], Tag.Unsubscribe, { scope: 's0:0:0' });
    s.run(10);
    expect(names.size).toBe(before - 1);
    s.clients.splice(s.clients.indexOf(attackers[1]), 1);
    void attackers[1].net.dispose();
    s.run(300); // suspended, then the resume window is over
    expect(names.size).toBeLessThan(before - 1);
    expect(names.counters.freed).toBeGreaterThan(1);
    // The honest client is still served, and new honest scopes fit again.
    const e = spawn(s.server, [s.server.Ints]);
    s.server.Ints.u16[e] = 777;
    setEntityScopes(s.server.world, e, ['room:b']);
    subscribeScope(honest.world, 'room:b');
    s.run(30);
    expect(dump(honest)).toEqual(dump(s.server));
    expect(names.idOf('room:b')).toBeDefined();
  });

  it('routes the receive toggle through allowScope', () => {
    const s = new Stepper({
      seed: 312,
      server: () => ({ allowScope: (_id: number, scope: string) => scope.startsWith('public:') }),
    });
    const c = s.addClient();
    s.run(20);
    const names = serverCtx(s).replicator.interest.names;
    sendScopeMessage(c, Tag.Subscribe, { scope: 'secret:x', receive: false });
    sendScopeMessage(c, Tag.Subscribe, { scope: 'public:x', receive: false });
    s.run(10);
    expect(names.idOf('secret:x')).toBeUndefined();
    expect(names.idOf('public:x')).toBeDefined();
    expect(codes(c)).toContain('Forbidden');
  });
});
