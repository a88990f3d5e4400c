/**
 * Command-log convergence: three editors issue thousands of random, conflicting commands of the three policies
 * over lossy, reordering links while a fourth client sends forged, replayed, out-of-permission and malformed
 * entries. Every peer ends with the same state; every bad entry is rejected, counted, and applied nowhere.
 */
import { describe, expect, it } from 'vitest';
import { encodeControl } from '../../src/codec/message-frame.ts';
import { encodeBody } from '../../src/codec/msgpack-body.ts';
import { getNetContext } from '../../src/context.ts';
import { signCommand, type CommandEntryData } from '../../src/authority/command-signing.ts';
import { commandEntryBody } from '../../src/authority/command-wire.ts';
import { createKeyPair, createRandom, Tag, type CommandTypes } from '../../src/index.ts';
import { createRoom, join, type RoomClient, run, sendRaw } from './authority-harness.ts';

const TOOLS = ['move', 'rotate', 'scale', 'paint'];

function clamp(v: unknown, lo: number, hi: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : 0;
}

/** Editor commands: selection (last writer wins), gizmo transform deltas (merged by summing), tool (reject). */
export const editorTypes: CommandTypes = {
  select: {
    policy: 'last-writer-wins',
    validate: (p) => (Array.isArray(p) && p.length <= 16 ? p.map((x) => clamp(x, 0, 1e6) | 0) : undefined),
  },
  transform: {
    policy: 'merge',
    validate: (p) =>
      Array.isArray(p) && p.length === 3 ? [clamp(p[0], -1, 1), clamp(p[1], -1, 1), clamp(p[2], -1, 1)] : undefined,
    merge: (current, d) => {
      const c = (current as number[] | undefined) ?? [0, 0, 0];
      const v = d as number[];
      return [c[0] + v[0], c[1] + v[1], c[2] + v[2]];
    },
  },
  tool: {
    policy: 'reject-on-conflict',
    validate: (p) => (typeof p === 'string' && TOOLS.includes(p) ? p : undefined),
  },
  lock: { policy: 'last-writer-wins', senders: ['admin'] },
};

/** Mallory builds her own entries: valid, replayed, forged, foreign-signed, forbidden and malformed ones. */
function mallory(client: RoomClient) {
  const ctx = getNetContext(client.world);
  if (ctx.role !== 'client' || !ctx.session.welcome) throw new Error('connected client expected');
  const { sessionId, clientId } = ctx.session.welcome;
  const key = ctx.session.keyPair.secretKey;
  let seq = 0;
  let counter = 1_000;
  const validSent: Uint8Array[] = [];
  const entry = (type: string, target: string, payload: unknown, secret = key): CommandEntryData => {
    const e = { author: clientId, seq: ++seq, counter: ++counter, base: 0, type, target, payload: encodeBody(payload) };
    return { ...e, sig: signCommand(sessionId, e, secret) };
  };
  const send = (e: CommandEntryData) => {
    const msg = encodeControl(Tag.CommandEntry, commandEntryBody(e));
    sendRaw(client, msg);
    return msg;
  };
  const stranger = createKeyPair();
  return {
    valid: () => validSent.push(send(entry('select', 'sel:0', [666]))),
    /** Sends one of the valid entries again, byte for byte. */
    replay: (i: number) => sendRaw(client, validSent[i % validSent.length]),
    forged: () => {
      const e = entry('select', 'sel:1', [777]);
      e.sig = e.sig.slice();
      e.sig[5] ^= 1;
      send(e);
    },
    tampered: () => {
      const e = entry('select', 'sel:1', [777]);
      send({ ...e, payload: encodeBody([778]) });
    },
    foreign: () => send(entry('select', 'sel:2', [888], stranger.secretKey)),
    forbidden: () => send(entry('lock', 'lock:0', 'mine')),
    malformed: () => sendRaw(client, encodeControl(Tag.CommandEntry, { s: 'x', g: 1 })),
  };
}

