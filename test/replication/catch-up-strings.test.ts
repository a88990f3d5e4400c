/**
 * Catch-up carries short strings: names changed while a client was away arrive through the Deltas batch (reliable,
 * full components), not through the unreliable path that excludes string components, and equal a client that stayed.
 */
import { describe, expect, it } from 'vitest';
import { catchUpStatsOf } from '../../src/index.ts';
import {
  defineStringFixture,
  dumpStrings,
  spawnWith,
  type StringPeer,
  StringStepper,
} from '../helpers/strings-fixture.ts';
import { addResumableClient, cutAndResume, FAST_HEARTBEAT_MS, runFrames } from './catch-up-harness.ts';

describe('catch-up with short strings', () => {
  it('renames made while away reach the resumed client through the batch', async () => {
    const s = new StringStepper({ seed: 4, server: () => ({ heartbeatMs: FAST_HEARTBEAT_MS }) });
    const b = s.addClient(undefined, { heartbeatMs: FAST_HEARTBEAT_MS });
    const a = addResumableClient(s.network, s.clock, defineStringFixture());
    const peerA: StringPeer = { ...a.fx, world: a.world, net: a.net, errors: a.errors as StringPeer['errors'] };
    s.clients.push(peerA);
    const { Label, Badge, Body } = s.server;
    const es: number[] = [];
    for (let i = 0; i < 12; i++) {
      const e = spawnWith(s.server, [Body, Label, Badge]);
      Label.name[e] = `user ${i}`;
      Badge.title[e] = 't';
      es.push(e);
    }
    const step = () => s.step();
    await runFrames(step, 40);
    expect(dumpStrings(peerA)).toEqual(dumpStrings(b));
    // A rename is recorded when detected and again when the reliable lane queues it for each client (a change that
    // waited for bandwidth is older than its message; a client whose link drops with it in flight still gets it).
    const records = () => {
      const st = catchUpStatsOf(s.server.world);
      return st.role === 'server' ? st.history.records : -1;
    };
    const r0 = records();
    Label.name[es[0]] = 'renamed';
    await runFrames(step, 1);
    expect(records() - r0).toBe(3);
    let renamed = false;
    await cutAndResume(
      s.network,
      a,
      () => {
        step();
        if (renamed) return;
        renamed = true;
        Label.name[es[2]] = 'Zoë (away)';
        Badge.title[es[5]] = 'host';
        Label.color[es[7]] = 9;
      },
      30,
    );
    await runFrames(step, 30);
    const st = catchUpStatsOf(s.server.world);
    expect(st.role === 'server' && st.catchUps).toBe(1);
    // The three edits, and the rename just before the cut (newer than the client's lastSeq): not the other eight.
    expect(st.role === 'server' && st.catchUpEntities).toBe(4);
    const onA = dumpStrings(peerA);
    expect(onA).toEqual(dumpStrings(b));
    expect([...onA.values()].some((r) => r.Label?.[0] === 'Zoë (away)')).toBe(true);
    expect([...onA.values()].some((r) => r.Badge?.[0] === 'host')).toBe(true);
  });
});
