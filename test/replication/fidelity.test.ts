/** Fidelity by distance: levels, rates, error bounds, settling to the exact value, level changes under loss. */
import { describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import { fidelityStatsOf, type FidelityOptions, type NetError } from '../../src/index.ts';
import type { ServerReplicator } from '../../src/replication/server-replicator.ts';
import { type Fixture, type Peer, Stepper } from '../helpers/fixture.ts';
import {
  angleDeg,
  appliedTick,
  fidelityRoom,
  LEVELS,
  move,
  onClient,
  positionError,
  spawnAt,
} from './fidelity-harness.ts';

/** Fixture Pose: 1 mm steps, quaternions at 10 bits per component. */
const PRECISION = 0.001;
const QUAT_BITS = 10;
/** Float32 storage of a dequantized value near 100 m. */
const F32_SLACK = 1e-5;

function serverOf(s: Stepper): ServerReplicator {
  const ctx = getNetContext(s.server.world);
  if (ctx.role !== 'server') throw new Error('not a server');
  return ctx.replicator;
}

/** Position error bound of a level's shift k: the coarse step's half plus the fine step's half. */
function positionBound(k: number): number {
  return PRECISION * ((k > 0 ? 2 ** (k - 1) : 0) + 0.5) + F32_SLACK;
}

/** Rotation error bound (degrees) of shift k: the smallest-three bound scaled by the codes' error. */
function rotationBound(k: number): number {
  const codes = (k > 0 ? 2 ** (k - 1) : 0) + 0.5;
  return ((2 * Math.sqrt(6) * 2 * codes) / (2 ** QUAT_BITS - 2)) * (180 / Math.PI) * 1.05;
}

/** Wire values (px, py, pz, rot) the server or client holds of an entity in its shadow. */
function wires(p: Peer, eid: number): number[] {
  const shadow = getNetContext(p.world).replicator.shadow;
  return [0, 1, 2, 3].map((f) => shadow.wire[0][f][eid]);
}

/** Every client entity's Pose wire values equal the server's. */
function converged(s: Stepper, c: Peer, eids: number[]): boolean {
  return eids.every((e) => {
    const local = onClient(s, c, e);
    return local !== 0 && wires(c, local).every((w, f) => w === wires(s.server, e)[f]);
  });
}

describe('fidelity by distance', () => {
  it('sends each level at its rate: every tick near, every 2nd at mid range, every 6th far', () => {
    const { s, c } = fidelityRoom();
    const near = spawnAt(s, 2);
    const mid = spawnAt(s, 10);
    const far = spawnAt(s, 40);
    const eids = [near, mid, far];
    const centres = [2, 10, 40];
    s.run(10);
    const seen = eids.map(() => new Set<number>());
    const frames = 300;
    for (let t = 0; t < frames; t++) {
      s.step((p, isServer) => {
        if (isServer) eids.forEach((e, i) => move(p, e, centres[i], t));
      });
      eids.forEach((e, i) => seen[i].add(appliedTick(c, onClient(s, c, e))));
    }
    const rates = seen.map((set) => set.size / frames);
    expect(rates[0]).toBeGreaterThan(0.97);
    expect(rates[1]).toBeGreaterThan(0.45);
    expect(rates[1]).toBeLessThan(0.55);
    expect(rates[2]).toBeGreaterThan(1 / 6 - 0.03);
    expect(rates[2]).toBeLessThan(1 / 6 + 0.03);
    const stats = fidelityStatsOf(s.server.world)!;
    expect(stats.sentByLevel.every((n) => n > 0)).toBe(true);
    expect(stats.coarseSent).toBeGreaterThan(0);
    expect(stats.held).toBeGreaterThan(0);
  });

  it('keeps each level within its error bound, coarser with distance, and no coarser than it', () => {
    const { s, c } = fidelityRoom();
    const centres = [2, 10, 40];
    const eids = centres.map((x) => spawnAt(s, x));
    s.run(10);
    const rep = serverOf(s);
    const history = new Map<number, { pos: number[][]; rot: number[][] }>();
    const maxPos = [0, 0, 0];
    const maxRot = [0, 0, 0];
    for (let t = 0; t < 400; t++) {
      s.step((p, isServer) => {
        if (isServer) eids.forEach((e, i) => move(p, e, centres[i], t));
      });
      const P = s.server.Pose;
      history.set(rep.tick, {
        pos: eids.map((e) => [P.px[e], P.py[e], P.pz[e]]),
        rot: eids.map((e) => [P.qx[e], P.qy[e], P.qz[e], P.qw[e]]),
      });
      eids.forEach((e, i) => {
        const local = onClient(s, c, e);
        // Each field against the server's value of the tick it was applied from.
        const held = [c.Pose.px[local], c.Pose.py[local], c.Pose.pz[local]];
        for (let f = 0; f < 3; f++) {
          const at = history.get(appliedTick(c, local, f));
          if (at) maxPos[i] = Math.max(maxPos[i], Math.abs(held[f] - at.pos[i][f]));
        }
        const at = history.get(appliedTick(c, local, 3));
        if (!at) return;
        const q = at.rot[i];
        const dot = Math.abs(
          c.Pose.qx[local] * q[0] + c.Pose.qy[local] * q[1] + c.Pose.qz[local] * q[2] + c.Pose.qw[local] * q[3],
        );
        maxRot[i] = Math.max(maxRot[i], (2 * Math.acos(Math.min(1, dot)) * 180) / Math.PI);
      });
    }
    const shifts = [0, 2, 4];
    shifts.forEach((k, i) => {
      expect(maxPos[i]).toBeLessThanOrEqual(positionBound(k));
      expect(maxRot[i]).toBeLessThanOrEqual(rotationBound(k));
    });
    // Coarsening happened: each coarse level erred beyond the level finer than it.
    expect(maxPos[1]).toBeGreaterThan(positionBound(0));
    expect(maxPos[2]).toBeGreaterThan(positionBound(2));
    expect(maxRot[2]).toBeGreaterThan(rotationBound(0));
  });

  it('gives every client the exact full-precision value within a bounded number of ticks once entities stop', () => {
    const { s, c } = fidelityRoom();
    const centres = [2, 7, 12, 25, 40, 60];
    const eids = centres.map((x) => spawnAt(s, x));
    s.run(10);
    for (let t = 0; t < 120; t++)
      s.step((p, isServer) => {
        if (isServer) eids.forEach((e, i) => move(p, e, centres[i], t));
      });
    // While moving, the far ones are coarse (their wire values differ from the server's).
    expect(converged(s, c, eids)).toBe(false);
    let frames = 0;
    while (!converged(s, c, eids) && frames < 200) {
      s.step();
      frames++;
    }
    // settleTicks (4) + the far interval (6) + a frame of delivery, with margin.
    expect(frames).toBeLessThanOrEqual(4 + 6 + 4);
    expect(fidelityStatsOf(s.server.world)!.refinements).toBeGreaterThan(0);
    // Nothing was resynced: coarse values stayed out of the state hash.
    s.run(90);
    expect(serverOf(s).counters.resyncs).toBe(0);
    expect(c.errors).toEqual([]);
  });

  it('approach and leave under loss: exact soon after coming near, exact after stopping far, no resync', () => {
    const link = { latencyMs: 20, jitterMs: 5, loss: 0.1 };
    const { s, c } = fidelityRoom({}, link);
    const eid = spawnAt(s, 40);
    const still = spawnAt(s, 30); // a far entity that never moves after its spawn
    s.server.Pose.py[still] = 3.21;
    s.run(30);
    const rep = serverOf(s);
    const history = new Map<number, number[]>();
    const record = () => history.set(rep.tick, wires(s.server, eid));
    let x = 40;
    let t = 0;
    // Far, everything moves; from the approach on only px does (py, pz and the rotation keep their last value, which
    // the client got coarse: fidelity must resend them exact when the entity comes near).
    let all = true;
    const stepTo = (target: number, frames: number) => {
      const from = x;
      for (let i = 1; i <= frames; i++) {
        x = from + ((target - from) * i) / frames;
        s.step((p, isServer) => {
          if (isServer && all) move(p, eid, x, t++);
          else if (isServer) p.Pose.px[eid] = x;
        });
        record();
      }
    };
    stepTo(40, 60); // far, moving: coarse
    all = false;
    stepTo(2, 120); // approach
    // Near and still moving: after a few ticks, every field the client holds is the server's exact wire value of the
    // tick it was applied (a coarse value left over from afar would differ).
    let checked = 0;
    for (let i = 0; i < 120; i++) {
      stepTo(2, 1);
      if (i < 20) continue;
      const local = onClient(s, c, eid);
      const shadow = getNetContext(c.world).replicator.shadow;
      for (let f = 0; f < 4; f++) {
        const at = history.get(shadow.tick[0][f][local]);
        if (!at) continue;
        expect(shadow.wire[0][f][local]).toBe(at[f]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
    stepTo(50, 120); // leave
    let frames = 0;
    while (!converged(s, c, [eid, still]) && frames < 300) {
      s.step();
      frames++;
    }
    // Stopped far: settle + interval + the resends of lost packets (10 % loss, 40 ms RTT).
    expect(frames).toBeLessThan(60);
    expect(positionError(c, onClient(s, c, eid), s.server, eid)).toBeLessThanOrEqual(PRECISION / 2 + F32_SLACK);
    expect(angleDeg(c, onClient(s, c, eid), s.server, eid)).toBeLessThan(0.3);
    s.run(120);
    expect(rep.counters.resyncs).toBe(0);
    expect(c.errors.filter((e) => (e as NetError).code === 'HashMismatch')).toEqual([]);
  });

  it('a client holding coarse values is not resynced by the state hash (they are left out of it)', () => {
    const { s, c } = fidelityRoom({ settleTicks: 240 });
    const eids = [30, 40, 50].map((x) => spawnAt(s, x));
    s.run(10);
    for (let t = 0; t < 60; t++)
      s.step((p, isServer) => {
        if (isServer) eids.forEach((e, i) => move(p, e, 30 + 10 * i, t));
      });
    // Stopped but not yet settled (240 ticks): the client holds coarse values through two state hashes.
    s.run(150);
    expect(converged(s, c, eids)).toBe(false);
    expect(serverOf(s).counters.hashesSent).toBeGreaterThan(2);
    expect(serverOf(s).counters.resyncs).toBe(0);
    s.run(120);
    expect(converged(s, c, eids)).toBe(true);
    expect(c.errors).toEqual([]);
  });

  it('a custom level function chooses levels (and an invalid answer counts as level 0, reported once)', () => {
    let special = -1;
    const { s, c } = fidelityRoom({ level: (_client, eid) => (eid === special ? 2 : eid === special + 1 ? 99 : 0) });
    special = spawnAt(s, 1);
    const invalid = spawnAt(s, 1);
    expect(invalid).toBe(special + 1);
    s.run(10);
    const seen = [new Set<number>(), new Set<number>()];
    for (let t = 0; t < 240; t++) {
      s.step((p, isServer) => {
        if (isServer) [special, invalid].forEach((e) => move(p, e, 1, t));
      });
      [special, invalid].forEach((e, i) => seen[i].add(appliedTick(c, onClient(s, c, e))));
    }
    expect(seen[0].size / 240).toBeLessThan(1 / 6 + 0.03);
    expect(seen[1].size / 240).toBeGreaterThan(0.97);
    const stats = fidelityStatsOf(s.server.world)!;
    expect(stats.invalidLevels).toBeGreaterThan(100);
    expect(s.server.errors.filter((e) => (e as NetError).code === 'FidelityLevel')).toHaveLength(1);
  });

  it('under a tight bandwidth cap a held-back far entity waits no longer than the near ones it competes with', () => {
    const { s, c } = fidelityRoom({}, undefined, { bandwidthKbps: 48 });
    const near = Array.from({ length: 60 }, (_, i) => spawnAt(s, 1 + (i % 3)));
    const far = Array.from({ length: 6 }, () => spawnAt(s, 40));
    const all = [...near, ...far];
    const centre = (e: number) => (s.server.Pose.px[e] > 20 ? 40 : 2);
    const centres = new Map(all.map((e) => [e, centre(e)]));
    s.run(120);
    const gaps = (list: number[]) => list.map(() => [] as number[]);
    const last = new Map<number, number>();
    const nearGaps = gaps(near);
    const farGaps = gaps(far);
    for (let t = 0; t < 720; t++) {
      s.step((p, isServer) => {
        if (isServer) for (const e of all) move(p, e, centres.get(e)!, t);
      });
      const tick = serverOf(s).tick;
      const note = (list: number[], into: number[][]) =>
        list.forEach((e, i) => {
          const applied = appliedTick(c, onClient(s, c, e));
          const prev = last.get(e);
          if (prev !== undefined && applied !== prev && t >= 120) into[i].push(applied - prev);
          last.set(e, applied);
          void tick;
        });
      note(near, nearGaps);
      note(far, farGaps);
    }
    const mean = (g: number[][]) => g.flat().reduce((a, b) => a + b, 0) / g.flat().length;
    const max = (g: number[][]) => Math.max(...g.flat());
    // The cap is what limits the near ones (they would go every tick).
    expect(mean(nearGaps)).toBeGreaterThan(3);
    // Held back for its interval, it kept its priority growing and was overdue when its turn came, so it waited as
    // long as the near ones (its slot alone would add up to 6 ticks).
    expect(mean(farGaps)).toBeLessThanOrEqual(mean(nearGaps) * 1.15);
    expect(max(farGaps)).toBeLessThanOrEqual(max(nearGaps));
  });
});

describe('fidelity options', () => {
  const refused = (options: unknown): string => {
    try {
      fidelityRoom(options as Record<string, never>);
    } catch (e) {
      expect((e as NetError).code).toBe('Usage');
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  it('refuses levels that make no sense, with a usage error naming the problem', () => {
    expect(refused({ levels: [] })).toMatch(/1\.\.8 levels/);
    expect(refused({ levels: Array.from({ length: 9 }, (_, i) => ({ within: i + 1 })) })).toMatch(/1\.\.8 levels/);
    expect(refused({ levels: [{ within: 3, every: 0 }, {}] })).toMatch(/every 0/);
    expect(refused({ levels: [{ within: 3, every: 1.5 }, {}] })).toMatch(/every 1.5/);
    expect(refused({ levels: [{ within: 3 }, { every: 61 }] })).toMatch(/every 61/);
    expect(refused({ levels: [{ within: 3 }, { coarsen: 3 }] })).toMatch(/coarsen 3/);
    expect(refused({ levels: [{ within: 3 }, { coarsen: 32 }] })).toMatch(/coarsen 32/);
    expect(refused({ levels: [{ within: 10 }, { within: 5 }, {}] })).toMatch(/within 5/);
    expect(refused({ levels: [{ within: 0 }, {}] })).toMatch(/within 0/);
    expect(refused({ levels: [{ within: NaN }, {}] })).toMatch(/within NaN/);
    expect(refused({ levels: [{ within: 3 }, { within: 9 }] })).toMatch(/last fidelity level has a bound/);
    expect(refused({ levels: [null] })).toMatch(/not an object/);
    expect(refused({ levels: LEVELS, settleTicks: 0 })).toMatch(/settleTicks 0/);
    expect(refused({ levels: LEVELS, origin: 3 })).toMatch(/origin must be a function/);
    expect(refused({ levels: LEVELS, level: 'near' })).toMatch(/level must be a function/);
    expect(refused({ levels: LEVELS, position: { component: {}, x: 'px', y: 'py', z: 'pz' } })).toMatch(
      /not registered/,
    );
  });

  it('refuses a position array that is not there, and levels by distance without any position', () => {
    const server = (fidelity: (fx: Fixture) => unknown) => () =>
      new Stepper({ server: (fx) => ({ fidelity: fidelity(fx) as FidelityOptions }) });
    expect(server((fx) => ({ levels: LEVELS, position: { component: fx.Pose, x: 'px', y: 'nope', z: 'pz' } }))).toThrow(
      /no array 'nope'/,
    );
    expect(server(() => ({ levels: LEVELS }))).toThrow(/need positions/);
    // With the interest grid, its position is the default; a level function needs no position at all.
    expect(server(() => ({ levels: LEVELS, level: () => 0 }))).not.toThrow();
    const withGrid = () =>
      new Stepper({
        server: (fx) => ({
          interest: { grid: { cellSize: 8, radius: 100, position: { component: fx.Pose, x: 'px', y: 'py', z: 'pz' } } },
          fidelity: { levels: LEVELS },
        }),
      });
    expect(withGrid).not.toThrow();
  });
});
