/**
 * Identity attacks: claiming a key without its secret, replaying a proof from another connection or session,
 * a banned key coming back, a server that is not the expected one, and forged command entries relayed by a
 * compromised server. Each asserts the server never throws (every step runs its receive), honest clients still
 * connect and converge, the right error code, the offender disconnected, and that nothing is held for it.
 */
import { describe, expect, it } from 'vitest';
import { decodeBody, encodeBody } from '../../src/codec/msgpack-body.ts';
import { getNetContext } from '../../src/context.ts';
import { ErrorCode } from '../../src/errors.ts';
import { parseChallenge, PROTOCOL_VERSION } from '../../src/protocol/handshake.ts';
import { Tag } from '../../src/protocol/tags.ts';
import type { CommandTypes } from '../../src/authority/command-log.ts';
import { signCommand } from '../../src/authority/command-signing.ts';
import { createKeyPair, toHex } from '../../src/session/identity.ts';
import { createNonce, signClientProof, signServerProof } from '../../src/session/identity-proof.ts';
import { encodeControl } from '../../src/codec/message-frame.ts';
import { createRoom, join, run } from '../authority/authority-harness.ts';
import { type RawPeer, SCHEMA, SessionRig } from '../session/session-harness.ts';

/** The signature `raw` would have to send for its last Challenge, made with `secretKey`. */
function proofFor(raw: RawPeer, clientPublicKey: Uint8Array, clientNonce: Uint8Array, secretKey: Uint8Array) {
  const c = parseChallenge(raw.messages(Tag.Challenge).at(-1)?.body);
  if (!c) throw new Error('no Challenge received');
  return signClientProof(
    { sessionId: c.sessionId, serverPublicKey: c.serverPublicKey, clientPublicKey, serverNonce: c.nonce, clientNonce },
    secretKey,
  );
}

