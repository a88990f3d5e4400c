/** The Move session message (tag 10): the server tells a client its room moved; hostile Move bodies are dropped. */
import { createWorld } from 'bitecs';
import { describe, expect, it } from 'vitest';
import {
  connectedClients,
  connectionStateOf,
  createNetworkPlugin,
  moveClient,
  onSessionEvent,
  type ClientPluginOptions,
  type LinkPairConditions,
  type MoveNotice,
} from '../../src/index.ts';
import { defineFixture, Stepper, type Peer } from '../helpers/fixture.ts';
import { flushMicrotasks } from './session-harness.ts';

function addClient(s: Stepper, conditions?: LinkPairConditions): Peer {
  const fx = defineFixture();
  const world = createWorld();
  const errors: Error[] = [];
  const net = createNetworkPlugin(world, {
    role: 'client',
    protocol: fx.protocol,
    link: s.network.connect(conditions),
    clock: s.clock,
    sendRateHz: 60,
    onError: (e) => errors.push(e),
  } as ClientPluginOptions);
  const peer = { ...fx, world, net, errors };
  s.clients.push(peer);
  return peer;
}

async function run(s: Stepper, ms: number): Promise<void> {
  const end = s.clock.now() + ms;
  while (s.clock.now() < end) {
    s.step();
    await flushMicrotasks();
  }
}

describe('Move', () => {
  it('moves one client: it emits moved with the URL and token and closes; others stay', async () => {
    const s = new Stepper({ seed: 7 });
    const a = addClient(s);
    const b = addClient(s);
    await run(s, 300);
    const moved: MoveNotice[] = [];
    onSessionEvent(a.world, 'moved', (n) => moved.push(n));
    onSessionEvent(b.world, 'moved', (n) => moved.push(n));
    const [first] = connectedClients(s.server.world);
    expect(moveClient(s.server.world, first, { url: 'ws://127.0.0.1:9/rooms/r1', token: 'ecs1.x.y' })).toBe(true);
    await run(s, 300);
    expect(moved).toEqual([{ url: 'ws://127.0.0.1:9/rooms/r1', token: 'ecs1.x.y' }]);
    expect(connectionStateOf(a.world)).toBe('closed');
    expect(connectionStateOf(b.world)).toBe('connected');
    expect(moveClient(s.server.world, 999, { url: 'ws://x', token: 't' })).toBe(false);
  });

  it('a Move with a bad URL or an oversized token is dropped and counted as a DecodeError', async () => {
    const s = new Stepper({ seed: 8 });
    const a = addClient(s);
    await run(s, 300);
    const moved: MoveNotice[] = [];
    onSessionEvent(a.world, 'moved', (n) => moved.push(n));
    const [id] = connectedClients(s.server.world);
    moveClient(s.server.world, id, { url: 'http://evil.example/', token: 't' });
    moveClient(s.server.world, id, { url: 'ws://ok/rooms/1', token: 'x'.repeat(5000) });
    // A geckos.io URL must be an http(s) origin without path, at most 512 characters.
    moveClient(s.server.world, id, { url: 'ws://ok/rooms/1', token: 't', geckosUrl: 'ws://ok:9' });
    moveClient(s.server.world, id, { url: 'ws://ok/rooms/1', token: 't', geckosUrl: 'http://ok:9/path' });
    moveClient(s.server.world, id, { url: 'ws://ok/rooms/1', token: 't', geckosUrl: `http://${'a'.repeat(600)}` });
    await run(s, 300);
    expect(moved).toEqual([]);
    expect(connectionStateOf(a.world)).toBe('connected');
    expect(a.errors.filter((e) => (e as { code?: string }).code === 'DecodeError')).toHaveLength(5);
  });

  it('a Move carries the new geckos.io origin when the adopter serves one', async () => {
    const s = new Stepper({ seed: 10 });
    const a = addClient(s);
    await run(s, 300);
    const moved: MoveNotice[] = [];
    onSessionEvent(a.world, 'moved', (n) => moved.push(n));
    const [id] = connectedClients(s.server.world);
    const notice = { url: 'ws://10.0.0.2:9001/rooms/r1', token: 'ecs1.x.y', geckosUrl: 'https://p2.example.com:9443' };
    expect(moveClient(s.server.world, id, notice)).toBe(true);
    await run(s, 300);
    expect(moved).toEqual([notice]);
  });

  it('a Move reaches a client over a lossy, jittery link (30 % loss each way): it is reliable', async () => {
    const s = new Stepper({ seed: 9 });
    const lossy = { latencyMs: 40, jitterMs: 15, loss: 0.3 };
    const a = addClient(s, { up: lossy, down: lossy });
    await run(s, 3000);
    expect(connectionStateOf(a.world)).toBe('connected');
    const moved: MoveNotice[] = [];
    onSessionEvent(a.world, 'moved', (n) => moved.push(n));
    const [id] = connectedClients(s.server.world);
    moveClient(s.server.world, id, { url: 'wss://play.example.com/p2/rooms/r1', token: 'ecs1.a.b' });
    await run(s, 3000);
    expect(moved).toEqual([{ url: 'wss://play.example.com/p2/rooms/r1', token: 'ecs1.a.b' }]);
    expect(connectionStateOf(a.world)).toBe('closed');
  });
});
