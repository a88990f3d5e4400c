/**
 * Attack family "error-reply flood": a client sends a stream of forbidden writes so the server answers each with an
 * `Error` message (server upstream spent on the attacker, reliable queue growth). Non-fatal replies are held to a
 * per-client token bucket (`rateLimits.errorRepliesPerSecond`, default 5/s, burst of 2 s of it); the rest are
 * counted in `suppressedErrors` while every refusal is still reported to the server's `onError`. An honest client
 * keeps converging.
 */
import { describe, expect, it } from 'vitest';
import { clientIdOf, entityOfNetworkId, networkIdOf, setOwner } from '../../src/index.ts';
import type { NetError } from '../../src/errors.ts';
import { DEFAULT_RATE_LIMITS } from '../../src/session/session-options.ts';
import { createRoom, forgeDelta, join, peerCounters, run } from '../authority/authority-harness.ts';
import { spawn } from '../helpers/fixture.ts';

const FORGED_PER_FRAME = 10;
const FLOOD_FRAMES = 30; // half a second at 60 Hz: 300 forbidden Deltas

describe('error-reply flood', () => {
  it('caps the Error replies to one client by its token bucket and counts the suppressed ones', async () => {
    const { s } = createRoom({ seed: 51 });
    const attacker = join(s, 'participant:mal');
    const honest = join(s, 'participant:ann');
    await run(s, 10);
    const box = spawn(s.server, [s.server.Pose]);
    setOwner(s.server.world, box, clientIdOf(honest.world));
    await run(s, 10);
    const netId = networkIdOf(s.server.world, box);
    const boxH = entityOfNetworkId(honest.world, netId);
    const ida = clientIdOf(attacker.world);
    const replies = () => attacker.errors.filter((e) => (e as NetError).code === 'Forbidden').length;
    const reported = () => s.server.errors.filter((e) => (e as NetError).code === 'Forbidden').length;
    const t0 = s.clock.now();
    await run(s, FLOOD_FRAMES, (peer, isServer) => {
      if (isServer) return;
      if (peer === attacker) for (let i = 0; i < FORGED_PER_FRAME; i++) forgeDelta(attacker, netId, 50);
      if (peer === honest) honest.Pose.px[boxH] += 0.01;
    });
    await run(s, 10);
    const seconds = (s.clock.now() - t0) / 1000;
    const rate = DEFAULT_RATE_LIMITS.errorRepliesPerSecond;
    const bound = Math.ceil(rate * DEFAULT_RATE_LIMITS.burstSeconds + rate * seconds);
    const sent = FORGED_PER_FRAME * FLOOD_FRAMES;
    expect(reported()).toBe(sent); // every refusal is reported on the server
    expect(replies()).toBeGreaterThan(0);
    expect(replies()).toBeLessThanOrEqual(bound);
    expect(peerCounters(s, ida).suppressedErrors).toBe(sent - replies());
    expect(peerCounters(s, ida).rejectedWrites).toBe(sent);
    // Nothing the attacker sent landed, and the honest owner's writes kept reaching the server.
    expect(s.server.Pose.px[box]).toBeCloseTo(honest.Pose.px[boxH], 3);
    expect(honest.Pose.px[boxH]).toBeCloseTo(FLOOD_FRAMES * 0.01, 3);
    // The bucket refills: after a quiet second a new forbidden write is answered again.
    await run(s, 60);
    const before = replies();
    forgeDelta(attacker, netId, 50);
    await run(s, 5);
    expect(replies()).toBe(before + 1);
  });
});
