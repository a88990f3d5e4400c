/**
 * BaselineDeltas end to end (capability `ackedbase2`, on by default): a server moving poses along the motion
 * trace, some fields at a time, to clients over links with 10-30 % loss, duplication and reordering. The clients
 * get BaselineDeltas whose components are mostly residuals (many against predicted references), and once motion
 * stops each holds exactly what a client that joins afterwards gets from its snapshot.
 */
import { describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import { Tag } from '../../src/index.ts';
import { createMotionTrace, TRACE_SAMPLE_LENGTH, TraceDevice } from '../../src/vr/motion-trace.ts';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { createRandom } from '../../src/random.ts';
import { ServerBaselineCoder } from '../../src/replication/baseline-block.ts';
import { ClientBaselineDecoder } from '../../src/replication/client-baseline-decoder.ts';
import {
  applyEntityUpdates,
  type ApplyResult,
  createPackScratch,
  type DeltaInfo,
  openDelta,
  writeDelta,
} from '../../src/replication/delta-packer.ts';
import { DeliveryState } from '../../src/replication/delivery-state.ts';
import { EntityRegistry } from '../../src/replication/entity-registry.ts';
import { ShadowStore } from '../../src/replication/shadow-store.ts';
import { tap } from '../helpers/decoder-tap.ts';
import { defineFixture, dump, spawn, Stepper } from '../helpers/fixture.ts';

const ENTITIES = 12;

describe('BaselineDelta room', () => {
  it('converges bit-exactly under 10-30 % loss with duplication and reordering, mostly on residuals', () => {
    const s = new Stepper({ seed: 31 });
    const lossy = [0.1, 0.3].map((loss) =>
      s.addClient({ latencyMs: 40, jitterMs: 15, loss, duplicate: 0.05, reorder: 0.1 }),
    );
    s.run(10);
    const eids: number[] = [];
    for (let i = 0; i < ENTITIES; i++) eids.push(spawn(s.server, [s.server.Pose]));
    const trace = createMotionTrace(5);
    const sample = new Float64Array(TRACE_SAMPLE_LENGTH);
    const reached = lossy.map((c) => {
      const ctx = getNetContext(c.world);
      if (ctx.role !== 'client') throw new Error('client expected');
      return tap(ctx.replicator, 'onMessage', (args) => args[0] as number);
    });
    let frame = 0;
    const move = (p: typeof s.server, isServer: boolean) => {
      if (!isServer) return;
      frame++;
      for (let i = 0; i < ENTITIES; i++) {
        const e = eids[i];
        trace.sample([TraceDevice.head, TraceDevice.left, TraceDevice.right][i % 3], frame * 16.67 + i * 1237, sample);
        // Positions every frame, y only every 3rd, the rotation every 2nd: partial masks on the wire.
        p.Pose.px[e] = sample[0] + i;
        p.Pose.pz[e] = sample[2];
        if (frame % 3 === 0) p.Pose.py[e] = sample[1];
        if (frame % 2 === 0) {
          p.Pose.qx[e] = sample[3];
          p.Pose.qy[e] = sample[4];
          p.Pose.qz[e] = sample[5];
          p.Pose.qw[e] = sample[6];
        }
      }
    };
    s.run(600, move);
    s.run(120);
    const server = getNetContext(s.server.world);
    if (server.role !== 'server') throw new Error('server expected');
    for (const peer of server.replicator.peers.values()) {
      const coder = peer.baselines;
      expect(coder).toBeDefined();
      // Whole-value baselines: partial masks stay residuals; absolutes are the first sends and the chain cap.
      expect(coder!.residuals).toBeGreaterThan(2000);
      expect(coder!.absolutes).toBeLessThan(0.1 * coder!.residuals);
      expect(coder!.predicted).toBeGreaterThan(0.1 * coder!.residuals);
    }
    for (const r of reached) {
      expect(r.get(Tag.BaselineDelta) ?? 0).toBeGreaterThan(300);
      expect(r.get(Tag.Delta) ?? 0).toBe(0);
    }
    const fresh = s.addClient();
    s.run(60);
    const truth = dump(fresh);
    expect(truth.size).toBe(ENTITIES);
    for (const c of lossy) {
      expect(dump(c)).toEqual(truth);
      expect(c.errors).toEqual([]);
    }
  });
});

describe('BaselineDelta history at scale', () => {
  it('keeps residuals for more entities than it once kept history for, each moving every 12 ticks, and converges', () => {
    const COUNT = 1500; // past the 1,024 entities the server once kept history for
    const PERIOD = 12; // 125 entities a tick: one packet holds them
    const s = new Stepper({ seed: 7, server: () => ({ bandwidthKbps: 1_000_000 }) });
    const client = s.addClient({ latencyMs: 30, jitterMs: 5, loss: 0.02 });
    s.run(10);
    const eids: number[] = [];
    for (let i = 0; i < COUNT; i++) eids.push(spawn(s.server, [s.server.Pose]));
    s.run(300); // every entity reaches the client
    const server = getNetContext(s.server.world);
    if (server.role !== 'server') throw new Error('server expected');
    const coder = [...server.replicator.peers.values()][0].baselines!;
    const before = { residuals: coder.residuals, absolutes: coder.absolutes };
    const rnd = createRandom(3);
    let frame = 0;
    const move = (p: typeof s.server, isServer: boolean) => {
      if (!isServer) return;
      frame++;
      for (let i = frame % PERIOD; i < COUNT; i += PERIOD) {
        const e = eids[i];
        p.Pose.px[e] += (rnd.next() - 0.5) * 0.05;
        p.Pose.py[e] += (rnd.next() - 0.5) * 0.05;
        p.Pose.pz[e] += (rnd.next() - 0.5) * 0.05;
      }
    };
    s.run(240, move);
    s.run(120);
    const residuals = coder.residuals - before.residuals;
    const absolutes = coder.absolutes - before.absolutes;
    // An entity comes back every 12 ticks: its last acked value is still held (on the client too).
    expect(residuals).toBeGreaterThan(240 * (COUNT / PERIOD) * 0.8);
    expect(absolutes).toBeLessThan(0.1 * residuals);
    const fresh = s.addClient();
    s.run(200);
    const truth = dump(fresh);
    expect(truth.size).toBe(COUNT);
    expect(dump(client)).toEqual(truth);
    expect(client.errors).toEqual([]);
  });
});

describe('BaselineDelta packing', () => {
  it('stays within its budget whatever order the dirty list is in, and decodes to the sender state', () => {
    const N = 60;
    const rnd = createRandom(8);
    // Network ids spread wide and in a random order against the entity ids: the FIFO selection is not ascending,
    // and a selected id's gap once sorted is not its gap in selection order.
    const ids = new Set<number>();
    while (ids.size < N) ids.add(1 + rnd.int(20000));
    const netIds = [...ids];
    const side = () => {
      const fx = defineFixture();
      const comps = fx.protocol.components;
      const reg = new EntityRegistry(comps.length, N + 8);
      for (let e = 1; e <= N; e++) {
        reg.add(e, netIds[e - 1]);
        reg.has[0][e] = 1;
      }
      return { fx, comps, reg, shadow: new ShadowStore(comps, reg, N + 8), scratch: createPackScratch(comps) };
    };
    const tx = side();
    const rx = side();
    const d = new DeliveryState(tx.comps.length, N + 8);
    const coder = new ServerBaselineCoder(tx.comps);
    d.baselines = coder;
    const dec = new ClientBaselineDecoder(rx.comps);
    const w = new BitWriter();
    const r = new BitReader();
    const info: DeltaInfo = { tick: 0, dependsOn: 0, count: 0 };
    const result: ApplyResult = { ok: true, applied: 0, forbidden: 0, unknown: 0 };
    const trace = createMotionTrace(3);
    const sample = new Float64Array(TRACE_SAMPLE_LENGTH);
    const BUDGET = 100;
    let messages = 0;
    let full = 0; // messages the budget cut short
    for (let t = 1; t <= 400; t++) {
      const P = tx.fx.Pose;
      for (let e = 1; e <= N && t <= 300; e++) {
        trace.sample(TraceDevice.left, t * 16.67 + e * 311, sample);
        if (rnd.next() < 0.7) P.px[e] = sample[0] + (e % 7);
        if (rnd.next() < 0.7) P.py[e] = sample[1];
        P.pz[e] = sample[2];
        if (rnd.next() < 0.5) [P.qx[e], P.qy[e], P.qz[e], P.qw[e]] = [sample[3], sample[4], sample[5], sample[6]];
        const mask = tx.shadow.detect(0, e);
        if (mask !== 0) d.mark(e, 0, mask);
      }
      const msg = writeDelta(w, tx.scratch, tx.comps, tx.shadow, tx.reg, d, {
        tick: t,
        dependsOn: 0,
        budgetBytes: BUDGET,
        baselines: coder,
      });
      if (msg === null) continue;
      messages++;
      expect(msg.length).toBeLessThanOrEqual(BUDGET);
      // The budget bound: entities were left for the next tick.
      if (d.dirtyCount > 0) full++;
      expect(msg[0] | (msg[1] << 8)).toBe(Tag.BaselineDelta);
      d.commit(t);
      expect(openDelta(r, msg, info)).toBe(true);
      applyEntityUpdates(
        r,
        info,
        rx.scratch,
        rx.comps,
        rx.shadow,
        rx.reg,
        rx.reg,
        { canWrite: () => true, updateShadow: true, baselines: dec },
        result,
      );
      expect(result.ok).toBe(true);
      // Acked two ticks later.
      if (t > 2) d.acked(t - 2);
    }
    expect(messages).toBeGreaterThan(300);
    expect(full).toBeGreaterThan(100);
    expect(coder.residuals).toBeGreaterThan(5 * coder.absolutes);
    for (let f = 0; f < tx.comps[0].fields.length; f++)
      expect(Array.from(rx.shadow.wire[0][f].subarray(1, N + 1))).toEqual(
        Array.from(tx.shadow.wire[0][f].subarray(1, N + 1)),
      );
  });
});
