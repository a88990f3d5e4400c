/**
 * End-to-end fuzz: a hostile participant sends thousands of random and mutated authority and application
 * messages to a live server. Nothing throws, and no state it may not change moves: ownership, the command log,
 * roles, the host, who is connected, the replicated values. Clients get the same treatment from a hostile server.
 */
import { describe, expect, it } from 'vitest';
import { encodeControl } from '../../src/codec/message-frame.ts';
import { encodeBody } from '../../src/codec/msgpack-body.ts';
import { getNetContext } from '../../src/context.ts';
import { signCommand } from '../../src/authority/command-signing.ts';
import {
  clientIdOf,
  createKeyPair,
  createRandom,
  networkIdOf,
  ownerOf,
  Tag,
  type Random,
  Grabbable,
} from '../../src/index.ts';
import { tap } from '../helpers/decoder-tap.ts';
import { spawn } from '../helpers/fixture.ts';
import { createRoom, join, run, sendRaw } from './authority-harness.ts';

const commandTypes = { note: { policy: 'last-writer-wins' as const } };

function mutate(r: Random, bytes: Uint8Array): Uint8Array {
  const b = Uint8Array.from(bytes);
  const op = r.int(3);
  if (op === 0) for (let i = 1 + r.int(3); i > 0; i--) b[2 + r.int(Math.max(1, b.length - 2))] = r.int(256);
  if (op === 1) return b.subarray(0, 2 + r.int(Math.max(1, b.length - 2)));
  if (op === 2) b[2 + r.int(Math.max(1, b.length - 2))] ^= 1 << r.int(8);
  return b;
}

function randomField(r: Random): unknown {
  return [r.int(10), -1, 2 ** 40, 'admin', 'viewer', '', null, true, new Uint8Array(r.int(70)), [1, 2], { a: 1 }][
    r.int(11)
  ];
}

