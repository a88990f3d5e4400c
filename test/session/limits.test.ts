/** Per-peer limits: message and byte rates, the 8 MiB reliable cap, repeated decode errors; offenders are cut off. */
import { describe, expect, it } from 'vitest';
import { encodeControl } from '../../src/codec/message-frame.ts';
import { ErrorCode } from '../../src/errors.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { TokenBucket } from '../../src/session/rate-limiter.ts';
import { DEFAULT_RATE_LIMITS, resolveRateLimits } from '../../src/session/session-options.ts';
import { SessionRig } from './session-harness.ts';

function joinedRaw(rig: SessionRig, options = {}) {
  const raw = rig.addRaw(undefined, options);
  raw.hello();
  return raw;
}

describe('rate limits', () => {
  it('disconnects a client over its message rate with a fatal RateLimited, and keeps serving the others', async () => {
    const rig = new SessionRig();
    const good = rig.addClient();
    const flood = joinedRaw(rig);
    await rig.run(100);
    expect(rig.server.peers.size).toBe(2);
    // 300 tiny unreliable messages per frame = 18,000/s, far above the 1,000/s (2,000 burst) limit.
    const msg = encodeControl(Tag.Signal, {});
    for (let frame = 0; frame < 30 && flood.connection.isOpen; frame++) {
      for (let i = 0; i < 300; i++) flood.connection.sendUnreliable(msg);
      flood.connection.flush();
      await rig.run(1000 / 60);
    }
    await rig.run(200);
    expect(flood.fatalError()?.code).toBe(ErrorCode.RateLimited);
    expect(flood.fatalError()?.message).toMatch(/1000 messages per second/);
    expect(flood.connection.isOpen).toBe(false);
    expect(rig.log.errors.some((e) => e.code === 'RateLimited')).toBe(true);
    const floodId = (flood.messages(Tag.Welcome)[0].body as { clientId: number }).clientId;
    expect(rig.log.events.filter((e) => e.startsWith('left'))).toEqual([
      `left ${floodId} RateLimited: more than 1000 messages per second`,
    ]);
    // Far fewer than the flood were handed to the layer above: the limit cut it off at the burst.
    expect(rig.log.messages.length).toBeLessThanOrEqual(DEFAULT_RATE_LIMITS.messagesPerSecond * 2.5);
    expect(good.session.state).toBe('connected');
    expect(rig.server.peers.size).toBe(1);
  });

  it('disconnects a client over its byte rate', async () => {
    const rig = new SessionRig({ server: { rateLimits: { bytesPerSecond: 20_000, burstSeconds: 1 } } });
    const hog = joinedRaw(rig);
    await rig.run(100);
    // 1,000-byte messages, 4 packets' worth a frame: ~240 KB/s.
    const big = encodeControl(Tag.Signal, { blob: new Uint8Array(1000) });
    for (let frame = 0; frame < 60 && hog.connection.isOpen; frame++) {
      for (let i = 0; i < 4; i++) {
        hog.connection.sendUnreliable(big);
        hog.connection.flush();
      }
      await rig.run(1000 / 60);
    }
    await rig.run(200);
    expect(hog.fatalError()?.code).toBe(ErrorCode.RateLimited);
    expect(hog.fatalError()?.message).toMatch(/bytes per second/);
    expect(rig.server.peers.size).toBe(0);
  });

  it('disconnects a client that sends a reliable message above 8 MiB with a fatal Oversize', async () => {
    const rig = new SessionRig();
    const good = rig.addClient();
    const big = joinedRaw(rig, { maxReliableMessageBytes: 9 * 1024 * 1024 });
    await rig.run(100);
    big.connection.sendReliable(new Uint8Array(8 * 1024 * 1024 + 1));
    big.connection.flush();
    await rig.run(200);
    expect(big.fatalError()?.code).toBe(ErrorCode.Oversize);
    expect(rig.log.errors.some((e) => e.code === 'Oversize')).toBe(true);
    expect(rig.server.peers.size).toBe(1);
    expect(good.session.state).toBe('connected');
  });

  it('disconnects a client that keeps sending malformed messages with a fatal DecodeError', async () => {
    const rig = new SessionRig();
    const bad = joinedRaw(rig);
    await rig.run(100);
    // Ten malformed bodies are tolerated within the window...
    for (let i = 0; i < DEFAULT_RATE_LIMITS.maxDecodeErrors; i++) bad.send(Tag.Ping, { clientTime: 'noon' });
    await rig.run(200);
    expect(rig.server.peers.size).toBe(1);
    // ...the eleventh is not.
    bad.send(Tag.Presence, { status: 'sleepy' });
    await rig.run(200);
    expect(bad.fatalError()?.code).toBe(ErrorCode.DecodeError);
    expect(rig.server.peers.size).toBe(0);
    expect(rig.server.suspended.size).toBe(0);
  });

  it('forgives decode errors spread over time, and limits are configurable or off', async () => {
    const rig = new SessionRig({ server: { rateLimits: { maxDecodeErrors: 2, decodeErrorWindowMs: 1000 } } });
    const slow = joinedRaw(rig);
    await rig.run(100);
    for (let i = 0; i < 6; i++) {
      slow.send(Tag.Ping, {});
      await rig.run(600);
    }
    expect(rig.server.peers.size).toBe(1);
    const off = resolveRateLimits(false);
    expect(off.messagesPerSecond).toBe(Infinity);
    expect(() => resolveRateLimits({ messagesPerSecond: 0 })).toThrow(/messagesPerSecond/);
    const bucket = new TokenBucket(10, 5, 0);
    expect([1, 2, 3, 4, 5, 6].map(() => bucket.take(1, 0))).toEqual([true, true, true, true, true, false]);
    expect(bucket.take(1, 250)).toBe(true); // 2.5 tokens back after 250 ms
  });
});