describe('identity claims are proven in the handshake', () => {
  it('a claimed key with a wrong or missing signature is refused with IdentityUnproven; honest clients join', async () => {
    const rig = new SessionRig();
    const victim = createKeyPair();
    const attacker = createKeyPair();
    const wrong = rig.addRaw();
    wrong.hello({ clientPublicKey: victim.publicKey, clientNonce: createNonce() }, attacker);
    const none = rig.addRaw();
    none.hello({ clientPublicKey: victim.publicKey });
    const honest = rig.addClient({ keyPair: victim });
    await rig.run(100);
    none.send(Tag.ChallengeResponse, {});
    await rig.run(200);
    for (const raw of [wrong, none]) {
      expect(raw.fatalError()?.code).toBe(ErrorCode.IdentityUnproven);
      expect(raw.messages(Tag.Welcome)).toEqual([]);
    }
    expect(rig.log.errors.filter((e) => e.code === 'IdentityUnproven')).toHaveLength(2);
    expect(rig.server.proofs.counters).toEqual({ challenged: 3, proven: 1, refused: 2 });
    // The real holder of the key is unaffected; nothing is kept for the refused links.
    expect(honest.session.state).toBe('connected');
    expect(rig.server.peers.size).toBe(1);
    expect(rig.server.suspended.size).toBe(0);
    expect(rig.log.events).toEqual(['joined 1']);
  });

  it('a proof replayed on another connection, or against another session, is refused', async () => {
    const rig = new SessionRig();
    const victim = createKeyPair();
    const nonce = createNonce();
    const first = rig.addRaw();
    first.hello({ clientPublicKey: victim.publicKey, clientNonce: nonce }, victim);
    await rig.run(100);
    expect(first.messages(Tag.Welcome)).toHaveLength(1);
    const captured = proofFor(first, victim.publicKey, nonce, victim.secretKey);

    // Same server, a new connection, the same Hello: the nonce differs, the captured signature does not fit.
    const replay = rig.addRaw();
    replay.hello({ clientPublicKey: victim.publicKey, clientNonce: nonce });
    await rig.run(50);
    replay.send(Tag.ChallengeResponse, { signature: captured });
    // Another server (session): the same.
    const other = new SessionRig({ seed: 2 });
    const cross = other.addRaw();
    cross.hello({ clientPublicKey: victim.publicKey, clientNonce: nonce });
    await other.run(50);
    cross.send(Tag.ChallengeResponse, { signature: captured });
    await rig.run(100);
    await other.run(100);
    expect(replay.fatalError()?.code).toBe(ErrorCode.IdentityUnproven);
    expect(cross.fatalError()?.code).toBe(ErrorCode.IdentityUnproven);
    expect(rig.server.peers.size).toBe(1);
    expect(other.server.peers.size).toBe(0);
  });

  it('malformed or unsolicited responses, and a second Hello while challenged, change nothing', async () => {
    const rig = new SessionRig();
    const key = createKeyPair();
    const malformed = rig.addRaw();
    malformed.hello({ clientPublicKey: key.publicKey });
    const early = rig.addRaw();
    early.send(Tag.ChallengeResponse, { signature: new Uint8Array(64) }); // before any Hello
    const twice = rig.addRaw();
    const nonce = createNonce();
    twice.hello({ clientPublicKey: key.publicKey, clientNonce: nonce }, key);
    // Ignored: the first Hello is being proven.
    twice.send(Tag.Hello, {
      protocolVersion: PROTOCOL_VERSION,
      schemaHash: SCHEMA,
      capabilities: [],
      clientPublicKey: createKeyPair().publicKey,
    });
    await rig.run(50);
    malformed.send(Tag.ChallengeResponse, { signature: new Uint8Array(12) });
    await rig.run(100);
    expect(malformed.fatalError()?.code).toBe(ErrorCode.DecodeError);
    expect(early.fatalError()).toBeUndefined();
    expect(early.connection.isOpen).toBe(true); // still pending: it may say Hello now
    expect(twice.messages(Tag.Challenge)).toHaveLength(1);
    expect(twice.messages(Tag.Welcome)).toHaveLength(1);
    expect(rig.server.peer(1)?.hello?.clientPublicKey).toEqual(key.publicKey);
    early.hello({ clientPublicKey: key.publicKey, clientNonce: createNonce() }, key);
    await rig.run(100);
    expect(early.messages(Tag.Welcome)).toHaveLength(1);
  });

  it('a banned key cannot come back: its holder is Banned, a claimant without the secret IdentityUnproven', async () => {
    const rig = new SessionRig();
    const banned = createKeyPair();
    const c = rig.addClient({ keyPair: banned });
    const bystander = rig.addClient();
    await rig.run(200);
    rig.server.bannedIds.add(toHex(banned.publicKey));
    c.session.close();
    await rig.run(100);

    const holder = rig.addRaw();
    holder.hello({ clientPublicKey: banned.publicKey, clientNonce: createNonce() }, banned);
    const claimant = rig.addRaw();
    claimant.hello({ clientPublicKey: banned.publicKey, clientNonce: createNonce() }, createKeyPair());
    // A keyless Hello carries no identity to ban, and gets no key-based role either.
    await rig.run(200);
    expect(holder.fatalError()?.code).toBe(ErrorCode.Banned);
    expect(claimant.fatalError()?.code).toBe(ErrorCode.IdentityUnproven);
    expect(bystander.session.state).toBe('connected');
    expect([...rig.server.peers.keys()]).toEqual([bystander.session.clientId]);
  });

  it('a server key other than the expected one is a fatal ServerKeyMismatch on the client, without retries', async () => {
    const rig = new SessionRig();
    const expectedServer = createKeyPair();
    const c = rig.addClient({ expectedServerKey: expectedServer.publicKey });
    const ok = rig.addClient({ expectedServerKey: rig.server.keyPair.publicKey });
    await rig.run(3000);
    expect(c.session.state).toBe('error');
    expect(c.session.lastError?.code).toBe('ServerKeyMismatch');
    expect(c.session.lastError?.fatal).toBe(true);
    expect(c.errors.map((e) => e.code)).toEqual(['ServerKeyMismatch']);
    expect(c.links).toHaveLength(1); // no reconnect to an impostor
    expect(ok.session.state).toBe('connected');
    expect(rig.server.peers.size).toBe(1);
  });

  it('an impostor showing the expected key without its secret, or skipping the Challenge, is refused', async () => {
    const real = createKeyPair();
    for (const mode of ['bad-proof', 'no-challenge'] as const) {
      const rig = new SessionRig();
      rig.network.server.onconnection = (link) => {
        const fake = rig.addRawOn(link);
        fake.onMessage = (m) => {
          if (m.tag !== Tag.Hello) return;
          const hello = m.body as { clientPublicKey: Uint8Array; clientNonce: Uint8Array };
          if (mode === 'no-challenge') {
            fake.send(Tag.Welcome, {
              clientId: 1,
              sessionId: 'sfake',
              role: 'participant',
              capabilities: [],
              serverPublicKey: real.publicKey,
              serverTime: 0,
              resumeToken: '0'.repeat(32),
              sendRateHz: 30,
              resumed: false,
              resumeWindowMs: 0,
            });
            return;
          }
          const impostor = createKeyPair();
          const t = {
            sessionId: 'sfake',
            serverPublicKey: real.publicKey,
            clientPublicKey: hello.clientPublicKey,
            serverNonce: createNonce(),
            clientNonce: hello.clientNonce,
          };
          fake.send(Tag.Challenge, {
            sessionId: 'sfake',
            serverPublicKey: real.publicKey,
            nonce: t.serverNonce,
            serverProof: signServerProof(t, impostor.secretKey),
          });
        };
      };
      const c = rig.addClient({ expectedServerKey: real.publicKey });
      await rig.run(500);
      expect(c.session.state, mode).toBe('error');
      expect(c.session.lastError?.code, mode).toBe('ServerKeyMismatch');
      expect(rig.raws[0].messages(Tag.ChallengeResponse), mode).toEqual([]);
    }
  });
});

