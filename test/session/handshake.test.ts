/** Hello → Welcome or a fatal Error: version, schema, authorize (sync and async), bans, malformed Hellos, timeouts. */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import { PROTOCOL_VERSION } from '../../src/protocol/handshake.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { toHex } from '../../src/session/identity.ts';
import { HANDSHAKE_TIMEOUT_MS } from '../../src/session/session-options.ts';
import { SessionRig } from './session-harness.ts';

describe('handshake', () => {
  it('welcomes a client with id, session, role, granted capabilities, server key, server time and a token', async () => {
    const rig = new SessionRig();
    const c = rig.addClient({ capabilities: ['deflate', 'ed25519', 'telepathy'] });
    await rig.run(100);
    const w = c.session.welcome!;
    expect(c.session.state).toBe('connected');
    expect(c.states).toEqual(['connecting', 'connected']);
    expect(w.clientId).toBe(1);
    expect(w.sessionId).toBe(rig.server.sessionId);
    expect(w.role).toBe('participant');
    expect(w.capabilities).toEqual(['deflate', 'ed25519']);
    expect(w.serverPublicKey).toEqual(rig.server.keyPair.publicKey);
    expect(w.resumeToken).toMatch(/^[0-9a-f]{32}$/);
    expect(w.resumed).toBe(false);
    expect(w.resumeWindowMs).toBe(60_000);
    expect(Math.abs(w.serverTime - rig.clock.now())).toBeLessThan(100);
    expect(rig.log.events).toEqual(['joined 1']);
    // The server holds the client's public key from its Hello.
    expect(rig.peerOf(c)!.hello!.clientPublicKey).toEqual(c.session.keyPair.publicKey);
    const second = rig.addClient();
    await rig.run(100);
    expect(second.session.clientId).toBe(2);
    expect(second.session.welcome!.resumeToken).not.toBe(w.resumeToken);
  });

  it('refuses another protocol version with VersionMismatch on both sides', async () => {
    const rig = new SessionRig();
    const raw = rig.addRaw();
    raw.hello({ protocolVersion: PROTOCOL_VERSION + 1 });
    await rig.run(100);
    expect(raw.fatalError()?.code).toBe(ErrorCode.VersionMismatch);
    expect(raw.fatalError()?.message).toMatch(
      new RegExp(`protocol ${PROTOCOL_VERSION + 1}.*server speaks ${PROTOCOL_VERSION}`),
    );
    expect(rig.log.errors.map((e) => e.code)).toContain('VersionMismatch');
    expect(rig.server.peers.size).toBe(0);
    expect(rig.log.events).toEqual([]);

    // The client side: a server of another version answers the Hello with a fatal VersionMismatch.
    const fake = new SessionRig();
    fake.network.server.onconnection = (link) => {
      const server = fake.addRawOn(link);
      server.onMessage = () =>
        server.send(Tag.Error, { code: ErrorCode.VersionMismatch, message: 'server speaks 2', fatal: true });
    };
    const c = fake.addClient();
    await fake.run(200);
    expect(c.session.state).toBe('error');
    expect(c.session.lastError?.code).toBe('VersionMismatch');
    expect(c.session.lastError?.message).toMatch(/server speaks 2/);
    // A fatal error never turns into reconnect attempts.
    await fake.run(3000);
    expect(c.links.length).toBe(1);
  });

  it('refuses another schema with SchemaMismatch on both sides', async () => {
    const rig = new SessionRig();
    const c = rig.addClient({ schemaHash: '0000000000000000' });
    await rig.run(200);
    expect(c.session.state).toBe('error');
    expect(c.states).toEqual(['connecting', 'error']);
    expect(c.session.lastError?.code).toBe('SchemaMismatch');
    expect(c.session.lastError?.message).toMatch(/same protocol module/);
    expect(rig.log.errors.map((e) => e.code)).toContain('SchemaMismatch');
    expect(rig.server.peers.size).toBe(0);
  });

  it('lets authorize pick role and user id, and refuses bad credentials with Unauthorized', async () => {
    const rig = new SessionRig({
      server: {
        authorize: (hello) =>
          hello.auth === 'admin-secret' ? { role: 'admin', userId: 'ada' } : hello.auth === 'guest' ? {} : false,
      },
    });
    const admin = rig.addClient({ auth: 'admin-secret' });
    const guest = rig.addClient({ auth: 'guest' });
    const intruder = rig.addClient({ auth: 'wrong' });
    await rig.run(200);
    expect(admin.session.welcome?.role).toBe('admin');
    expect(admin.session.welcome?.userId).toBe('ada');
    expect(guest.session.welcome?.role).toBe('participant');
    expect(intruder.session.state).toBe('error');
    expect(intruder.session.lastError?.code).toBe('Unauthorized');
    expect(rig.log.errors.some((e) => e.code === 'Unauthorized')).toBe(true);
    expect([...rig.server.peers.values()].map((p) => [p.clientId, p.role, p.userId])).toEqual([
      [1, 'admin', 'ada'],
      [2, 'participant', undefined],
    ]);
  });

  it('waits for an async authorize, and refuses when it rejects or throws', async () => {
    let release: (v: { role: string }) => void = () => {};
    let calls = 0;
    const rig = new SessionRig({
      server: {
        authorize: (hello) => {
          calls++;
          if (hello.auth === 'slow') return new Promise((r) => (release = r));
          if (hello.auth === 'throws') throw new Error('auth service down');
          return Promise.reject(new Error('no such user'));
        },
      },
    });
    const slow = rig.addClient({ auth: 'slow' });
    const rejected = rig.addClient({ auth: 'nobody' });
    const thrown = rig.addClient({ auth: 'throws' });
    await rig.run(300);
    expect(calls).toBe(3);
    expect(slow.session.state).toBe('connecting');
    expect(rejected.session.lastError?.code).toBe('Unauthorized');
    expect(thrown.session.lastError?.code).toBe('Unauthorized');
    expect(rig.log.errors.some((e) => /auth service down/.test(e.message))).toBe(true);
    release({ role: 'viewer' });
    await rig.run(200);
    expect(slow.session.state).toBe('connected');
    expect(slow.session.welcome?.role).toBe('viewer');
  });

  it('refuses banned users (by user id, by key, by hook) with Banned', async () => {
    const rig = new SessionRig({
      server: {
        authorize: (hello) => ({ userId: hello.auth }),
        isBanned: (_hello, userId) => userId === 'troll',
      },
    });
    rig.server.bannedIds.add('mallory');
    const byId = rig.addClient({ auth: 'mallory' });
    const byHook = rig.addClient({ auth: 'troll' });
    const fine = rig.addClient({ auth: 'alice' });
    await rig.run(200);
    expect(byId.session.lastError?.code).toBe('Banned');
    expect(byHook.session.lastError?.code).toBe('Banned');
    expect(fine.session.state).toBe('connected');
    // A key ban holds whatever user id the client claims.
    rig.server.bannedIds.add(toHex(fine.session.keyPair.publicKey));
    const again = rig.addClient({ auth: 'alice-2', keyPair: fine.session.keyPair });
    await rig.run(200);
    expect(again.session.lastError?.code).toBe('Banned');
  });

  it('refuses malformed Hellos with DecodeError and ignores everything before a valid Hello', async () => {
    const rig = new SessionRig();
    const bad = rig.addRaw();
    bad.send(Tag.Ping, { clientTime: 1 }); // before Hello: ignored
    bad.send(Tag.Hello, { protocolVersion: 'one', schemaHash: 5 });
    await rig.run(100);
    expect(bad.messages(Tag.Pong)).toEqual([]);
    expect(bad.fatalError()?.code).toBe(ErrorCode.DecodeError);
    const shortKey = rig.addRaw();
    shortKey.hello({ clientPublicKey: new Uint8Array(31) });
    await rig.run(100);
    expect(shortKey.fatalError()?.code).toBe(ErrorCode.DecodeError);
    expect(rig.server.peers.size).toBe(0);
  });

  it('closes a link that never says Hello after the handshake timeout', async () => {
    const rig = new SessionRig();
    const mute = rig.addRaw();
    await rig.run(HANDSHAKE_TIMEOUT_MS - 100);
    expect(mute.connection.isOpen).toBe(true);
    await rig.run(1500);
    expect(mute.connection.isOpen).toBe(false);
    expect(rig.log.errors.some((e) => e.code === 'Timeout')).toBe(true);
  });

  it('a lost Challenge is sent again: the client still joins long before the handshake timeout', async () => {
    const rig = new SessionRig();
    const c = rig.addClient({ bare: true, conditions: { down: { latencyMs: 20, loss: 1 } } });
    await rig.run(60); // the Challenge (and anything else down) is dropped
    expect(rig.network.linkStats(c.links[0]).down.dropped).toBeGreaterThan(0);
    expect(rig.server.proofs.counters.challenged).toBe(1);
    rig.network.setConditions(c.links[0], { down: { latencyMs: 20 } });
    await rig.run(1000);
    expect(c.session.state).toBe('connected');
    expect(rig.server.proofs.counters).toEqual({ challenged: 1, proven: 1, refused: 0 });
  });
});
