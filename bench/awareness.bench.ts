/**
 * Awareness: what everyone's cursor and selection cost. A room of N users over the in-memory network (60 Hz
 * frames, the plugins' default 30 Hz send rate, a manual clock); every user moves a 3D cursor every frame (sent at
 * most 30 Hz, latest-wins) and changes its selection and tool once a second. The same room is run without awareness
 * in the same process, so the figures are differences: downstream kbps per client and server CPU per simulated
 * second that awareness adds, plus how long a selection takes to show at the other clients.
 */
import { createWorld } from 'bitecs';
import type { BenchFamily, FamilyResult } from './bench-family.ts';
import { byScale, formatFigure } from './harness.ts';
import type { BenchContext } from './harness.ts';
import {
  awarenessField,
  createClientAwareness,
  createManualClock,
  createMemoryNetwork,
  createNetworkPlugin,
  createProtocol,
  createServerAwareness,
  clientIdOf,
  field,
  registerComponent,
  type ClientAwareness,
  type NetworkPlugin,
} from '../src/index.ts';

const SCHEMA = {
  selection: awarenessField.list(field.entity(), 8),
  tool: awarenessField.discrete(field.enum(['select', 'move', 'rotate', 'draw'])),
  talking: awarenessField.discrete(field.bool()),
  cursor: awarenessField.continuous(field.quantized(-10, 10, 0.001), 3),
};
const FRAME_MS = 1000 / 60;

interface Plan {
  users: number[];
  seconds: number;
}
const PLANS = {
  full: { users: [4, 8, 16, 32], seconds: 20 },
  quick: { users: [4, 16, 32], seconds: 5 },
  tiny: { users: [4], seconds: 0.5 },
} satisfies Record<BenchContext['scale'], Plan>;

interface RoomResult {
  users: number;
  awareness: boolean;
  kbpsDownPerClient: number;
  serverMsPerSecond: number;
  /** Mean frames from a selection change to every other client showing it (awareness rooms only). */
  selectionFrames: number;
  cursorRelays: number;
}

function protocol() {
  const p = createProtocol();
  registerComponent(p, { x: new Float32Array(16) }, { name: 'Dummy', fields: { x: field.f32() } });
  return p;
}

function runRoom(users: number, seconds: number, withAwareness: boolean, seed: number): RoomResult {
  const clock = createManualClock();
  const network = createMemoryNetwork({ clock, seed });
  const serverWorld = createWorld();
  const server = createNetworkPlugin(serverWorld, {
    role: 'server',
    protocol: protocol(),
    transport: network.server,
    clock,
  });
  const relay = withAwareness ? createServerAwareness(serverWorld, { schema: SCHEMA }) : null;
  const clients: Array<{ world: object; net: NetworkPlugin; aw: ClientAwareness | null }> = [];
  for (let i = 0; i < users; i++) {
    const world = createWorld();
    const net = createNetworkPlugin(world, { role: 'client', protocol: protocol(), link: network.connect(), clock });
    clients.push({ world, net, aw: withAwareness ? createClientAwareness(world, { schema: SCHEMA }) : null });
  }
  const frame = (game: (f: number) => void, f: number) => {
    clock.advance(FRAME_MS);
    network.pump();
    const t0 = process.hrtime.bigint();
    server.receive(serverWorld);
    server.send(serverWorld);
    serverNs += Number(process.hrtime.bigint() - t0);
    game(f);
    for (const c of clients) {
      c.net.receive(c.world);
      c.net.send(c.world);
    }
  };
  let serverNs = 0;
  for (let f = 0; f < 30; f++) frame(() => {}, f);
  serverNs = 0;
  const bytesBefore = clients.map((c) => c.net.stats()[0]?.bytesIn ?? 0);
  const frames = Math.round((seconds * 1000) / FRAME_MS);
  /** Per user: the frame its latest selection was set, and whether every other client shows it yet. */
  const pending: Array<{ at: number; value: number } | null> = clients.map(() => null);
  let delaySum = 0;
  let delays = 0;
  for (let f = 0; f < frames; f++) {
    frame((n) => {
      clients.forEach((c, i) => {
        if (!c.aw) return;
        const t = (n + i * 7) / 60;
        c.aw.set({ cursor: [Math.sin(t + i), Math.cos(t * 1.3), Math.sin(t * 0.7) * 0.5] });
        if ((n + i * 11) % 60 === 0) {
          const value = (n + i) & 0xffff;
          c.aw.set({ selection: [value], tool: ['select', 'move', 'rotate', 'draw'][n % 4] });
          pending[i] = { at: n, value };
        }
      });
      clients.forEach((c, i) => {
        const p = pending[i];
        if (!p) return;
        const id = clientIdOf(c.world);
        const shown = clients.every(
          (o) => o === c || (o.aw?.get(id)?.selection as number[] | undefined)?.[0] === p.value,
        );
        if (!shown) return;
        delaySum += n - p.at;
        delays++;
        pending[i] = null;
      });
    }, f);
  }
  const bytesDown = clients.reduce((sum, c, i) => sum + (c.net.stats()[0]?.bytesIn ?? 0) - bytesBefore[i], 0);
  const result: RoomResult = {
    users,
    awareness: withAwareness,
    kbpsDownPerClient: (bytesDown * 8) / 1000 / users / seconds,
    serverMsPerSecond: serverNs / 1e6 / seconds,
    selectionFrames: delays > 0 ? delaySum / delays : 0,
    cursorRelays: relay?.stats().motionRelayed ?? 0,
  };
  void server.dispose();
  for (const c of clients) void c.net.dispose();
  return result;
}

