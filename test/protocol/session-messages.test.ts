/** Validators of the session's control bodies: valid shapes pass through, anything else is null, nothing throws. */
import { describe, expect, it } from 'vitest';
import { decodeBody, encodeBody } from '../../src/codec/msgpack-body.ts';
import { createRandom, type Random } from '../../src/random.ts';
import { parseErrorBody, parseHello, parseWelcome, PROTOCOL_VERSION } from '../../src/protocol/handshake.ts';
import {
  parseFarewell,
  parsePresence,
  parsePresenceStatus,
  parseTimeBody,
  type PresenceUser,
} from '../../src/protocol/session-messages.ts';

const roundTrip = (v: unknown) => {
  const d = decodeBody(encodeBody(v));
  if (!d.ok) throw new Error(d.error);
  return d.value;
};

const user: PresenceUser = {
  clientId: 3,
  userId: 'ada',
  role: 'admin',
  status: 'idle',
  connectedAt: 1234.5,
  suspended: true,
};

describe('session message validators', () => {
  it('accept the shapes the session sends', () => {
    expect(parseTimeBody(roundTrip({ clientTime: 1.5 }))).toEqual({ clientTime: 1.5 });
    expect(parseTimeBody(roundTrip({ clientTime: 1, serverTime: -2 }))).toEqual({ clientTime: 1, serverTime: -2 });
    expect(parsePresence(roundTrip({ full: true, users: [user], left: [] }))).toEqual({
      full: true,
      users: [user],
      left: [],
    });
    expect(parsePresence(roundTrip({ left: [4, 5] }))).toEqual({ full: false, users: [], left: [4, 5] });
    expect(parsePresenceStatus(roundTrip({ status: 'away' }))).toEqual({ status: 'away' });
    expect(parseFarewell(roundTrip({}))).toBe('');
    expect(parseFarewell(roundTrip({ reason: 'bye' }))).toBe('bye');
    const proof = new Uint8Array(64).fill(7);
    const hello = {
      protocolVersion: PROTOCOL_VERSION,
      schemaHash: 'abc',
      capabilities: ['deflate'],
      clientPublicKey: new Uint8Array(32),
      resumeToken: 'ff',
      resumeProof: proof,
    };
    expect(parseHello(roundTrip(hello))).toEqual(hello);
    const welcome = {
      clientId: 1,
      sessionId: 's1',
      role: 'participant',
      capabilities: [],
      serverTime: 5,
      resumeToken: 'aa',
      sendRateHz: 30,
      resumed: true,
      resumeWindowMs: 60000,
      userId: 'u',
    };
    expect(parseWelcome(roundTrip(welcome))).toEqual(welcome);
    // An older server without the newer fields still parses.
    const { resumed: _r, resumeWindowMs: _w, userId: _u, ...old } = welcome;
    expect(parseWelcome(roundTrip(old))).toMatchObject({ resumed: false, resumeWindowMs: 0 });
  });

  it('refuse wrong shapes', () => {
    expect(parseTimeBody(roundTrip({}))).toBeNull();
    expect(parseTimeBody(roundTrip({ clientTime: 'now' }))).toBeNull();
    expect(parseTimeBody(roundTrip([1, 2]))).toBeNull();
    expect(parsePresence(roundTrip({ users: [{ ...user, status: 'asleep' }] }))).toBeNull();
    expect(parsePresence(roundTrip({ users: [{ ...user, clientId: 0 }] }))).toBeNull();
    expect(parsePresence(roundTrip({ users: [{ ...user, userId: 'x'.repeat(300) }] }))).toBeNull();
    expect(parsePresence(roundTrip({ left: [-1] }))).toBeNull();
    expect(parsePresence(roundTrip({ full: 1 }))).toBeNull();
    expect(parsePresenceStatus(roundTrip({ status: 'ACTIVE' }))).toBeNull();
    expect(parseFarewell(roundTrip({ reason: 5 }))).toBeNull();
    const hello = { protocolVersion: 1, schemaHash: 'abc', capabilities: [] };
    expect(parseHello(roundTrip({ ...hello, resumeProof: new Uint8Array(63) }))).toBeNull();
    expect(parseHello(roundTrip({ ...hello, clientPublicKey: new Uint8Array(33) }))).toBeNull();
    expect(
      parseWelcome(
        roundTrip({
          clientId: 1,
          sessionId: 's',
          role: 'r',
          capabilities: [],
          serverTime: 1,
          resumeToken: '',
          sendRateHz: 1,
          resumed: 'yes',
        }),
      ),
    ).toBeNull();
  });

  it('never throw on thousands of random values', () => {
    const rnd = createRandom(404);
    const value = (r: Random, depth: number): unknown => {
      switch (r.int(depth > 3 ? 5 : 8)) {
        case 0:
          return r.next() * 1e6 - 5e5;
        case 1:
          return ['active', 'idle', 'away', '', 'x'][r.int(5)];
        case 2:
          return r.int(2) === 0;
        case 3:
          return null;
        case 4:
          return new Uint8Array(r.int(70));
        case 5:
          return Array.from({ length: r.int(4) }, () => value(r, depth + 1));
        default: {
          const keys = [
            'clientTime',
            'serverTime',
            'users',
            'left',
            'full',
            'status',
            'clientId',
            'role',
            'connectedAt',
            'suspended',
            'userId',
            'reason',
            'protocolVersion',
            'schemaHash',
            'resumeProof',
            'resumed',
            'code',
          ];
          const o: Record<string, unknown> = {};
          for (let i = r.int(6); i > 0; i--) o[keys[r.int(keys.length)]] = value(r, depth + 1);
          return o;
        }
      }
    };
    const parsers = [
      parseTimeBody,
      parsePresence,
      parsePresenceStatus,
      parseFarewell,
      parseHello,
      parseWelcome,
      parseErrorBody,
    ];
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const v = value(rnd, 0);
      for (const parse of parsers) {
        const out = parse(v);
        if (out !== null) accepted++;
      }
    }
    // Some random maps are valid Ping/Presence/Goodbye bodies; the rest are refused without a throw.
    expect(accepted).toBeGreaterThan(100);
  });
});
