/**
 * Attack family "short strings": a client floods the server with owner Deltas whose strings are over their
 * maxBytes, malformed UTF-8, absurdly long by their length prefix or cut short, on both lanes. The server never
 * throws, applies none of it, counts each as a decode error, reports DecodeError, disconnects the flooder once it
 * passes the decode-error budget, and honest clients keep renaming and converging meanwhile.
 */
import { describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import { entityOfNetworkId, networkIdOf, setOwner, shortStringStatsOf } from '../../src/index.ts';
import { dumpStrings, forgeNameDelta, NAME_BYTES, spawnWith, StringStepper } from '../helpers/strings-fixture.ts';

function clientSession(world: object) {
  const ctx = getNetContext(world);
  if (ctx.role !== 'client') throw new Error('client expected');
  return ctx.session;
}

function clientIdOfPeer(world: object): number {
  return clientSession(world).clientId;
}

/** Frames of the rename flood (5 s at 60 Hz). */
const FLOOD_FRAMES = 300;

describe('short strings: hostile owner Deltas', () => {
  it('a flood of invalid strings is dropped and counted; the flooder is cut off; honest renames go on', () => {
    const s = new StringStepper({ seed: 11 });
    const attacker = s.addClient();
    const honest = s.addClient({ latencyMs: 20, loss: 0.1 });
    const watcher = s.addClient();
    s.run(30);
    const target = spawnWith(s.server, [s.server.Label]);
    const mine = spawnWith(s.server, [s.server.Label]);
    s.server.Label.name[target] = 'target';
    s.server.Label.name[mine] = 'honest';
    s.run(10);
    setOwner(s.server.world, target, clientIdOfPeer(attacker.world));
    setOwner(s.server.world, mine, clientIdOfPeer(honest.world));
    s.run(30);
    const targetNet = networkIdOf(s.server.world, target);
    const mineLocal = entityOfNetworkId(honest.world, networkIdOf(s.server.world, mine));
    const conn = clientSession(attacker.world).connection!;
    const ascii = (n: number) => Array.from({ length: n }, () => 0x41);
    const bodies = [
      forgeNameDelta(targetNet, NAME_BYTES + 1, ascii(NAME_BYTES + 1), 5), // one byte over
      forgeNameDelta(targetNet, 2 ** 40, ascii(8), 5), // length prefix far past the body
      forgeNameDelta(targetNet, 2, [0xc0, 0x80], 5), // overlong NUL
      forgeNameDelta(targetNet, 3, [0xed, 0xa0, 0x80], 5), // UTF-16 surrogate
      forgeNameDelta(targetNet, 6, [0x41, 0x42], 5), // cut short
    ];
    const server = getNetContext(s.server.world);
    if (server.role !== 'server') throw new Error('server expected');
    const attackerId = clientIdOfPeer(attacker.world);
    const peer = server.session.peers.get(attackerId)!;
    let sent = 0;
    let frames = 0;
    while (server.session.peers.has(attackerId) && frames < 120) {
      for (let k = 0; k < 10; k++) {
        const body = bodies[(sent + k) % bodies.length];
        if (k % 2 === 0) conn.sendReliable(body);
        else conn.sendUnreliable(body);
      }
      sent += 10;
      frames++;
      honest.Label.name[mineLocal] = `honest ${frames}`;
      expect(() => s.step()).not.toThrow();
      expect(s.server.Label.name[target]).toBe('target');
    }
    // The bound: the decode-error budget cut the flooder off long before the loop's end.
    expect(server.session.peers.has(attackerId)).toBe(false);
    expect(frames).toBeLessThan(120);
    expect(peer.counters.decodeErrors).toBeGreaterThan(0);
    expect(s.server.errors.some((e) => e.code === 'DecodeError')).toBe(true);
    expect(server.replicator.shadow.invalidStrings).toBe(0);
    expect(getNetContext(s.server.world).containedErrors).toBe(0);
    // Honest clients were not touched: the last rename arrived, and everyone agrees.
    s.run(120);
    expect(s.server.Label.name[mine]).toBe(`honest ${frames}`);
    const truth = dumpStrings(s.server);
    expect(dumpStrings(watcher)).toEqual(truth);
    expect(dumpStrings(honest)).toEqual(truth);
    expect(watcher.errors.map((e) => e.code)).toEqual([]);
  });

  it('a string of exactly maxBytes is taken; one byte more is refused', () => {
    const s = new StringStepper();
    const a = s.addClient();
    s.run(20);
    const e = spawnWith(s.server, [s.server.Label]);
    s.server.Label.name[e] = 'start';
    s.run(5);
    setOwner(s.server.world, e, clientIdOfPeer(a.world));
    s.run(10);
    const netId = networkIdOf(s.server.world, e);
    const conn = clientSession(a.world).connection!;
    const server = getNetContext(s.server.world);
    if (server.role !== 'server') throw new Error('server expected');
    const peer = server.session.peers.get(clientIdOfPeer(a.world))!;
    const before = peer.counters.decodeErrors;
    conn.sendReliable(forgeNameDelta(netId, NAME_BYTES + 1, Array(NAME_BYTES + 1).fill(0x42), 50));
    s.run(3);
    expect(s.server.Label.name[e]).toBe('start');
    expect(peer.counters.decodeErrors).toBe(before + 1);
    conn.sendReliable(forgeNameDelta(netId, NAME_BYTES, Array(NAME_BYTES).fill(0x42), 51));
    s.run(3);
    expect(s.server.Label.name[e]).toBe('B'.repeat(NAME_BYTES));
    expect(peer.counters.decodeErrors).toBe(before + 1);
  });

  it('a rename flood from an owner is coalesced into half the bandwidth cap (12 kbps); numbers keep flowing', () => {
    const run = (flood: boolean) => {
      const s = new StringStepper({ seed: 13, server: () => ({ bandwidthKbps: 12 }) });
      const attacker = s.addClient();
      const watcher = s.addClient();
      s.run(30);
      const named = spawnWith(s.server, [s.server.Label]);
      const mover = spawnWith(s.server, [s.server.Body]);
      s.run(10);
      setOwner(s.server.world, named, clientIdOfPeer(attacker.world));
      s.run(30);
      const local = entityOfNetworkId(attacker.world, networkIdOf(s.server.world, named));
      const moverAtWatcher = entityOfNetworkId(watcher.world, networkIdOf(s.server.world, mover));
      const sentBefore = shortStringStatsOf(s.server.world).reliableDeltas;
      const positions = new Set<number>();
      for (let i = 0; i < FLOOD_FRAMES; i++) {
        if (flood) attacker.Label.name[local] = `flood ${i} `.padEnd(NAME_BYTES, '#');
        s.server.Body.x[mover] = Math.sin(i / 20) * 10;
        s.step();
        positions.add(watcher.Body.x[moverAtWatcher]);
      }
      const stats = shortStringStatsOf(s.server.world);
      s.run(120);
      const namedAtWatcher = entityOfNetworkId(watcher.world, networkIdOf(s.server.world, named));
      return {
        positions: positions.size,
        sent: stats.reliableDeltas - sentBefore,
        deferred: stats.deferred,
        atServer: s.server.Label.name[named],
        atWatcher: watcher.Label.name[namedAtWatcher],
      };
    };
    const quiet = run(false);
    const flood = run(true);
    // The bound: string changes wait for their share of the cap, coalesced (latest wins): far fewer messages
    // than renames, and the held-back sends are counted.
    expect(flood.deferred).toBeGreaterThan(0);
    expect(flood.sent).toBeLessThan(FLOOD_FRAMES / 2);
    // Numbers of other entities keep at least half their updates under the flood.
    expect(flood.positions).toBeGreaterThan(quiet.positions / 2);
    // The latest name arrives once the flood stops; nothing is lost on the way.
    const last = `flood ${FLOOD_FRAMES - 1} `.padEnd(NAME_BYTES, '#');
    expect(flood.atServer).toBe(last);
    expect(flood.atWatcher).toBe(last);
  });
});
