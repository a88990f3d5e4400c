/** Heartbeats and clock sync: Ping/Pong on idle links, RTT, server-time offset under jitter, silence → suspension. */
import { describe, expect, it } from 'vitest';
import { ClockSync } from '../../src/session/clock-sync.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { SessionRig } from './session-harness.ts';

describe('heartbeats', () => {
  it('an idle link exchanges Pings and Pongs and measures a sensible round trip', async () => {
    // No send ticks: only the session's own pings and pongs travel.
    const rig = new SessionRig({ sendTicks: false, frameMs: 5 });
    const c = rig.addClient({ conditions: { up: { latencyMs: 40 }, down: { latencyMs: 40 } } });
    await rig.run(6000);
    expect(c.session.state).toBe('connected');
    expect(rig.log.events).toEqual(['joined 1']);
    const conn = c.session.connection!;
    // 80 ms of latency plus at most one 5 ms frame of waiting on each side.
    expect(conn.stats.rttMs).toBeGreaterThanOrEqual(80);
    expect(conn.stats.rttMs).toBeLessThanOrEqual(95);
    expect(c.session.clockSync.rttMs).toBeGreaterThanOrEqual(80);
    expect(c.session.clockSync.rttMs).toBeLessThanOrEqual(95);
    // A burst of 8 samples after joining, then one every 5 s (or every idle second): few packets.
    expect(c.session.clockSync.count).toBe(8);
    expect(conn.stats.packetsOut).toBeLessThan(20);
    expect(rig.peerOf(c)!.connection.stats.packetsIn).toBe(conn.stats.packetsOut);
  });

  it('the server pings a quiet client and keeps it while it answers', async () => {
    const rig = new SessionRig({ sendTicks: false });
    const raw = rig.addRaw({ up: { latencyMs: 20 }, down: { latencyMs: 20 } });
    raw.hello();
    raw.autoFlush = false;
    // Answer every server Ping with a Pong, and send nothing else.
    raw.onMessage = (m) => {
      if (m.tag === Tag.Ping) raw.send(Tag.Pong, { ...(m.body as object), clientTime: 0 });
    };
    await rig.run(10_000);
    expect(rig.server.peers.size).toBe(1);
    const pings = raw.messages(Tag.Ping);
    // One ping per idle second (after the first second of silence).
    expect(pings.length).toBeGreaterThanOrEqual(8);
    expect(pings.length).toBeLessThanOrEqual(10);
    expect(rig.log.events).toEqual(['joined 1']);
  });

  it('suspends a client silent for 3 heartbeat intervals, not sooner', async () => {
    const rig = new SessionRig({ server: { heartbeatMs: 200 } });
    const raw = rig.addRaw();
    raw.hello();
    await rig.run(100);
    expect(rig.server.peers.size).toBe(1);
    raw.autoFlush = false;
    raw.onMessage = null;
    const silentFrom = rig.clock.now();
    let suspendedAt = -1;
    while (suspendedAt < 0 && rig.clock.now() - silentFrom < 2000) {
      await rig.run(1);
      if (rig.server.suspended.size === 1) suspendedAt = rig.clock.now();
    }
    expect(suspendedAt - silentFrom).toBeGreaterThanOrEqual(3 * 200 - 20);
    expect(suspendedAt - silentFrom).toBeLessThanOrEqual(3 * 200 + 40);
    expect(rig.log.events).toEqual(['joined 1', 'suspended 1']);
    // The server pinged it in between (one interval of silence), and closed the link when suspending.
    expect(raw.messages(Tag.Ping).length).toBeGreaterThanOrEqual(1);
    expect(raw.connection.isOpen).toBe(false);
  });

  it('a client whose server goes silent goes to reconnecting after 3 intervals', async () => {
    const rig = new SessionRig({ server: { heartbeatMs: 1000 } });
    const c = rig.addClient({ heartbeatMs: 250, reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000, seed: 1 } });
    await rig.run(500);
    rig.network.cut(c.links[0]);
    const cutAt = rig.clock.now();
    while (c.session.state === 'connected' && rig.clock.now() - cutAt < 5000) await rig.run(10);
    expect(c.session.state).toBe('reconnecting');
    expect(rig.clock.now() - cutAt).toBeGreaterThanOrEqual(750 - 20);
    expect(rig.clock.now() - cutAt).toBeLessThanOrEqual(750 + 40);
    expect(c.errors.some((e) => /nothing from the server/.test(e.message))).toBe(true);
  });
});

describe('clock sync', () => {
  it('estimates server time within a few ms under 50 ms latency and 10 ms jitter', async () => {
    const rig = new SessionRig({ seed: 3 });
    const offset = 123_456.7;
    const clientClock = { now: () => rig.clock.now() + offset };
    const jittery = { latencyMs: 50, jitterMs: 10 };
    const c = rig.addClient({ clock: clientClock, conditions: { up: jittery, down: jittery } });
    await rig.run(2000);
    expect(c.session.state).toBe('connected');
    expect(Math.abs(c.session.serverNow() - rig.clock.now())).toBeLessThanOrEqual(5);
    // And it stays there while the link keeps jittering.
    let worst = 0;
    for (let i = 0; i < 20; i++) {
      await rig.run(1000);
      worst = Math.max(worst, Math.abs(c.session.serverNow() - rig.clock.now()));
    }
    expect(worst).toBeLessThanOrEqual(5);
  });

  it('trusts the samples with the lowest round trips', () => {
    const sync = new ClockSync();
    // True offset 1000; symmetric 20 ms trips, and queued samples whose extra delay sits on one side only.
    sync.add(0, 1010, 20);
    sync.add(100, 1160, 180); // 80 ms stuck on the way up: midpoint guess off by +40
    sync.add(200, 1210, 220);
    sync.add(300, 1310, 400); // 80 ms stuck on the way down: off by -40
    sync.add(400, 1410, 420);
    sync.add(500, 1570, 590); // off by +35
    expect(sync.count).toBe(6);
    expect(sync.rttMs).toBe(20);
    expect(sync.offsetMs).toBeCloseTo(1000, 6);
    // Garbage (negative round trip, non-finite server time) is ignored.
    sync.add(700, 5000, 600);
    sync.add(700, Number.NaN, 720);
    expect(sync.count).toBe(6);
  });
});