describe('authority fuzz', () => {
  it('a hostile participant changes nothing it may not change and crashes nothing', async () => {
    const { s, authority } = createRoom({
      seed: 91,
      server: { rateLimits: false },
      authority: () => ({ commandTypes }),
    });
    const admin = join(s, 'admin:ada', () => ({ commandTypes }));
    const a = join(s, 'participant:ann', () => ({ commandTypes }));
    const fuzz = join(s, 'participant:fuzz', () => ({ commandTypes }));
    await run(s, 10);
    const box = spawn(s.server, [s.server.Pose, Grabbable]);
    s.server.Pose.px[box] = 2;
    await run(s, 5);
    authority.grant(box, clientIdOf(a.world));
    a.authority.command('note', 'n', 'ann was here');
    await run(s, 10);
    const state = () => ({
      owner: ownerOf(s.server.world, box),
      seq: authority.authoritySeqOf(box),
      px: s.server.Pose.px[box],
      log: authority.commands.rows(),
      index: authority.commands.index,
      roles: [admin, a, fuzz].map((c) => authority.roleOf(clientIdOf(c.world))),
      host: authority.control.hostId,
      connected: serverPeers(s),
      annLog: a.authority.commands.rows(),
    });
    const before = state();
    expect(before.owner).toBe(clientIdOf(a.world));

    const r = createRandom(9191);
    const ctx = getNetContext(fuzz.world);
    if (ctx.role !== 'client' || !ctx.session.welcome) throw new Error('connected client expected');
    const stranger = createKeyPair();
    const e = {
      author: ctx.session.welcome.clientId,
      seq: 1,
      counter: 5,
      base: 0,
      type: 'note',
      target: 'n',
      payload: encodeBody('pwned'),
    };
    const forgedSig = signCommand(ctx.session.welcome.sessionId, e, stranger.secretKey);
    const netId = networkIdOf(s.server.world, box);
    const ids = [clientIdOf(admin.world), clientIdOf(a.world)];
    const seeds: Array<[number, Record<string, unknown>]> = [
      [Tag.OwnershipRequest, { netId, counter: 3 }],
      [Tag.OwnershipRelease, { netId, pose: [50, 50, 50, 0, 0, 0, 1] }],
      [Tag.CommandEntry, { s: 1, c: 5, b: 0, t: 'note', k: 'n', p: e.payload, g: forgedSig }],
      [Tag.RoleChange, { clientId: ids[0], role: 'viewer' }],
      [Tag.Kick, { clientId: ids[1], reason: 'x' }],
      [Tag.Ban, { clientId: ids[0], reason: 'x' }],
      [Tag.HostMigration, { clientId: ids[1] }],
      [Tag.Action, { opId: 1, action: { x: 1 } }],
      [Tag.NotifySubscribe, { domains: ['world'] }],
      [Tag.NotifyUnsubscribe, { domains: ['world'] }],
      [Tag.Signal, { to: 999, signal: { type: 'offer', sdp: 'v=0' } }],
      [Tag.Notify, { domain: 'world', event: 1 }],
      [Tag.CommandSnapshot, { i: 1, last: 0, r: [] }],
      [Tag.ActionOk, { opId: 1 }],
    ];
    const serverNet = getNetContext(s.server.world);
    if (serverNet.role !== 'server') throw new Error('server expected');
    // Inputs that reached the server's message handling past the session (the permission gate, then decoders).
    const reached = tap(serverNet.replicator, 'onMessage', () => 0);
    const decoded = serverNet.replicator.extensions
      .filter((x) => x.message)
      .map((x) => tap(x, 'message', (args) => args[1] as number));
    let sent = 0;
    for (let frame = 0; frame < 150; frame++) {
      for (let k = 0; k < 20; k++, sent++) {
        const [tag, body] = seeds[r.int(seeds.length)];
        const perturbed: Record<string, unknown> = { ...body };
        if (r.int(2) === 0) perturbed[Object.keys(body)[r.int(Object.keys(body).length)]] = randomField(r);
        let msg = encodeControl(r.int(10) === 0 ? 6000 + r.int(30) : tag, perturbed);
        if (r.int(2) === 0) msg = mutate(r, msg);
        sendRaw(fuzz, msg);
      }
      await run(s, 1);
    }
    await run(s, 20);
    expect(sent).toBe(3000);
    // The fuzzer stayed connected (limits off): what the permission gate let through reached the decoders.
    expect(reached.total()).toBeGreaterThan(2000);
    expect(Math.max(...decoded.map((d) => d.total()))).toBeGreaterThan(2000);
    expect(state()).toEqual(before);
    const stats = authority.stats();
    expect(stats.forbidden + stats.decodeErrors + stats.commands.forged).toBeGreaterThan(1000);
    expect(stats.commands.accepted).toBe(1);
    // Everyone is still served normally afterwards.
    a.authority.command('note', 'n', 'still fine');
    await run(s, 10);
    expect(admin.authority.commands.records.get('n')?.value).toBe('still fine');
  });

  it('a client survives a hostile server: garbage authority messages never throw', async () => {
    const { s, authority } = createRoom({ seed: 92, authority: () => ({ commandTypes }) });
    const c = join(s, 'participant:cy', () => ({ commandTypes }));
    await run(s, 10);
    const ctx = getNetContext(c.world);
    if (ctx.role !== 'client') throw new Error('client expected');
    const r = createRandom(9292);
    const tags = [6001, 6002, 6003, 6004, 6005, 6006, 6007, 6009, 6010, 5001, 5002, 5003, 4000, 3000];
    const bodies: unknown[] = [
      { netId: 1, reason: 'refused' },
      { i: 1, e: [[1, 1, 1, 0, 'note', 'n', encodeBody(1), new Uint8Array(64)]] },
      { i: 0, last: 0, r: [['n', 1, 1, 1, 0]] },
      { opId: 1, code: 'x', message: 'y' },
      { domain: 'world', event: null },
      { from: 1, signal: { type: 'answer', sdp: '' } },
      { clientId: 1, role: 'admin' },
    ];
    const hooks = ctx.replicator.extensions;
    for (let i = 0; i < 3000; i++) {
      let msg = encodeControl(tags[r.int(tags.length)], bodies[r.int(bodies.length)]);
      msg = mutate(r, msg);
      for (const x of hooks) expect(() => x.message?.(readTag(msg), msg, -1)).not.toThrow();
    }
    c.authority.subscribe('world');
    await run(s, 5);
    expect(authority.notify('world', 'hello')).toBe(1);
  });
});

function readTag(msg: Uint8Array): number {
  return msg[0] | (msg[1] << 8);
}

function serverPeers(s: { server: { world: object } }): number[] {
  const ctx = getNetContext(s.server.world);
  return ctx.role === 'server' ? [...ctx.session.peers.keys()].sort() : [];
}
