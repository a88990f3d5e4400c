/**
 * Hostile input to the session layer: thousands of seeded random and mutated handshake and control messages (and
 * raw packets) from many connections, before and after their handshake. The server never throws, cuts off the
 * offenders, leaves a well-behaved client's session and state untouched, and keeps serving it.
 */
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/codec/message-frame.ts';
import { encodeBody } from '../../src/codec/msgpack-body.ts';
import { getNetContext } from '../../src/context.ts';
import {
  clientIdOf,
  connectionStateOf,
  createRandom,
  entityOfNetworkId,
  networkIdOf,
  presenceOf,
  setOwner,
  Tag,
  type Random,
} from '../../src/index.ts';
import type { NetError } from '../../src/errors.ts';
import { PROTOCOL_VERSION } from '../../src/protocol/handshake.ts';
import { tap } from '../helpers/decoder-tap.ts';
import { dump, spawn, Stepper, type Peer } from '../helpers/fixture.ts';
import { RawPeer } from './session-harness.ts';

const CONTROL_TAGS = [
  Tag.Hello,
  Tag.Welcome,
  Tag.Ping,
  Tag.Pong,
  Tag.Error,
  Tag.Resync,
  Tag.Goodbye,
  Tag.Shutdown,
  Tag.Presence,
];

function randomValue(rnd: Random, depth = 0): unknown {
  switch (rnd.int(depth > 2 ? 6 : 9)) {
    case 0:
      return rnd.int(2) === 0;
    case 1:
      return rnd.int(2 ** 31) * (rnd.next() < 0.3 ? -1 : 1);
    case 2:
      return [Infinity, -Infinity, NaN, 1e300, -0, 2 ** 53 + 2][rnd.int(6)];
    case 3:
      return ['', 'active', 'away', 'x'.repeat(rnd.int(3000)), 'deflate', '\u0000\uffff'][rnd.int(6)];
    case 4:
      return null;
    case 5:
      return new Uint8Array(rnd.int(80)).map(() => rnd.int(256));
    case 6:
      return Array.from({ length: rnd.int(5) }, () => randomValue(rnd, depth + 1));
    default: {
      const keys = [
        'protocolVersion',
        'schemaHash',
        'capabilities',
        'clientPublicKey',
        'resumeToken',
        'resumeProof',
        'auth',
        'clientTime',
        'serverTime',
        'status',
        'code',
        'message',
        'fatal',
        'users',
        'reason',
        'zz',
      ];
      const o: Record<string, unknown> = {};
      for (let i = rnd.int(5); i > 0; i--) o[keys[rnd.int(keys.length)]] = randomValue(rnd, depth + 1);
      return o;
    }
  }
}

/** Valid control messages to mutate. */
function samples(schemaHash: string, token: string): Uint8Array[] {
  const hello = { protocolVersion: PROTOCOL_VERSION, schemaHash, capabilities: ['deflate', 'ed25519'] };
  return [
    encodeMessage(Tag.Hello, encodeBody(hello)),
    encodeMessage(Tag.Hello, encodeBody({ ...hello, resumeToken: token, clientPublicKey: new Uint8Array(32) })),
    encodeMessage(Tag.Ping, encodeBody({ clientTime: 12345.5 })),
    encodeMessage(Tag.Pong, encodeBody({ clientTime: 1, serverTime: 2 })),
    encodeMessage(Tag.Presence, encodeBody({ status: 'idle' })),
    encodeMessage(Tag.Error, encodeBody({ code: 5, message: 'oops', fatal: true })),
    encodeMessage(Tag.Goodbye, encodeBody({})),
    encodeMessage(Tag.Subscribe, encodeBody({ scope: 'room' })),
  ];
}

function mutate(rnd: Random, base: Uint8Array): Uint8Array {
  const m = base.slice();
  switch (rnd.int(4)) {
    case 0: // bit flips anywhere but the tag
      for (let k = 1 + rnd.int(4); k > 0; k--) m[2 + rnd.int(Math.max(1, m.length - 2))] ^= 1 << rnd.int(8);
      return m;
    case 1: // truncation
      return m.subarray(0, rnd.int(m.length + 1));
    case 2: {
      // random tail
      const out = new Uint8Array(m.length + 1 + rnd.int(20));
      out.set(m);
      for (let i = m.length; i < out.length; i++) out[i] = rnd.int(256);
      return out;
    }
    default: // same body under another tag
      m[0] = rnd.int(256);
      m[1] = rnd.int(2) === 0 ? 0 : rnd.int(256);
      return m;
  }
}

