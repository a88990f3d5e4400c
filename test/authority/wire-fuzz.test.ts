/**
 * Fuzz of every authority and application decoder: thousands of seeded random and mutated bodies never throw,
 * and whatever a decoder accepts is within its documented ranges.
 */
import { describe, expect, it } from 'vitest';
import * as app from '../../src/authority/app-wire.ts';
import * as auth from '../../src/authority/authority-wire.ts';
import * as cmd from '../../src/authority/command-wire.ts';
import { encodeControl } from '../../src/codec/message-frame.ts';
import { readBody } from '../../src/codec/msgpack-body.ts';
import { createRandom, type Random } from '../../src/random.ts';

const sig = new Uint8Array(64).fill(3);
const payload = new Uint8Array([0x93, 1, 2, 3]);

/** A valid body of each message, and its decoder. */
const CASES: Array<[string, unknown, (v: unknown) => unknown]> = [
  ['OwnershipRequest', { netId: 5, counter: 9 }, auth.parseOwnershipRequest],
  ['OwnershipRelease', { netId: 5, pose: [0, 1, 2, 0, 0, 0, 1] }, auth.parseOwnershipRelease],
  ['OwnershipRevoke', { netId: 5, reason: 'queued' }, auth.parseOwnershipRevoke],
  ['RoleChange', { clientId: 2, role: 'viewer' }, auth.parseRoleChange],
  ['Kick', { clientId: 2, reason: 'spam' }, auth.parseRemoval],
  ['HostMigration', { clientId: 3 }, auth.parseHostMigration],
  ['Action', { opId: 4, action: { kind: 'paint', color: [1, 2, 3] } }, app.parseAction],
  ['Progress', { opId: 4, percent: 50, message: 'half' }, app.parseProgress],
  ['ActionOk', { opId: 4, result: { ok: true } }, app.parseActionOk],
  ['ActionErr', { opId: 4, code: 'nope', message: 'no' }, app.parseActionErr],
  ['Notify', { domain: 'world', event: { a: 1 }, correlationId: 4 }, app.parseNotify],
  ['NotifySubscribe', { domains: ['world', 'rewards'] }, app.parseDomains],
  [
    'SignalOut',
    { to: 2, signal: { type: 'candidate', candidate: 'c', sdpMid: '0', sdpMLineIndex: 1 } },
    app.parseSignalOut,
  ],
  ['SignalIn', { from: 2, signal: { type: 'offer', sdp: 'v=0' } }, app.parseSignalIn],
  [
    'CommandEntry',
    { s: 1, c: 2, b: 0, t: 'select', k: 'sel:1', p: payload, g: sig },
    (v) => cmd.parseCommandEntry(v, 7),
  ],
  ['CommandBatch', { i: 3, e: [[7, 1, 2, 0, 'select', 'sel:1', payload, sig]] }, cmd.parseCommandBatch],
  ['CommandReject', { s: 1, reason: 'forged' }, cmd.parseCommandReject],
  ['CommandSnapshot', { i: 3, last: 1, r: [['sel:1', [1, 2], 2, 7, 3]] }, cmd.parseCommandSnapshot],
];

function randomValue(r: Random, depth: number): unknown {
  switch (r.int(depth > 2 ? 7 : 9)) {
    case 0:
      return r.int(2) === 0 ? r.int(1000) : r.range(-1e12, 1e12);
    case 1:
      return ['', 'world', 'viewer', 'admin', 'offer', 'candidate', 'x'.repeat(r.int(300)), '\u0000'][r.int(8)];
    case 2:
      return r.int(2) === 0;
    case 3:
      return null;
    case 4:
      return new Uint8Array(r.int(80)).map(() => r.int(256));
    case 5:
      return [-1, 0, 1, 2 ** 32, 2 ** 53, -0, 0.5, NaN][r.int(8)];
    case 6:
      return undefined;
    case 7:
      return Array.from({ length: r.int(9) }, () => randomValue(r, depth + 1));
    default: {
      const keys = ['netId', 'counter', 'pose', 'reason', 'clientId', 'role', 'opId', 'action', 'percent', 'message'];
      const more = ['code', 'result', 'domain', 'event', 'domains', 'to', 'from', 'signal', 's', 'c', 'b', 't', 'k'];
      const all = [...keys, ...more, 'p', 'g', 'i', 'e', 'last', 'r', 'type', 'sdp', 'candidate', 'correlationId'];
      const o: Record<string, unknown> = {};
      for (let i = r.int(8); i > 0; i--) o[all[r.int(all.length)]] = randomValue(r, depth + 1);
      return o;
    }
  }
}

