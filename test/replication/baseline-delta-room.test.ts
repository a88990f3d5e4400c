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
import { tap } from '../helpers/decoder-tap.ts';
import { dump, spawn, Stepper } from '../helpers/fixture.ts';

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
