/**
 * Telemetry under hostile clients, over the memory network with the link conditioner: a client that writes reports
 * straight into its connection far above the rate, bodies that are oversize, short or garbage, and more reporting
 * clients than the aggregator tracks. Each bound holds, each refusal is counted (and reported with its code), nothing
 * throws, and honest clients' reports keep arriving.
 */
import { describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import { encodeMessage } from '../../src/codec/message-frame.ts';
import { Tag } from '../../src/protocol/tags.ts';
import {
  clientIdOf,
  connectionStateOf,
  createTelemetryAggregator,
  createTelemetryReporter,
  type RoomTelemetry,
} from '../../src/index.ts';
import { encodeTelemetry, TELEMETRY_BODY_BYTES, type TelemetryReport } from '../../src/telemetry/telemetry-codec.ts';
import { Stepper, type Peer } from '../helpers/fixture.ts';
import { codes } from '../security/honest-room.ts';

const RATE_HZ = 2;
const BURST = 4;

const report: TelemetryReport = {
  seq: 0,
  intervalMs: 1000,
  frameP50Ms: 11,
  frameP95Ms: 14,
  frames: 60,
  slowFrames: 1,
  rttMs: 40,
  jitterMs: 3,
  lossRatio: 0.01,
  bytesInPerSec: 4000,
  bytesOutPerSec: 1000,
  vr: false,
  corrections: 0,
  reconErrorMm: 0,
};

/** Writes `body` as a TelemetryReport straight into the client's connection (what a modified client can do). */
function sendRaw(peer: Peer, body: Uint8Array, reliable = false): void {
  const ctx = getNetContext(peer.world);
  const conn = ctx.role === 'client' ? ctx.session.connection : null;
  if (!conn) throw new Error('not connected');
  const message = encodeMessage(Tag.TelemetryReport, body);
  if (reliable) conn.sendReliable(message);
  else if (!conn.sendUnreliable(message)) throw new Error(`${body.length} bytes do not fit an unreliable packet`);
}

describe('telemetry limits (memory network, conditioned links)', () => {
  it('cuts a flooding client back to burst + rate x time, reports it, and honest reports flow on', () => {
    const s = new Stepper({ seed: 5 });
    const agg = createTelemetryAggregator(s.server.world, { maxRateHz: RATE_HZ, burst: BURST, offenderDrops: 10 });
    const honest = s.addClient({ latencyMs: 25, jitterMs: 5, loss: 0.02 });
    const reporter = createTelemetryReporter(honest.world, { rateHz: 1 });
    const attacker = s.addClient({ latencyMs: 10 });
    const rooms: RoomTelemetry[] = [];
    agg.events.on('room', (r) => rooms.push(r));
    s.run(30);
    const FRAMES = 600; // 10 s at 60 Hz
    let sent = 0;
    for (let f = 0; f < FRAMES; f++) {
      // 8 well-formed reports a frame: 480/s, 240x the allowed rate (and under the session's 1,000 messages/s).
      for (let k = 0; k < 8; k++) sendRaw(attacker, encodeTelemetry({ ...report, seq: sent++ & 0xffff }));
      s.step((peer, isServer) => !isServer && peer === honest && reporter.recordFrame(1000 / 60));
    }
    s.run(30);
    const st = agg.stats();
    const seconds = (FRAMES + 30) / 60 + 1;
    const bad = agg.client(clientIdOf(attacker.world))!;
    expect(bad.reports).toBeLessThanOrEqual(BURST + RATE_HZ * seconds);
    expect(bad.reports).toBeGreaterThanOrEqual(RATE_HZ * (FRAMES / 60) - 1);
    expect(bad.rateLimited).toBeGreaterThan(sent * 0.9);
    expect(st.rateLimited).toBe(bad.rateLimited);
    expect(st.offences).toBeGreaterThanOrEqual(9); // one per second of flood
    expect(codes(s.server).filter((c) => c === 'RateLimited').length).toBe(st.offences);
    // The honest client: ~10 reports at 1 Hz, none rate-limited, its link figures in them.
    const good = agg.client(clientIdOf(honest.world))!;
    expect(good.rateLimited).toBe(0);
    expect(good.reports + good.missing).toBeGreaterThanOrEqual(9);
    expect(good.report.rttMs).toBeGreaterThan(40);
    expect(good.report.frameP50Ms).toBeCloseTo(16.67, 1);
    expect(connectionStateOf(honest.world)).toBe('connected');
    expect(rooms.length).toBeGreaterThanOrEqual(9);
    expect(rooms.at(-1)!.clients).toBe(2);
  });

  it('refuses oversize, short and garbage bodies with a counter and a code, never a throw', () => {
    const s = new Stepper({ seed: 6 });
    const agg = createTelemetryAggregator(s.server.world, { maxRateHz: RATE_HZ, burst: BURST });
    const attacker = s.addClient({ latencyMs: 15 });
    s.run(30);
    const good = encodeTelemetry(report);
    const version = good.slice();
    version[0] = 2;
    const flags = good.slice();
    flags[1] = 0xfe;
    const frames = encodeTelemetry({ ...report, frames: 3, slowFrames: 4 });
    const percentiles = good.slice();
    new DataView(percentiles.buffer).setUint16(6, 0xffff, true); // p50 above p95
    // The 64 KiB one goes reliable (fragmented): the decoder refuses it by its length alone.
    const bodies: Array<[Uint8Array, 'oversize' | 'malformed']> = [
      [new Uint8Array(TELEMETRY_BODY_BYTES + 1), 'oversize'],
      [new Uint8Array(65_536).fill(0xff), 'oversize'],
      [new Uint8Array(0), 'malformed'],
      [good.subarray(0, TELEMETRY_BODY_BYTES - 1), 'malformed'],
      [version, 'malformed'],
      [flags, 'malformed'],
      [frames, 'malformed'],
      [percentiles, 'malformed'],
    ];
    // One body a second: within the rate, so every one reaches the decoder.
    for (const [body] of bodies) {
      sendRaw(attacker, body, body.length > 1000);
      s.run(60);
    }
    const st = agg.stats();
    expect(st.oversize).toBe(bodies.filter(([, k]) => k === 'oversize').length);
    expect(st.malformed).toBe(bodies.filter(([, k]) => k === 'malformed').length);
    expect(st.reportsAccepted).toBe(0);
    expect(st.rateLimited).toBe(0);
    expect(agg.client(clientIdOf(attacker.world))).toBeUndefined();
    expect(agg.room().clients).toBe(0);
    const reported = codes(s.server);
    expect(reported.filter((c) => c === 'Oversize').length).toBe(st.oversize);
    expect(reported.filter((c) => c === 'DecodeError').length).toBe(st.malformed);
    // The same client's next valid report is accepted.
    sendRaw(attacker, good);
    s.run(30);
    expect(agg.client(clientIdOf(attacker.world))?.report.rttMs).toBeCloseTo(40, 1);
    expect(connectionStateOf(attacker.world)).toBe('connected');
  });

  it('tracks at most maxClients, counts the rest, and frees an entry when its client leaves', () => {
    const s = new Stepper({ seed: 7 });
    const agg = createTelemetryAggregator(s.server.world, { maxClients: 2 });
    const peers = [0, 1, 2].map(() => s.addClient({ latencyMs: 10, loss: 0.01 }));
    const reporters = peers.map((p) => createTelemetryReporter(p.world, { rateHz: 1 }));
    s.run(60 * 5, (peer, isServer) => {
      if (!isServer) reporters[peers.indexOf(peer)].recordFrame(12);
    });
    let st = agg.stats();
    expect(st.clients).toBe(2);
    expect(agg.clients().length).toBe(2);
    expect(st.clientsRefused).toBeGreaterThanOrEqual(3);
    const tracked = agg.clients().map((c) => c.clientId);
    const untracked = peers.find((p) => !tracked.includes(clientIdOf(p.world)))!;
    expect(agg.client(clientIdOf(untracked.world))).toBeUndefined();
    // One tracked client leaves: its entry goes, and the refused one is tracked from its next report.
    const leaving = peers.find((p) => clientIdOf(p.world) === tracked[0])!;
    void leaving.net.dispose();
    s.clients.splice(s.clients.indexOf(leaving), 1);
    s.run(60 * 3, (peer, isServer) => {
      if (!isServer) reporters[peers.indexOf(peer)].recordFrame(12);
    });
    st = agg.stats();
    expect(st.clients).toBe(2);
    expect(agg.client(tracked[0])).toBeUndefined();
    expect(agg.client(clientIdOf(untracked.world))?.report.frameP50Ms).toBeCloseTo(12, 1);
    expect(agg.room().clients).toBe(2);
  });
});