/** Replaces some fields of a valid body with random values. */
function perturb(r: Random, body: unknown): unknown {
  if (Array.isArray(body)) return body.map((x) => (r.int(4) === 0 ? randomValue(r, 1) : perturb(r, x)));
  if (body === null || typeof body !== 'object' || body instanceof Uint8Array)
    return r.int(3) === 0 ? randomValue(r, 1) : body;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body))
    if (r.int(6) !== 0) out[k] = r.int(3) === 0 ? randomValue(r, 1) : perturb(r, v);
  return out;
}

function mutateBytes(r: Random, bytes: Uint8Array): Uint8Array {
  const b = Uint8Array.from(bytes);
  switch (r.int(4)) {
    case 0:
      for (let i = 1 + r.int(4); i > 0; i--) b[2 + r.int(Math.max(1, b.length - 2))] = r.int(256);
      return b;
    case 1:
      return b.subarray(0, 2 + r.int(Math.max(1, b.length - 2)));
    case 2: {
      const at = 2 + r.int(Math.max(1, b.length - 2));
      const extra = new Uint8Array(1 + r.int(6)).map(() => r.int(256));
      const out = new Uint8Array(b.length + extra.length);
      out.set(b.subarray(0, at));
      out.set(extra, at);
      out.set(b.subarray(at), at + extra.length);
      return out;
    }
    default:
      return new Uint8Array(2 + r.int(64)).map(() => r.int(256));
  }
}

/** Ranges every accepted value must respect. */
function checkAccepted(name: string, v: Record<string, unknown>): void {
  const ids = ['netId', 'clientId', 'opId', 'to', 'from'];
  for (const k of ids) if (k in v && name !== 'HostMigration') expect(v[k], `${name}.${k}`).toBeGreaterThan(0);
  for (const k of ids) if (k in v) expect(v[k] as number, `${name}.${k}`).toBeLessThanOrEqual(auth.MAX_ID);
  if ('percent' in v && v.percent !== undefined) {
    expect(v.percent as number).toBeGreaterThanOrEqual(0);
    expect(v.percent as number).toBeLessThanOrEqual(100);
  }
  if ('pose' in v && v.pose !== undefined) {
    expect(v.pose).toHaveLength(7);
    for (const x of v.pose as number[]) expect(Number.isFinite(x)).toBe(true);
  }
  if ('reason' in v && typeof v.reason === 'string')
    expect(v.reason.length).toBeLessThanOrEqual(auth.MAX_REASON_LENGTH);
  if ('role' in v) expect(['viewer', 'participant', 'admin']).toContain(v.role);
  if ('domains' in v) for (const d of v.domains as string[]) expect(d.length).toBeGreaterThan(0);
  if ('seq' in v && name === 'CommandEntry') expect(v.seq as number).toBeGreaterThan(0);
}

describe('authority decoders', () => {
  it('accept their valid bodies', () => {
    for (const [name, body, parse] of CASES) expect(readBody(encodeControl(1, body), parse), name).not.toBeNull();
  });

  it('never throw on thousands of random, perturbed and byte-mutated bodies; what they accept is in range', () => {
    const r = createRandom(2024);
    let accepted = 0;
    let total = 0;
    for (const [name, body, parse] of CASES) {
      const valid = encodeControl(1, body);
      for (let i = 0; i < 600; i++) {
        let msg: Uint8Array;
        const kind = i % 3;
        if (kind === 0) msg = encodeControl(1, randomValue(r, 0) ?? null);
        else if (kind === 1) msg = encodeControl(1, perturb(r, body) ?? null);
        else msg = mutateBytes(r, valid);
        total++;
        let out: unknown;
        expect(() => (out = readBody(msg, parse)), name).not.toThrow();
        if (out !== null && out !== undefined) {
          accepted++;
          if (typeof out === 'object' && !(out instanceof Uint8Array))
            checkAccepted(name, out as Record<string, unknown>);
        }
      }
    }
    expect(total).toBe(CASES.length * 600);
    // Perturbation keeps some bodies valid, so acceptance is exercised too, but far from everything passes.
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(total / 2);
  });

  it('cut long strings and refuse oversized lists', () => {
    const long = 'x'.repeat(5000);
    expect(readBody(encodeControl(1, { clientId: 2, reason: long }), auth.parseRemoval)?.reason.length).toBe(
      auth.MAX_REASON_LENGTH,
    );
    const domains = Array.from({ length: app.MAX_DOMAINS_PER_MESSAGE + 1 }, (_, i) => `d${i}`);
    expect(readBody(encodeControl(1, { domains }), app.parseDomains)).toBeNull();
    expect(readBody(encodeControl(1, { opId: 1, percent: -5 }), app.parseProgress)?.percent).toBe(0);
    expect(readBody(encodeControl(1, { opId: 1, percent: 1e9 }), app.parseProgress)?.percent).toBe(100);
    expect(
      readBody(encodeControl(1, { to: 2, signal: { type: 'offer', sdp: 'x'.repeat(70_000) } }), app.parseSignalOut),
    ).toBeNull();
  });
});