describe('session under hostile input', () => {
  it('never crashes, never touches a well-behaved client, and keeps serving it', async () => {
    const s = new Stepper({ seed: 61 });
    const good = s.addClient({ latencyMs: 10 });
    const others: Peer[] = [];
    s.run(20);
    const goodId = clientIdOf(good.world);
    const hand = spawn(s.server, [s.server.Pose]);
    for (let i = 0; i < 10; i++) s.server.Ints.u32[spawn(s.server, [s.server.Ints])] = i * 7;
    setOwner(s.server.world, hand, goodId);
    s.run(20);
    const onGood = entityOfNetworkId(good.world, networkIdOf(s.server.world, hand));
    const ctx = getNetContext(good.world);
    if (ctx.role !== 'client') throw new Error('client expected');
    const token = ctx.session.welcome!.resumeToken;
    const base = samples(s.server.protocol.schemaHash, token);

    const serverNet = getNetContext(s.server.world);
    if (serverNet.role !== 'server') throw new Error('server expected');
    // Inputs that reached each session decoder: Hello, the control bodies (by name), and the layer above.
    const hellos = tap(serverNet.session.hello, 'onHello');
    const bodies = tap(serverNet.session.control, 'body', (args) => args[3] as string);
    const above = tap(serverNet.replicator, 'onMessage');
    const rnd = createRandom(6161);
    const attackers: RawPeer[] = [];
    const all: RawPeer[] = [];
    let opened = 0;
    const open = (): RawPeer => {
      const raw = new RawPeer(s.network.connect(), s.clock, {});
      all.push(raw);
      opened++;
      // Half of them complete a valid handshake first, so their garbage reaches the connected-peer paths.
      if (rnd.next() < 0.5) raw.connection.sendReliable(base[0]);
      return raw;
    };
    for (let i = 0; i < 6; i++) attackers.push(open());

    let frame = 0;
    let sent = 0;
    const move = (p: Peer, isServer: boolean) => {
      if (!isServer && p === good) good.Pose.px[onGood] = (frame % 200) / 8;
    };
    for (let i = 0; i < 8000; i++) {
      const k = rnd.int(attackers.length);
      if (!attackers[k].connection.isOpen) attackers[k] = open();
      const a = attackers[k];
      const r = rnd.next();
      let m: Uint8Array | null;
      if (r < 0.35) m = mutate(rnd, base[rnd.int(base.length)]);
      else if (r < 0.6) {
        const tag = CONTROL_TAGS[rnd.int(CONTROL_TAGS.length)];
        m = encodeMessage(tag, encodeBody(randomValue(rnd)));
      } else if (r < 0.75) {
        m = new Uint8Array(rnd.int(60)).map(() => rnd.int(256));
      } else if (r < 0.85) {
        const tag = rnd.int(65536);
        m = encodeMessage(
          tag,
          new Uint8Array(rnd.int(40)).map(() => rnd.int(256)),
        );
      } else {
        // A raw packet straight onto the link, under the connection layer.
        const p = new Uint8Array(1 + rnd.int(1200)).map(() => rnd.int(256));
        if (rnd.next() < 0.5) p[0] = 0xec;
        a.link.send(p);
        m = null;
      }
      if (m !== null) {
        if (rnd.next() < 0.5 && m.length < 1000) a.connection.sendUnreliable(m);
        else a.connection.sendReliable(m);
        a.connection.flush();
      }
      sent++;
      if (i % 25 === 0) {
        frame++;
        expect(() => s.step(move)).not.toThrow();
        for (const x of attackers) x.receive();
        await Promise.resolve();
      }
    }
    s.run(120, move);
    const lastPx = good.Pose.px[onGood];
    s.run(60);

    expect(sent).toBe(8000);
    // With the limits on, offenders are cut off quickly: only a share of the inputs reach a decoder (the test
    // below feeds each decoder thousands with the limits off).
    expect(hellos.total()).toBeGreaterThan(300);
    expect(bodies.total()).toBeGreaterThan(100);
    expect(above.total()).toBeGreaterThan(0);
    expect(opened).toBeGreaterThan(20); // offenders were cut off and came back
    expect(s.server.errors.some((e) => (e as NetError).code === 'DecodeError')).toBe(true);
    // Many got in (so their garbage reached the connected paths) and were then cut off with a fatal error.
    const welcomed = all.filter((a) => a.messages(Tag.Welcome).length > 0).length;
    const cutOff = all.filter((a) => a.fatalError() !== undefined).length;
    expect(welcomed).toBeGreaterThan(10);
    expect(cutOff).toBeGreaterThan(10);
    // The well-behaved client: same session, never an error, its writes still land, its state matches a fresh client.
    expect(connectionStateOf(good.world)).toBe('connected');
    expect(clientIdOf(good.world)).toBe(goodId);
    expect(ctx.session.lastError).toBeNull();
    expect(ctx.session.welcome!.resumed).toBe(false);
    expect(s.server.Pose.px[hand]).toBe(lastPx);
    const me = presenceOf(s.server.world).find((u) => u.clientId === goodId)!;
    expect(me).toMatchObject({ status: 'active', role: 'participant', suspended: false });
    const fresh = s.addClient();
    others.push(fresh);
    s.run(60);
    expect(dump(good)).toEqual(dump(fresh));
    // Nobody could resume the good client's session with its token (they lack its key).
    const serverCtx = getNetContext(s.server.world);
    if (serverCtx.role !== 'server') throw new Error('server expected');
    expect(serverCtx.session.peers.get(goodId)!.counters.resumes).toBe(0);
  });

  it('feeds every session decoder thousands of inputs (limits off for the test, a fresh peer per Hello)', () => {
    const s = new Stepper({ seed: 62, server: () => ({ rateLimits: false }) });
    s.run(5);
    const serverNet = getNetContext(s.server.world);
    if (serverNet.role !== 'server') throw new Error('server expected');
    const hellos = tap(serverNet.session.hello, 'onHello');
    const bodies = tap(serverNet.session.control, 'body', (args) => args[3] as string);
    const above = tap(serverNet.replicator, 'onMessage', (args) => args[1] as number);
    const base = samples(s.server.protocol.schemaHash, 'AAAAAAAAAAAAAAAAAAAAAA');
    const rnd = createRandom(6262);
    const withTag = (tag: number, m: Uint8Array): Uint8Array => {
      const out = new Uint8Array(Math.max(2, m.length));
      out.set(m.subarray(0, out.length));
      out[0] = tag & 0xff;
      out[1] = tag >> 8;
      return out;
    };

    // 1. The Hello decoder: every fresh peer's first message is a mutated or random Hello.
    const HELLOS = 1500;
    for (let i = 0; i < HELLOS; i++) {
      const raw = new RawPeer(s.network.connect(), s.clock, {});
      const m =
        rnd.next() < 0.6 ? mutate(rnd, base[rnd.int(2)]) : encodeMessage(Tag.Hello, encodeBody(randomValue(rnd)));
      raw.connection.sendReliable(withTag(Tag.Hello, m));
      raw.connection.flush();
      s.step();
      raw.receive();
      raw.connection.close();
    }
    s.run(10);
    expect(hellos.total()).toBeGreaterThanOrEqual(HELLOS * 0.9);

    // 2. Control bodies and the layer above: a connected peer sends thousands (replaced if its session ends).
    const tags = [Tag.Ping, Tag.Pong, Tag.Presence, Tag.Error, Tag.Subscribe];
    const sentByTag = new Map<number, number>();
    let peer: RawPeer | null = null;
    for (let i = 0; i < 5000; i++) {
      if (peer === null || !peer.connection.isOpen) {
        peer = new RawPeer(s.network.connect(), s.clock, {});
        peer.connection.sendReliable(base[0]);
        peer.connection.flush();
        s.run(5);
        peer.receive();
        expect(peer.messages(Tag.Welcome).length).toBe(1);
      }
      const tag = tags[rnd.int(tags.length)];
      const sample = base.find((b) => (b[0] | (b[1] << 8)) === tag);
      const m =
        sample && rnd.next() < 0.5
          ? withTag(tag, mutate(rnd, sample))
          : encodeMessage(tag, encodeBody(randomValue(rnd)));
      peer.connection.sendReliable(m);
      sentByTag.set(tag, (sentByTag.get(tag) ?? 0) + 1);
      if (i % 20 === 0) {
        peer.connection.flush();
        s.step();
        peer.receive();
      }
    }
    peer!.connection.flush();
    s.run(20);
    for (const [tag, name] of [
      [Tag.Ping, 'Ping'],
      [Tag.Pong, 'Pong'],
      [Tag.Presence, 'Presence'],
      [Tag.Error, 'Error'],
    ] as const)
      expect(bodies.get(name), name).toBeGreaterThanOrEqual(sentByTag.get(tag)!);
    expect(above.get(Tag.Subscribe)).toBe(sentByTag.get(Tag.Subscribe));
    expect(sentByTag.get(Tag.Subscribe)).toBeGreaterThan(800);
  });
});
