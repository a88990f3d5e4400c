/**
 * Attack: awareness floods. A modified client writes AwarenessSet / AwarenessMotion messages straight into its
 * connection: far above the per-user rate, oversize, undecodable, with a list above its maxItems, or naming fields
 * that do not exist. The server must hold each bound (accepted messages <= burst + rate x time, no body above the
 * size decoded, one record per user), count and report every refusal with its code, disconnect a repeat offender,
 * and keep relaying honest users' awareness as if nothing happened.
 */
import { describe, expect, it } from 'vitest';
import { getNetContext } from '../../src/context.ts';
import { encodeControl, encodeMessage } from '../../src/codec/message-frame.ts';
import { Tag } from '../../src/protocol/tags.ts';
import {
  clientIdOf,
  connectionStateOf,
  createClientAwareness,
  createServerAwareness,
  type ClientAwareness,
} from '../../src/index.ts';
import { Stepper, type Peer } from '../helpers/fixture.ts';
import { roomAwareness } from '../awareness/schema-fixture.ts';
import { codes } from './honest-room.ts';

/** Above an honest client's 30 Hz cursor, far below the flood's 480 messages/s. */
const RATE_HZ = 40;
const BURST = 80;
const MAX_BYTES = 256;

function send(attacker: Peer, message: Uint8Array, reliable: boolean): void {
  const ctx = getNetContext(attacker.world);
  const conn = ctx.role === 'client' ? ctx.session.connection : null;
  if (!conn) throw new Error('attacker is not connected');
  if (reliable) conn.sendReliable(message);
  else conn.sendUnreliable(message);
}

function setup() {
  const s = new Stepper({ seed: 17 });
  const server = createServerAwareness(s.server.world, {
    schema: roomAwareness,
    maxRateHz: RATE_HZ,
    burst: BURST,
    maxRecordBytes: MAX_BYTES,
    offenderDrops: 10,
  });
  const honest: Array<{ peer: Peer; aw: ClientAwareness }> = [0, 1].map(() => {
    const peer = s.addClient({ latencyMs: 20, loss: 0.05 });
    return { peer, aw: createClientAwareness(peer.world, { schema: roomAwareness }) };
  });
  const attacker = s.addClient({ latencyMs: 10 });
  s.run(30);
  return { s, server, honest, attacker };
}

/** Honest users keep sharing: A moves and switches tools; B must see A's latest of both. */
function honestPlay(honest: Array<{ peer: Peer; aw: ClientAwareness }>, frame: number): void {
  const [a] = honest;
  a.aw.set({ cursor: [frame / 100, 1, 0] });
  if (frame % 30 === 0) a.aw.set({ tool: frame % 60 === 0 ? 'move' : 'draw', selection: [frame] });
}