function markdown(rows: Array<{ on: RoomResult; off: RoomResult }>): string {
  const f = formatFigure;
  const lines = [
    'Every user moves a quantized 3D cursor every frame (60 Hz frames, sent latest-wins at most 30 Hz) and changes ' +
      'its selection and tool once a second; in-memory network without loss, manual clock, default 30 Hz send ' +
      'rate. Each room also runs without awareness in the same process: the added figures are the differences. ' +
      "Server ms = time spent in the server world's receive and send per simulated second (one core).",
    '',
    '| users | kbps down per client (with / without) | added kbps | server ms per s (with / without) | cursor relays per client per s | selection shown at every other client after |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { on, off } of rows) {
    const relaysPerClient = on.cursorRelays / on.users;
    lines.push(
      `| ${on.users} | ${f(on.kbpsDownPerClient)} / ${f(off.kbpsDownPerClient)} | ` +
        `${f(on.kbpsDownPerClient - off.kbpsDownPerClient)} | ${f(on.serverMsPerSecond)} / ${f(off.serverMsPerSecond)} | ` +
        `${f(relaysPerClient)} | ${f(on.selectionFrames)} frames (${f(on.selectionFrames * FRAME_MS)} ms) |`,
    );
  }
  return lines.join('\n');
}

/** The awareness family. */
export const awarenessFamily: BenchFamily = {
  name: 'awareness',
  title: 'Awareness: cursors and selections',
  async run(ctx): Promise<FamilyResult> {
    const plan: Plan = byScale(ctx.scale, PLANS);
    const task = ctx.progress.start('awareness');
    const rows: Array<{ on: RoomResult; off: RoomResult }> = [];
    for (const users of plan.users) {
      task.update(`${users} users`);
      await new Promise((resolve) => setImmediate(resolve));
      const off = runRoom(users, plan.seconds, false, ctx.seed);
      const on = runRoom(users, plan.seconds, true, ctx.seed);
      rows.push({ on, off });
    }
    // Cursor relays are counted over the whole run: per client per second for the table.
    for (const r of rows) r.on.cursorRelays /= plan.seconds;
    task.end(
      rows
        .map((r) => `${r.on.users}: +${formatFigure(r.on.kbpsDownPerClient - r.off.kbpsDownPerClient)} kbps`)
        .join(', '),
    );
    return { series: { seconds: plan.seconds, rows }, markdown: markdown(rows) };
  },
};
