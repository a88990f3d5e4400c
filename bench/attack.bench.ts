/**
 * Attack: a real server under each attack of bench/attacks/ (in-memory network, manual clock, 60 Hz frames) with
 * honest clients alongside. Per attack: the heap growth over the attack (JS heap plus ArrayBuffers, after a full
 * GC, and the peak sampled each half second), milliseconds of server work (receive + game + send, `performance.now()`) per
 * simulated attack-second against the same room without attack, and whether every honest client still holds
 * exactly the server's state once the attack ends and the room settles.
 */
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { byScale, collectGarbage, formatFigure } from './harness.ts';
import type { BenchContext, BenchScale } from './harness.ts';
import { ATTACK_FRAME_HZ, AttackRoom } from './attacks/attack-room.ts';
import type { AttackScenario } from './attacks/attack-scenario.ts';
import { ATTACK_SCENARIOS } from './attacks/scenarios.ts';

interface AttackPlan {
  honestClients: number;
  entities: number;
  warmupSeconds: number;
  attackSeconds: number;
  settleSeconds: number;
}

const PLANS = {
  full: { honestClients: 8, entities: 1000, warmupSeconds: 2, attackSeconds: 10, settleSeconds: 3 },
  quick: { honestClients: 4, entities: 500, warmupSeconds: 1, attackSeconds: 2, settleSeconds: 2 },
  tiny: { honestClients: 2, entities: 50, warmupSeconds: 0.5, attackSeconds: 0.25, settleSeconds: 1 },
} satisfies Record<BenchScale, AttackPlan>;

/** One attack's figures. */
export interface AttackRecord {
  attack: string;
  description: string;
  heapGrowthMb: number;
  peakHeapGrowthMb: number;
  serverMsPerAttackSecond: number;
  /** The same room's server ms per second without attack, measured just before it. */
  serverMsPerCalmSecond: number;
  honestConverged: number;
  honestClients: number;
  honestConnected: number;
  attackerOutcome: string;
  serverErrorsReported: number;
  serverThrows: number;
}

const MB = 1024 * 1024;

/** Bytes the process holds in JS objects plus ArrayBuffer backing stores (which live outside the V8 heap). */
function heldBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

// A full collection, twice, with a turn of the event loop between: ArrayBuffer backing stores are released
// after the collection that finds them dead, so one pass can leave the previous room's buffers counted.
async function settleHeap(): Promise<void> {
  collectGarbage();
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
}

async function runOne(scenario: AttackScenario, plan: AttackPlan, ctx: BenchContext): Promise<AttackRecord> {
  await settleHeap();
  const room = new AttackRoom({ honestClients: plan.honestClients, entities: plan.entities, seed: ctx.seed });
  room.run(Math.round(plan.warmupSeconds * ATTACK_FRAME_HZ));
  const frames = Math.max(1, Math.round(plan.attackSeconds * ATTACK_FRAME_HZ));
  // The same room without attack for as long, just before: the CPU figure is read against it (the machine is shared).
  const calm0 = room.serverMs;
  room.run(frames);
  const calmMs = room.serverMs - calm0;
  await settleHeap();
  const heap0 = heldBytes();
  const ms0 = room.serverMs;
  const errors0 = room.server.errors;
  let peak = heap0;
  const attacker = scenario.start(room, ctx.scale);
  room.run(frames, (f) => {
    attacker.tick(f);
    if (f % (ATTACK_FRAME_HZ / 2) === 0) peak = Math.max(peak, heldBytes());
  });
  const serverMs = room.serverMs - ms0;
  peak = Math.max(peak, heldBytes());
  await settleHeap();
  const heapEnd = heldBytes();
  const converged = room.settle(Math.round(plan.settleSeconds * ATTACK_FRAME_HZ));
  const seconds = frames / ATTACK_FRAME_HZ;
  return {
    attack: scenario.name,
    description: scenario.description,
    heapGrowthMb: (heapEnd - heap0) / MB,
    peakHeapGrowthMb: (peak - heap0) / MB,
    serverMsPerAttackSecond: serverMs / seconds,
    serverMsPerCalmSecond: calmMs / seconds,
    honestConverged: converged,
    honestClients: plan.honestClients,
    honestConnected: room.honestConnected(),
    attackerOutcome: attacker.outcome(),
    serverErrorsReported: room.server.errors - errors0,
    serverThrows: room.serverThrows,
  };
}

function markdown(records: readonly AttackRecord[], plan: AttackPlan): string {
  const f = formatFigure;
  const lines = [
    `Each attack runs ${plan.attackSeconds} simulated s against a server with ${plan.honestClients} honest clients and ` +
      `${plan.entities} replicated counters (10 % change per frame, 2 spawns and despawns per second), 60 Hz frames ` +
      'on the in-memory network. Heap growth: heapUsed + external (ArrayBuffers) after a full GC at the end of the ' +
      'attack minus before it ' +
      '(peak: sampled every 0.5 s, garbage included); server ms: receive + game + send per simulated attack-second, ' +
      'and per second of the same room just before the attack (calm; the machine is shared, so compare the two); ' +
      `converged: honest clients holding exactly the server's values after ${plan.settleSeconds} s of settling.`,
    '',
    '| attack | heap growth MB | peak MB | server ms / attack-s | calm ms / s | honest converged | honest connected | attacker | errors reported |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const r of records) {
    lines.push(
      `| ${r.attack} | ${f(r.heapGrowthMb)} | ${f(r.peakHeapGrowthMb)} | ${f(r.serverMsPerAttackSecond)} | ` +
        `${f(r.serverMsPerCalmSecond)} | ` +
        `${r.honestConverged} / ${r.honestClients} | ${r.honestConnected} / ${r.honestClients} | ${r.attackerOutcome} | ` +
        `${r.serverErrorsReported}${r.serverThrows > 0 ? ` (${r.serverThrows} THROWN)` : ''} |`,
    );
  }
  lines.push('', ...records.map((r) => `- **${r.attack}**: ${r.description}.`));
  return lines.join('\n');
}

/** The attack family. */
export const attackFamily: BenchFamily = {
  name: 'attack',
  title: 'Attacks: server heap, CPU and honest clients under hostile peers',
  async run(ctx): Promise<FamilyResult> {
    const plan: AttackPlan = byScale(ctx.scale, PLANS);
    const task = ctx.progress.start('attack');
    const records: AttackRecord[] = [];
    for (const scenario of ATTACK_SCENARIOS) {
      task.update(scenario.name);
      records.push(await runOne(scenario, plan, ctx));
    }
    task.end(records.map((r) => `${r.attack}: ${formatFigure(r.heapGrowthMb)} MB`).join(', '));
    return { series: { plan, records }, markdown: markdown(records, plan) };
  },
};