describe('attack: awareness flood', () => {
  it('holds the per-user rate, reports the offender, and honest awareness flows on', () => {
    const { s, server, honest, attacker } = setup();
    const FRAMES = 300; // 5 s at 60 Hz
    let sent = 0;
    for (let f = 1; f <= FRAMES; f++) {
      honestPlay(honest, f);
      // 8 well-formed motions per frame: 480/s, 24x the allowed rate (under the session's 1,000 messages/s).
      for (let k = 0; k < 8; k++) {
        sent++;
        send(attacker, encodeControl(Tag.AwarenessMotion, { s: sent, c: [[k, k, k]] }), false);
      }
      s.step();
    }
    s.run(60);
    const st = server.stats();
    const seconds = (FRAMES + 60) / 60;
    // The attacker's accepted motions (all but the honest user's) never pass burst + rate x time; the rest were
    // dropped before decoding.
    const a0 = honest[0].aw.stats();
    const attackerAccepted = st.motionAccepted + st.motionStale - (a0.motionSent + a0.restCopies);
    expect(attackerAccepted).toBeLessThanOrEqual(BURST + RATE_HZ * seconds);
    expect(attackerAccepted).toBeGreaterThan(RATE_HZ * seconds * 0.8);
    expect(st.rateLimited).toBeGreaterThanOrEqual(sent - (BURST + RATE_HZ * seconds));
    expect(st.offences).toBeGreaterThan(0);
    expect(codes(s.server)).toContain('RateLimited');
    expect(st.records).toBe(2); // one per user that set something: A and the attacker
    // The honest pair is untouched: B shows A's latest cursor and tool exactly.
    const [a, b] = honest;
    const seen = b.aw.get(clientIdOf(a.peer.world));
    expect(seen?.tool).toBe('move');
    expect(seen?.selection).toEqual([300]);
    expect((seen?.cursor as number[])[0]).toBeCloseTo(3, 6);
    for (const h of honest) expect(codes(h.peer)).toEqual([]);
  });

  it('refuses oversize, undecodable, long-list and unknown-field bodies with their codes, then drops the offender', () => {
    const { s, server, honest, attacker } = setup();
    const attackerId = clientIdOf(attacker.world);
    const [a, b] = honest;
    const bSeesAttacker: string[] = [];
    b.aw.events.on('cleared', (id, why) => id === attackerId && bSeesAttacker.push(why));
    // The attacker first sets a valid record, which the honest users see.
    send(attacker, encodeControl(Tag.AwarenessSet, { d: [[fieldIndex('talking'), true]] }), true);
    s.run(20);
    expect(b.aw.get(attackerId)).toEqual({ talking: true });

    const hostile = [
      // Oversize: a body above maxRecordBytes is refused by its length, never decoded.
      encodeMessage(Tag.AwarenessSet, new Uint8Array(MAX_BYTES + 1).fill(0x90)),
      // Undecodable MessagePack (a map header promising entries that are not there).
      encodeMessage(Tag.AwarenessSet, Uint8Array.of(0x8f, 0x01)),
      // A selection of 9 ids where the schema allows 8.
      encodeControl(Tag.AwarenessSet, { d: [[fieldIndex('selection'), [1, 2, 3, 4, 5, 6, 7, 8, 9]]] }),
      // A field index the schema does not have, and a continuous field sent as discrete.
      encodeControl(Tag.AwarenessSet, { d: [[40, 1]] }),
      encodeControl(Tag.AwarenessSet, { d: [[fieldIndex('cursor'), [0, 0, 0]]] }),
      // A motion with the wrong number of slots.
      encodeControl(Tag.AwarenessMotion, { s: 1, c: [] }),
    ];
    for (const m of hostile) send(attacker, m, true);
    s.run(10);
    const st = server.stats();
    expect(st.oversize).toBe(1);
    expect(st.malformed).toBe(1);
    expect(st.listTooLong).toBe(1);
    expect(st.invalid).toBe(3);
    const serverCodes = codes(s.server);
    for (const code of ['Oversize', 'DecodeError', 'AwarenessInvalid']) expect(serverCodes).toContain(code);
    // The refused bodies changed nothing.
    expect(server.get(attackerId)).toEqual({ talking: true });

    // Keep sending bad bodies: past the session's decode-error limit the attacker is disconnected and cleared.
    for (let f = 0; f < 20; f++) {
      if (connectionStateOf(attacker.world) === 'connected') send(attacker, hostile[1], true);
      s.step((p) => p === a.peer && a.aw.set({ cursor: [f / 10, 0, 0] }));
    }
    s.run(30);
    expect(['closed', 'error', 'reconnecting']).toContain(connectionStateOf(attacker.world));
    expect(server.get(attackerId)).toBeUndefined();
    expect(bSeesAttacker).toEqual(['left']);
    expect(server.users()).toEqual([clientIdOf(a.peer.world)]);
    // Honest awareness flowed on meanwhile.
    expect((b.aw.get(clientIdOf(a.peer.world))?.cursor as number[])[0]).toBeCloseTo(1.9, 6);
    for (const h of honest) expect(codes(h.peer)).toEqual([]);
  });

  it('a client drops and reports malformed awareness from a hostile server and keeps its records bounded', () => {
    const { s, honest } = setup();
    const [a, b] = honest;
    a.aw.set({ tool: 'move' });
    s.run(20);
    const ctx = getNetContext(s.server.world);
    if (ctx.role !== 'server') throw new Error('server expected');
    const toB = ctx.session.peers.get(clientIdOf(b.peer.world))!.connection;
    const bad = [
      encodeMessage(Tag.AwarenessUpdate, Uint8Array.of(0xc1)), // not MessagePack
      encodeControl(Tag.AwarenessUpdate, { u: -1, d: [[0, 1]] }),
      encodeControl(Tag.AwarenessMotionRelay, { u: 5, s: 1, c: [[1e9, 0, 0]] }),
      encodeControl(Tag.AwarenessClear, { u: 5, r: 'vanished' }),
      encodeControl(Tag.AwarenessSnapshot, { h: 'x', r: Array.from({ length: 65 }, () => [1, 0, [], [null]]) }),
    ];
    for (const m of bad) toB.sendReliable(m);
    s.run(10);
    expect(b.aw.stats().malformed).toBe(bad.length);
    expect(codes(b.peer).filter((c) => c === 'DecodeError' || c === 'AwarenessInvalid')).toHaveLength(bad.length);
    expect(b.aw.stats().schemaMismatch).toBe(false);
    expect(b.aw.get(clientIdOf(a.peer.world))).toEqual({ tool: 'move' });
    // Unknown users the server names are held only up to maxRecords (default 1,024 here: 1,100 named).
    for (let u = 10_000; u < 11_100; u++)
      toB.sendReliable(encodeControl(Tag.AwarenessUpdate, { u, d: [[fieldIndex('talking'), true]] }));
    s.run(20);
    expect(b.aw.users().length).toBe(1024);
    expect(b.aw.stats().recordsRefused).toBe(1100 - 1023);
    a.aw.set({ tool: 'draw' });
    s.run(20);
    expect(b.aw.get(clientIdOf(a.peer.world))?.tool).toBe('draw');
  });
});

/** Wire index of a field: fields are ordered by name. */
function fieldIndex(name: string): number {
  return Object.keys(roomAwareness).sort().indexOf(name);
}
