/**
 * The priority pass is skipped when every waiting entity fits the client's budget at its largest
 * (`SendPriority.fitsAll`): then nothing it could order is held back, so the packets must be exactly those of a
 * server that always runs it. A custom priority function equal to the default never takes the skip (the server
 * cannot know it is pure), so it gives the reference run; under a cap that sometimes holds entities back and
 * sometimes not, with acked baselines, loss and moving viewpoints, both servers send the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import { clientIdOf, createRandom, setViewPosition, type PriorityFn } from '../../src/index.ts';
import { defaultPriority, maxDeltaEntityBits, SendPriority } from '../../src/replication/send-priority.ts';
import { spawn, Stepper } from '../helpers/fixture.ts';

const CELL = 5;
const WORLD = 60;

/** The sends of one seeded room; `custom`: with the default priority as a custom function (never skipped). */
function run(custom: boolean, bandwidthKbps: number): { sent: string[]; skipped: number } {
  let ownerOf = (_eid: number) => 0;
  const fn: PriorityFn | null = !custom
    ? null
    : (_clientId, eid, distance) => defaultPriority(ownerOf(eid), distance, CELL);
  const s = new Stepper({
    seed: 3,
    server: (fx) => ({
      interest: {
        rateHz: 20,
        grid: { cellSize: CELL, radius: 15, position: { component: fx.Pose, x: 'px', y: 'py', z: 'pz' } },
      },
      hashIntervalMs: 0,
      bandwidthKbps,
      priority: fn ?? undefined,
    }),
  });
  const ctx = getNetContext(s.server.world);
  if (ctx.role !== 'server') throw new Error('server expected');
  ownerOf = (eid) => ctx.replicator.ownerOf(eid);
  const rnd = createRandom(9);
  const ents: number[] = [];
  for (let i = 0; i < 300; i++) {
    const e = spawn(s.server, [s.server.Pose, s.server.Ints]);
    s.server.Pose.px[e] = rnd.range(0, WORLD);
    s.server.Pose.pz[e] = rnd.range(0, WORLD);
    ents.push(e);
  }
  const clients = Array.from({ length: 4 }, () => s.addClient({ latencyMs: 20, loss: 0.05 }));
  s.run(40);
  const sent: string[] = [];
  for (const peer of ctx.session.peers.values()) {
    const conn = peer.connection;
    const send = conn.sendUnreliable.bind(conn);
    conn.sendUnreliable = (m) => {
      sent.push(`${peer.clientId}:${Buffer.from(m).toString('hex')}`);
      return send(m);
    };
  }
  // Counts the ticks where the skip applies, as the sender decides it.
  const bits = maxDeltaEntityBits(s.server.protocol.components);
  let skipped = 0;
  const fits = SendPriority.fitsAll;
  SendPriority.fitsAll = (waiting, entityBits, budget) => {
    const yes = fits(waiting, entityBits, budget);
    expect(entityBits).toBe(bits);
    if (yes && fn === null) skipped++;
    return yes;
  };
  try {
    const views = clients.map(() => [rnd.range(0, WORLD), 1.6, rnd.range(0, WORLD)]);
    for (let f = 0; f < 240; f++) {
      clients.forEach((c, i) => {
        views[i][0] += rnd.range(-0.5, 0.5);
        views[i][2] += rnd.range(-0.5, 0.5);
        setViewPosition(s.server.world, clientIdOf(c.world), views[i][0], views[i][1], views[i][2]);
      });
      // Bursts of movement now and then overflow the cap; quiet frames fit.
      const share = f % 40 < 5 ? 0.8 : 0.05;
      for (const e of ents) {
        if (rnd.next() >= share) continue;
        s.server.Pose.px[e] = Math.min(WORLD, Math.max(0, s.server.Pose.px[e] + rnd.range(-0.3, 0.3)));
        s.server.Ints.u16[e] = rnd.int(65536);
      }
      s.step();
    }
  } finally {
    SendPriority.fitsAll = fits;
  }
  return { sent, skipped };
}

describe('priority pass skipped when everything fits', () => {
  for (const kbps of [64, 256])
    it(`sends exactly what the full priority pass sends (cap ${kbps} kbps)`, () => {
      const reference = run(true, kbps);
      const skipping = run(false, kbps);
      expect(skipping.sent.length).toBeGreaterThan(300);
      expect(skipping.sent).toEqual(reference.sent);
      // Both kinds of tick happened: skipped, and ordered by priority (held back by the cap).
      expect(skipping.skipped).toBeGreaterThan(50);
      expect(skipping.skipped).toBeLessThan(skipping.sent.length);
    });
});
