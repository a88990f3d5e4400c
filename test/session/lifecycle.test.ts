/** Resume tokens (rotation, theft), reconnect backoff, Goodbye, Shutdown and bare links, on the bare session rig. */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import { Tag } from '../../src/protocol/tags.ts';
import { createKeyPair, signResume } from '../../src/session/identity.ts';
import { backoffDelayMs, DEFAULT_RECONNECT } from '../../src/session/session-options.ts';
import type { ClientTransport, Link } from '../../src/transport/transport.ts';
import { SessionRig } from './session-harness.ts';

async function cutAndResume(rig: SessionRig, c: ReturnType<SessionRig['addClient']>): Promise<void> {
  rig.network.cut(c.links[c.links.length - 1]);
  const links = c.links.length;
  for (let i = 0; i < 1000 && !(c.links.length > links && c.session.state === 'connected'); i++) await rig.run(20);
}

describe('resume tokens', () => {
  it('rotate on every resume; the old token, and a token without its key, are refused with Unauthorized', async () => {
    const rig = new SessionRig({ server: { authorize: () => ({ role: 'viewer' }) } });
    const keyPair = createKeyPair();
    const c = rig.addClient({ keyPair });
    await rig.run(200);
    const first = c.session.welcome!;
    await cutAndResume(rig, c);
    const second = c.session.welcome!;
    expect(second.resumed).toBe(true);
    expect(second.clientId).toBe(first.clientId);
    expect(second.role).toBe('viewer');
    expect(second.resumeToken).not.toBe(first.resumeToken);
    expect(rig.log.events).toEqual(['joined 1', 'suspended 1', 'resumed 1']);

    // The old token, properly signed by the real key: already used.
    const replay = rig.addRaw();
    replay.hello(
      {
        resumeToken: first.resumeToken,
        clientPublicKey: keyPair.publicKey,
        resumeProof: signResume(first.sessionId, first.resumeToken, keyPair.secretKey),
      },
      keyPair,
    );
    // The current token, stolen, without the key: another key (proven, but not the session's: Unauthorized), and
    // the session's key without its secret, with no resume proof or one by another key (IdentityUnproven).
    const thief = createKeyPair();
    const stolen = [
      { resumeToken: second.resumeToken, clientPublicKey: thief.publicKey },
      { resumeToken: second.resumeToken, clientPublicKey: keyPair.publicKey },
      {
        resumeToken: second.resumeToken,
        clientPublicKey: keyPair.publicKey,
        resumeProof: signResume(second.sessionId, second.resumeToken, thief.secretKey),
      },
    ].map((fields) => {
      const raw = rig.addRaw();
      raw.hello(fields, thief);
      return raw;
    });
    await rig.run(200);
    expect(replay.fatalError()?.code).toBe(ErrorCode.Unauthorized);
    expect(replay.fatalError()?.message).toMatch(/already used/);
    expect(stolen.map((raw) => raw.fatalError()?.code)).toEqual([
      ErrorCode.Unauthorized,
      ErrorCode.IdentityUnproven,
      ErrorCode.IdentityUnproven,
    ]);
    for (const raw of stolen) expect(raw.messages(Tag.Welcome)).toEqual([]);
    // The real client never noticed, and can still resume with its token.
    expect(c.session.state).toBe('connected');
    expect(rig.server.peers.size).toBe(1);
    await cutAndResume(rig, c);
    expect(c.session.welcome!.resumed).toBe(true);
    expect(c.session.clientId).toBe(first.clientId);
    expect(rig.peerOf(c)!.counters.resumes).toBe(2);
  });

  it('a client that notices first takes its session over from the link the server still thinks is alive', async () => {
    const rig = new SessionRig({ server: { heartbeatMs: 1000 } });
    const c = rig.addClient({ heartbeatMs: 200, reconnect: { initialDelayMs: 10, maxDelayMs: 10, seed: 2 } });
    await rig.run(200);
    rig.network.cut(c.links[0]);
    await rig.run(800);
    expect(c.session.state).toBe('connected');
    expect(c.session.welcome!.resumed).toBe(true);
    expect(c.links.length).toBe(2);
    // The server was not going to suspend it for another 2 s: the resume replaced the old link at once.
    expect(rig.log.events).toEqual(['joined 1', 'suspended 1', 'resumed 1']);
    expect(rig.server.peers.get(1)!.connection.isOpen).toBe(true);
  });
});