/** One last-writer-wins command type. */
const types: CommandTypes = { select: { policy: 'last-writer-wins' } };

describe('clients re-verify relayed command signatures', () => {
  it('a forged entry relayed by a compromised server is refused, counted and reported; the log stays aligned', async () => {
    const { s, authority } = createRoom({ authority: () => ({ commandTypes: types }) });
    const a = join(s, 'participant:a', () => ({ commandTypes: types }));
    const b = join(s, 'participant:b', () => ({ commandTypes: types }));
    await run(s, 30);
    a.authority.command('select', 'sel:0', [1]);
    await run(s, 20);
    expect(b.authority.commands.records.get('sel:0')?.value).toEqual([1]);

    // The server's relay to b is compromised: it rewrites the next entry it relays to b.
    const ctx = getNetContext(s.server.world);
    if (ctx.role !== 'server') throw new Error('server expected');
    const conn = ctx.session.peer(b.authority.clientId)!.connection;
    const send = conn.sendReliable.bind(conn);
    let tampered = 0;
    const tamperNext = (rewrite: (row: unknown[]) => void) => {
      conn.sendReliable = (msg: Uint8Array) => {
        const d = decodeBody(msg.subarray(2));
        if ((msg[0] | (msg[1] << 8)) !== Tag.CommandEntry || !d.ok) return send(msg);
        const body = d.value as { i: number; e: unknown[][] };
        for (const row of body.e) rewrite(row);
        tampered += body.e.length;
        conn.sendReliable = send;
        return send(encodeControl(Tag.CommandEntry, body));
      };
    };
    tamperNext((row) => (row[6] = encodeBody([666]))); // a's payload changed, a's signature kept
    a.authority.command('select', 'sel:0', [2]);
    await run(s, 20);
    expect(tampered).toBe(1);
    // b refused it: sel:0 keeps the last authentic value; a and the server have the real one.
    expect(b.authority.forgedCommands).toBe(1);
    expect(b.errors.filter((e) => (e as { code?: string }).code === 'ForgedCommand')).toHaveLength(1);
    expect(b.authority.commands.records.get('sel:0')?.value).toEqual([1]);
    expect(a.authority.commands.records.get('sel:0')?.value).toEqual([2]);
    expect(authority.commands.records.get('sel:0')?.value).toEqual([2]);
    expect(b.authority.commands.index).toBe(a.authority.commands.index);

    // A server-authored entry re-signed by another key (the server's own key is in the Welcome) is refused too.
    const stranger = createKeyPair();
    tamperNext((row) => {
      const [author, seq, counter, base, type, target, payload] = row as [
        number,
        number,
        number,
        number,
        string,
        string,
        Uint8Array,
      ];
      row[7] = signCommand(
        ctx.session.sessionId,
        { author, seq, counter, base, type, target, payload },
        stranger.secretKey,
      );
    });
    authority.command('select', 'sel:9', [9]);
    await run(s, 20);
    expect(tampered).toBe(2);
    expect(b.authority.forgedCommands).toBe(2);
    expect(b.authority.commands.records.has('sel:9')).toBe(false);
    expect(a.authority.commands.records.get('sel:9')?.value).toEqual([9]);
    // Later authentic entries still apply on b at the same indexes as everywhere else (b skipped the forged one).
    b.authority.command('select', 'sel:1', [5]);
    await run(s, 20);
    expect(a.authority.commands.records.get('sel:1')?.value).toEqual([5]);
    expect(b.authority.commands.records.get('sel:1')?.value).toEqual([5]);
    expect(a.authority.forgedCommands).toBe(0);
    expect(b.net.stats()).toHaveLength(1); // still connected
  });
});
