/**
 * Attack: CPU amplification by ResyncRequest. Each 10-byte request used to rebuild and deflate a snapshot of the
 * buckets it named. Now requests are coalesced per client, served from a token budget (buckets and raw bytes per
 * second), and a client sending requests no StateHash asked for is reported and, past the limit, disconnected.
 */
import { describe, expect, it } from 'vitest';
import { getNetContext, type ServerContext } from '../../src/context.ts';
import { entityOfNetworkId, networkIdOf } from '../../src/index.ts';
import {
  DEFAULT_RESYNC_BUCKETS_PER_SECOND,
  DEFAULT_RESYNC_BURST_BUCKETS,
} from '../../src/replication/resync-budget.ts';
import { dump, spawn, Stepper, type Peer } from '../helpers/fixture.ts';
import { floodResyncRequests } from './attack-helpers.ts';

function serverCtx(s: Stepper): ServerContext {
  const ctx = getNetContext(s.server.world);
  if (ctx.role !== 'server') throw new Error('not a server');
  return ctx;
}

function codes(peer: Peer): string[] {
  return peer.errors.map((e) => (e as { code?: string }).code ?? '');
}

function world(s: Stepper, n: number): number[] {
  const ents: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = spawn(s.server, [s.server.Ints, s.server.Pose]);
    s.server.Ints.u16[e] = i;
    s.server.Pose.px[e] = (i % 100) * 0.1;
    ents.push(e);
  }
  return ents;
}

/** Corrupts one replicated entity on a client, so its next hash check asks for a resync. */
function corrupt(s: Stepper, c: Peer, serverEid: number): number {
  const local = entityOfNetworkId(c.world, networkIdOf(s.server.world, serverEid));
  c.Ints.u16[local] = 9999;
  return local;
}

describe('ResyncRequest flood', () => {
  it('keeps the server within its resync budget while honest clients still converge', () => {
    const s = new Stepper({
      seed: 111,
      // Unsolicited requests are tolerated here, so the flood runs all along and only the budget holds it.
      server: () => ({ hashIntervalMs: 200, resync: { maxOverBudget: Infinity } }),
    });
    const ents = world(s, 1000);
    const honest = [s.addClient({ latencyMs: 15, loss: 0.05 }), s.addClient({ latencyMs: 30, jitterMs: 5 })];
    const attacker = s.addClient({ latencyMs: 10 });
    s.run(90);
    for (const c of honest) expect(dump(c)).toEqual(dump(s.server));
    const counters = serverCtx(s).replicator.resync.counters;
    const rebuiltBefore = counters.bucketsRebuilt;
    const FRAMES = 300; // 5 s at 60 Hz
    let sent = 0;
    for (let f = 0; f < FRAMES; f++) {
      if (f % 60 === 0) for (const c of honest) corrupt(s, c, ents[(f * 7) % ents.length]);
      if (floodResyncRequests(attacker.world, 8)) sent += 8;
      s.step();
    }
    s.run(60);
    // Honest divergence was repaired under the flood.
    for (const c of honest) {
      expect(dump(c)).toEqual(dump(s.server));
      expect(codes(c)).not.toContain('RateLimited');
    }
    // Work stayed within the budget of three clients over the run: burst + rate x seconds each.
    const seconds = (FRAMES + 60) / 60;
    const bound = 3 * (DEFAULT_RESYNC_BURST_BUCKETS + DEFAULT_RESYNC_BUCKETS_PER_SECOND * seconds);
    const rebuilt = counters.bucketsRebuilt - rebuiltBefore;
    expect(sent).toBe(8 * FRAMES);
    expect(rebuilt).toBeLessThanOrEqual(bound);
    // Without the budget every request rebuilds all 64 buckets.
    expect(rebuilt * 100).toBeLessThan(sent * 64);
    expect(counters.unsolicited).toBeGreaterThan(sent - 100);
    expect(counters.overBudget).toBeGreaterThan(sent / 2);
    expect(counters.bucketsCoalesced).toBeGreaterThan(0);
    expect(codes(s.server)).toContain('RateLimited');
  });

  it('disconnects a client that keeps sending unsolicited ResyncRequests, like other rate-limit offenders', () => {
    const s = new Stepper({ seed: 112, server: () => ({ hashIntervalMs: 200 }) });
    const ents = world(s, 200);
    const honest = s.addClient({ latencyMs: 20, loss: 0.03 });
    const attacker = s.addClient({ latencyMs: 10 });
    s.run(60);
    const ctx = serverCtx(s);
    expect(ctx.session.peers.size).toBe(2);
    const attackerId = getNetContext(attacker.world).role === 'client' ? attacker.net.stats()[0].clientId : 0;
    let frames = 0;
    while (ctx.session.peer(attackerId)?.state === 'connected' && frames < 120) {
      floodResyncRequests(attacker.world, 4);
      s.step();
      frames++;
    }
    expect(ctx.session.peer(attackerId)).toBeUndefined();
    // 20 strikes (the default) are tolerated, the 21st disconnects: 6 frames of 4, plus delivery.
    expect(frames).toBeLessThan(20);
    expect(ctx.replicator.resync.counters.disconnects).toBe(1);
    s.run(10); // the fatal Error reaches the attacker
    expect(codes(attacker)).toContain('RateLimited');
    // The honest client is still in and still repaired.
    corrupt(s, honest, ents[5]);
    s.run(90);
    expect(ctx.session.peers.size).toBe(1);
    expect(dump(honest)).toEqual(dump(s.server));
    expect(codes(honest)).toContain('HashMismatch');
  });

  it('coalesces repeats: requests before the answer goes out produce one answer, resent buckets are not rebuilt', () => {
    const s = new Stepper({
      seed: 113,
      server: () => ({ hashIntervalMs: 0, resync: { maxOverBudget: Infinity } }),
    });
    world(s, 300);
    const c = s.addClient({ latencyMs: 10 });
    s.run(30);
    const ctx = serverCtx(s);
    const counters = ctx.replicator.resync.counters;
    const resyncs = ctx.replicator.counters.resyncs;
    // Five requests for buckets 0 and 33 in one frame: one partial snapshot of two buckets.
    floodResyncRequests(c.world, 5, [1, 2]);
    s.run(3);
    expect(counters.requests).toBe(5);
    expect(ctx.replicator.counters.resyncs - resyncs).toBe(1);
    expect(counters.bucketsRebuilt).toBe(2);
    expect(counters.bucketsCoalesced).toBe(8);
    // The same buckets again before any StateHash went out: the request predates nothing new, nothing is rebuilt.
    floodResyncRequests(c.world, 3, [1, 2]);
    s.run(3);
    expect(counters.bucketsRebuilt).toBe(2);
    expect(counters.bucketsCoalesced).toBe(14);
    expect(dump(c)).toEqual(dump(s.server));
  });
});