describe('command log', () => {
  it('converges on every peer under loss and reordering; bad entries are rejected, counted and never applied', async () => {
    const conditions = { latencyMs: 15, jitterMs: 10, loss: 0.08, reorder: 0.1, duplicate: 0.02 };
    const { s, authority } = createRoom({
      seed: 61,
      server: { rateLimits: false },
      authority: () => ({ commandTypes: editorTypes }),
    });
    const editors = [1, 2, 3].map((i) =>
      join(s, `participant:ed${i}`, () => ({ commandTypes: editorTypes }), conditions),
    );
    const mal = join(s, 'participant:mal', () => ({ commandTypes: editorTypes }));
    await run(s, 20);
    const m = mallory(mal);
    const rnd = createRandom(6061);
    const COMMANDS = 2400;
    const expected = { forged: 0, replayed: 0, forbidden: 0, malformed: 0, valid: 0 };
    let issued = 0;
    while (issued < COMMANDS) {
      for (const ed of editors) {
        // A few commands per editor per frame, on a handful of targets, so they conflict all the time.
        const n = rnd.int(4);
        for (let k = 0; k < n && issued < COMMANDS; k++, issued++) {
          const which = rnd.int(3);
          const t = rnd.int(3);
          if (which === 0) ed.authority.command('select', `sel:${t}`, [rnd.int(100), rnd.int(100)]);
          else if (which === 1)
            ed.authority.command('transform', `obj:${t}`, [rnd.range(-1.5, 1.5), rnd.range(-1, 1), rnd.range(-1, 1)]);
          else ed.authority.command('tool', `tool:${t}`, TOOLS[rnd.int(TOOLS.length)]);
        }
      }
      const bad = rnd.int(12);
      if (bad === 0) {
        m.valid();
        expected.valid++;
      } else if (bad === 1 && expected.valid > 0) {
        m.replay(rnd.int(1000));
        expected.replayed++;
      } else if (bad >= 2 && bad <= 4) {
        [m.forged, m.tampered, m.foreign][bad - 2]();
        expected.forged++;
      } else if (bad === 5) {
        m.forbidden();
        expected.forbidden++;
      } else if (bad === 6 && expected.malformed < 20) {
        m.malformed();
        expected.malformed++;
      }
      await run(s, 1);
    }
    // Let everything in flight land.
    for (let i = 0; i < 40 && editors.some((e) => e.authority.pendingCommands > 0); i++) await run(s, 10);
    await run(s, 30);

    const c = authority.stats().commands;
    const log = authority.commands;
    // Every editor command was either applied or rejected for a conflict; Mallory's bad ones were all caught.
    expect(editors.map((e) => e.authority.pendingCommands)).toEqual([0, 0, 0]);
    expect(c.forged).toBe(expected.forged);
    expect(c.replayed).toBe(expected.replayed);
    expect(c.forbidden).toBe(expected.forbidden);
    expect(c.malformed).toBe(expected.malformed);
    expect(c.invalid + c.unknownType).toBe(0);
    expect(c.accepted).toBe(log.index);
    expect(c.accepted + c.conflicts).toBe(COMMANDS + expected.valid);
    expect(c.conflicts).toBeGreaterThan(0);
    // None applied: no record carries a forged, foreign or forbidden value.
    expect(log.records.has('lock:0')).toBe(false);
    for (const [, r] of log.records) expect([[777], [778], [888]]).not.toContainEqual(r.value);
    // Same state everywhere, each policy represented.
    const rows = log.rows();
    for (const peer of [...editors, mal]) {
      expect(peer.authority.commands.index).toBe(log.index);
      expect(peer.authority.commands.rows()).toEqual(rows);
    }
    const kinds = new Set(rows.map(([k]) => k.split(':')[0]));
    expect([...kinds].sort()).toEqual(['obj', 'sel', 'tool']);
    // Merged transforms stayed within what the clamped deltas allow.
    for (const [k, r] of log.records)
      if (k.startsWith('obj:')) expect(Math.abs((r.value as number[])[0])).toBeLessThan(COMMANDS);
  });

  it('entries issued while cut are sent again after the resume, once, and applied everywhere', async () => {
    const { s, authority } = createRoom({ seed: 62, authority: () => ({ commandTypes: editorTypes }) });
    const a = join(s, 'participant:ann', () => ({ commandTypes: editorTypes }));
    const b = join(s, 'participant:bob', () => ({ commandTypes: editorTypes }));
    await run(s, 10);
    a.authority.command('select', 'sel:0', [1]);
    await run(s, 5);
    s.network.cut(a.links[0]);
    for (let i = 0; i < 5; i++) a.authority.command('transform', 'obj:0', [0.5, 0, 0]);
    expect(a.authority.pendingCommands).toBe(5);
    await run(s, 60 * 5);
    expect(a.links.length).toBeGreaterThan(1);
    await run(s, 20);
    expect(a.authority.pendingCommands).toBe(0);
    expect(authority.commands.records.get('obj:0')?.value).toEqual([2.5, 0, 0]);
    expect(b.authority.commands.rows()).toEqual(authority.commands.rows());
    expect(a.authority.commands.rows()).toEqual(authority.commands.rows());
    expect(authority.stats().commands).toMatchObject({ accepted: 6, replayed: 0, forged: 0 });
  });
});
