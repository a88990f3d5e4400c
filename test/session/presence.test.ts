/** Presence through the world API: who is in, status changes, idle detection, suspension, leaving, and events. */
import { createWorld } from 'bitecs';
import { describe, expect, it } from 'vitest';
import {
  clientIdOf,
  connectionStateOf,
  createNetworkPlugin,
  notePresenceActivity,
  onSessionEvent,
  presenceOf,
  serverTimeOf,
  setPresenceStatus,
  type ClientPluginOptions,
  type Link,
  type PresenceUser,
} from '../../src/index.ts';
import { defineFixture, Stepper, type Peer } from '../helpers/fixture.ts';
import { flushMicrotasks } from './session-harness.ts';

const links = new WeakMap<Peer, Link>();

function addClient(s: Stepper, extra: Partial<ClientPluginOptions> = {}): Peer {
  const fx = defineFixture();
  const world = createWorld();
  const errors: Error[] = [];
  const link = s.network.connect();
  const net = createNetworkPlugin(world, {
    role: 'client',
    protocol: fx.protocol,
    link,
    clock: s.clock,
    sendRateHz: 60,
    onError: (e) => errors.push(e),
    ...extra,
  } as ClientPluginOptions);
  const peer = { ...fx, world, net, errors };
  s.clients.push(peer);
  links.set(peer, link);
  return peer;
}

async function run(s: Stepper, ms: number): Promise<void> {
  const end = s.clock.now() + ms;
  while (s.clock.now() < end) {
    s.step();
    await flushMicrotasks();
  }
}

const brief = (users: readonly PresenceUser[]) =>
  users.map((u) => `${u.clientId}:${u.role}:${u.status}${u.suspended ? ':suspended' : ''}`);

describe('presence', () => {
  it('every client sees who is in, with role, status and connectedAt, and follows joins, statuses and leaves', async () => {
    const s = new Stepper({
      seed: 51,
      server: () => ({
        authorize: (hello) => ({ role: hello.auth === 'host' ? 'admin' : 'participant', userId: hello.auth }),
      }),
    });
    const host = addClient(s, { auth: 'host' });
    await run(s, 200);
    const joinedAt = s.clock.now();
    const guest = addClient(s, { auth: 'guest' });
    const seenByHost: string[][] = [];
    onSessionEvent(host.world, 'presence', (users) => seenByHost.push(brief(users)));
    await run(s, 200);
    expect(brief(presenceOf(host.world))).toEqual(['1:admin:active', '2:participant:active']);
    expect(brief(presenceOf(guest.world))).toEqual(['1:admin:active', '2:participant:active']);
    expect(brief(presenceOf(s.server.world))).toEqual(['1:admin:active', '2:participant:active']);
    const g = presenceOf(host.world)[1];
    expect(g.userId).toBe('guest');
    expect(g.connectedAt).toBeGreaterThanOrEqual(joinedAt);
    expect(g.connectedAt).toBeLessThanOrEqual(joinedAt + 100);

    setPresenceStatus(guest.world, 'away');
    await run(s, 200);
    expect(brief(presenceOf(host.world))[1]).toBe('2:participant:away');
    expect(brief(presenceOf(s.server.world))[1]).toBe('2:participant:away');
    expect(() => setPresenceStatus(guest.world, 'asleep' as never)).toThrow(/unknown/);
    expect(() => setPresenceStatus(s.server.world, 'away')).toThrow(/client call/);

    await guest.net.dispose();
    s.clients.splice(s.clients.indexOf(guest), 1);
    await run(s, 200);
    expect(brief(presenceOf(host.world))).toEqual(['1:admin:active']);
    expect(seenByHost).toEqual([
      ['1:admin:active', '2:participant:active'],
      ['1:admin:active', '2:participant:away'],
      ['1:admin:active'],
    ]);
  });

  it('marks a suspended client as such, and detects idle and away from input inactivity', async () => {
    const s = new Stepper({ seed: 52 });
    const watcher = addClient(s);
    const user = addClient(s, { idle: { idleAfterMs: 2000, awayAfterMs: 5000 } });
    await run(s, 200);
    const me = clientIdOf(user.world);
    const statusOf = () => presenceOf(watcher.world).find((u) => u.clientId === me)?.status;
    for (let i = 0; i < 10; i++) {
      notePresenceActivity(user.world);
      await run(s, 500);
    }
    expect(statusOf()).toBe('active');
    await run(s, 2500);
    expect(statusOf()).toBe('idle');
    await run(s, 3000);
    expect(statusOf()).toBe('away');
    notePresenceActivity(user.world);
    await run(s, 200);
    expect(statusOf()).toBe('active');
    // A manual status sticks through inactivity until the next activity.
    setPresenceStatus(user.world, 'idle');
    await run(s, 6000);
    expect(statusOf()).toBe('idle');
    notePresenceActivity(user.world);
    await run(s, 200);
    expect(statusOf()).toBe('active');

    // Suspension shows up in everyone's list; the bare-link client then ends (it cannot reconnect).
    s.network.cut(links.get(user)!);
    await run(s, 3500);
    expect(presenceOf(watcher.world).find((u) => u.clientId === me)?.suspended).toBe(true);
    expect(connectionStateOf(user.world)).toBe('closed');
    expect(connectionStateOf(watcher.world)).toBe('connected');
    expect(Math.abs(serverTimeOf(watcher.world) - serverTimeOf(s.server.world))).toBeLessThanOrEqual(20);
  });
});