describe('reconnect', () => {
  it('backs off exponentially with jitter while connecting fails, then resumes', async () => {
    const rig = new SessionRig();
    const attempts: number[] = [];
    let failures = 5;
    const links: Link[] = [];
    const transport: ClientTransport = {
      connect: () => {
        attempts.push(rig.clock.now());
        if (attempts.length > 1 && failures-- > 0) return Promise.reject(new Error('offline'));
        const link = rig.network.connect();
        links.push(link);
        return Promise.resolve(link);
      },
    };
    const c = rig.addClient({ transport });
    await rig.run(200);
    rig.network.cut(links[0]);
    await rig.run(15_000);
    expect(c.session.state).toBe('connected');
    expect(c.session.welcome!.resumed).toBe(true);
    expect(attempts.length).toBe(7);
    expect(c.states).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
    // Delays between attempts: within [d/2, d] (+ one frame) for d = 250, 500, 1000, 2000, 4000 ms.
    for (let i = 2; i < attempts.length; i++) {
      const d = DEFAULT_RECONNECT.initialDelayMs * 2 ** (i - 1);
      const gap = attempts[i] - attempts[i - 1];
      expect(gap).toBeGreaterThanOrEqual(d / 2);
      expect(gap).toBeLessThanOrEqual(d + 20);
    }
    expect(backoffDelayMs(40, DEFAULT_RECONNECT, 0)).toBe(DEFAULT_RECONNECT.maxDelayMs);
    expect(backoffDelayMs(0, DEFAULT_RECONNECT, 1)).toBe(DEFAULT_RECONNECT.initialDelayMs / 2);
  });

  it('a client with a bare link cannot reconnect: it goes to closed and says so', async () => {
    const rig = new SessionRig();
    const c = rig.addClient({ bare: true });
    await rig.run(200);
    rig.network.cut(c.links[0]);
    await rig.run(4000);
    expect(c.session.state).toBe('closed');
    expect(c.session.closeReason).toMatch(/bare link and cannot reconnect/);
    expect(c.errors.some((e) => /pass a transport/.test(e.message))).toBe(true);
    expect(c.links.length).toBe(1);
  });
});

describe('goodbye and shutdown', () => {
  it('Goodbye ends the session at once, without suspension', async () => {
    const rig = new SessionRig();
    const leaving = rig.addClient();
    const staying = rig.addClient();
    await rig.run(200);
    leaving.session.close();
    expect(leaving.session.state).toBe('closed');
    await rig.run(50);
    expect(rig.log.events).toEqual(['joined 1', 'joined 2', 'left 1 goodbye']);
    expect(rig.server.suspended.size).toBe(0);
    expect(staying.session.presence.map((u) => u.clientId)).toEqual([2]);
    await rig.run(5000);
    expect(leaving.links.length).toBe(1);
  });

  it('Shutdown closes every client, which do not try to reconnect', async () => {
    const rig = new SessionRig();
    const a = rig.addClient();
    const b = rig.addClient({ bare: true });
    await rig.run(200);
    await rig.server.shutdown();
    await rig.run(100);
    for (const c of [a, b]) {
      expect(c.session.state).toBe('closed');
      expect(c.session.closeReason).toMatch(/shut down/);
      expect(c.session.lastError).toBeNull();
    }
    expect(rig.log.events).toEqual(['joined 1', 'joined 2', 'left 1 shutdown', 'left 2 shutdown']);
    await rig.run(5000);
    expect(a.links.length).toBe(1);
  });
});
