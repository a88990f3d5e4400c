/** Roles and permissions: viewers are read only, admins change roles at once, kick, ban, and the host migrates. */
import { describe, expect, it } from 'vitest';
import {
  clientIdOf,
  connectionErrorOf,
  connectionStateOf,
  entityOfNetworkId,
  isOwnedLocally,
  networkIdOf,
  ownerOf,
  Tag,
  type CommandTypes,
  Grabbable,
} from '../../src/index.ts';
import { spawn, type Stepper } from '../helpers/fixture.ts';
import { createRoom, join, peerCounters, type RoomClient, run } from './authority-harness.ts';

const commandTypes: CommandTypes = { note: { policy: 'last-writer-wins' } };

function leave(s: Stepper, c: RoomClient): Promise<void> {
  s.clients.splice(s.clients.indexOf(c), 1);
  return c.net.dispose();
}

describe('roles and permissions', () => {
  it('a viewer cannot write, act, send commands or grab; it still reads', async () => {
    let actionsRun = 0;
    const { s, authority } = createRoom({
      seed: 31,
      authority: () => ({ commandTypes, onAction: () => ++actionsRun }),
    });
    const v = join(s, 'viewer:vic', () => ({ commandTypes }));
    const p = join(s, 'participant:pam', () => ({ commandTypes }));
    await run(s, 10);
    const box = spawn(s.server, [s.server.Pose, Grabbable]);
    const ball = spawn(s.server, [s.server.Pose, Grabbable]);
    await run(s, 10);
    const idv = clientIdOf(v.world);
    const boxV = entityOfNetworkId(v.world, networkIdOf(s.server.world, box));
    const ballV = entityOfNetworkId(v.world, networkIdOf(s.server.world, ball));
    expect(boxV).toBeGreaterThan(0); // it reads

    // Owner writes: even an entity the server hands to a viewer cannot be written by it.
    authority.grant(box, idv);
    await run(s, 10);
    expect(isOwnedLocally(v.world, boxV)).toBe(true);
    await run(s, 20, (peer) => {
      if (peer === v) v.Pose.px[boxV] = 42;
    });
    expect(s.server.Pose.px[box]).toBe(0);
    expect(peerCounters(s, idv).rejectedWrites).toBeGreaterThan(0);
    const forbiddenWrites = authority.stats().forbidden;
    expect(forbiddenWrites).toBeGreaterThan(0);
    expect(v.errors.some((e) => (e as { code?: string }).code === 'Forbidden')).toBe(true);

    // Actions: refused before the handler, and the optimistic change is rolled back.
    let optimistic = 0;
    const action = v.authority.act(
      { kind: 'paint' },
      {
        optimistic: () => {
          optimistic++;
          return () => optimistic--;
        },
      },
    );
    expect(optimistic).toBe(1);
    await run(s, 10);
    await expect(action).rejects.toMatchObject({ code: 'forbidden' });
    expect(optimistic).toBe(0);
    expect(actionsRun).toBe(0);

    // Commands: refused, counted, applied nowhere.
    const rejected: string[] = [];
    v.authority.events.on('commandRejected', (_seq, reason) => rejected.push(reason));
    v.authority.command('note', 'n1', 'hello');
    await run(s, 10);
    expect(rejected).toEqual(['forbidden']);
    expect(authority.stats().commands.forbidden).toBe(1);
    expect(authority.commands.records.size).toBe(0);
    expect(p.authority.commands.records.size).toBe(0);

    // Grabs: refused.
    const grab = v.authority.requestOwnership(ballV);
    await run(s, 10);
    expect(await grab).toBe(false);
    expect(ownerOf(s.server.world, ball)).toBe(0);
    // The participant, by contrast, may do all of it.
    p.authority.command('note', 'n1', 'from pam');
    await run(s, 10);
    expect(p.authority.commands.records.get('n1')?.value).toBe('from pam');
  });

  it('an admin changes a role and it applies at once: rights, ownership and interest', async () => {
    const secret = new Set<number>();
    const room = createRoom({
      seed: 32,
      server: {
        interest: { predicate: (clientId, eid) => !secret.has(eid) || room.authority.roleOf(clientId) !== 'viewer' },
      },
    });
    const { s, authority } = room;
    const admin = join(s, 'admin:ada');
    const p = join(s, 'participant:pam');
    const other = join(s, 'participant:olga');
    await run(s, 10);
    const idp = clientIdOf(p.world);
    const box = spawn(s.server, [s.server.Pose, Grabbable]);
    const vault = spawn(s.server, [s.server.Pose, Grabbable]);
    secret.add(vault);
    await run(s, 10);
    const vaultNet = networkIdOf(s.server.world, vault);
    expect(entityOfNetworkId(p.world, vaultNet)).toBeGreaterThan(0);
    const boxP = entityOfNetworkId(p.world, networkIdOf(s.server.world, box));
    const grab = p.authority.requestOwnership(boxP);
    await run(s, 5);
    expect(await grab).toBe(true);

    // A participant may not change roles.
    other.authority.setRole(idp, 'viewer');
    await run(s, 5);
    expect(authority.roleOf(idp)).toBe('participant');
    expect(authority.stats().forbidden).toBe(1);

    // The admin makes P a viewer: within a few frames it holds nothing, sees no vault and its role says so.
    const seen: string[] = [];
    p.authority.events.on('roleChanged', (id, role) => seen.push(`${id}:${role}`));
    admin.authority.setRole(idp, 'viewer');
    await run(s, 3);
    expect(authority.roleOf(idp)).toBe('viewer');
    expect(ownerOf(s.server.world, box)).toBe(0);
    expect(isOwnedLocally(p.world, boxP)).toBe(false);
    expect(entityOfNetworkId(p.world, vaultNet)).toBe(0);
    expect(p.authority.role).toBe('viewer');
    expect(seen).toEqual([`${idp}:viewer`]);
    const rejectedBefore = peerCounters(s, idp).rejectedWrites;
    authority.grant(box, idp);
    await run(s, 5);
    expect(isOwnedLocally(p.world, boxP)).toBe(true);
    await run(s, 10, (peer) => {
      if (peer === p) p.Pose.px[boxP] = 7;
    });
    expect(peerCounters(s, idp).rejectedWrites).toBeGreaterThan(rejectedBefore);
    expect(s.server.Pose.px[box]).toBe(0);
    authority.grant(box, 0);

    // Back to participant: the vault comes back and grabs work again.
    admin.authority.setRole(idp, 'participant');
    await run(s, 3);
    expect(entityOfNetworkId(p.world, vaultNet)).toBeGreaterThan(0);
    const again = p.authority.requestOwnership(boxP);
    await run(s, 5);
    expect(await again).toBe(true);
  });

  it('a kicked client may come back; a banned one is refused with Banned', async () => {
    const { s, authority } = createRoom({ seed: 33 });
    const admin = join(s, 'admin:ada');
    const kim = join(s, 'participant:kim');
    const ben = join(s, 'participant:ben');
    await run(s, 10);
    const removed: string[] = [];
    kim.authority.events.on('removed', (reason, banned) => removed.push(`kim ${reason} ${banned}`));
    ben.authority.events.on('removed', (reason, banned) => removed.push(`ben ${reason} ${banned}`));

    admin.authority.kick(clientIdOf(kim.world), 'spam');
    admin.authority.ban(clientIdOf(ben.world), 'abuse');
    await run(s, 30);
    expect(removed).toEqual(['kim spam false', 'ben abuse true']);
    expect(connectionStateOf(kim.world)).toBe('error');
    expect(connectionErrorOf(kim.world)?.code).toBe('Forbidden');
    expect(connectionErrorOf(ben.world)?.code).toBe('Banned');
    expect(authority.stats().control).toMatchObject({ kicks: 1, bans: 1 });
    await leave(s, kim);
    await leave(s, ben);

    const kim2 = join(s, 'participant:kim');
    const ben2 = join(s, 'participant:ben');
    await run(s, 30);
    expect(connectionStateOf(kim2.world)).toBe('connected');
    expect(connectionStateOf(ben2.world)).toBe('error');
    expect(connectionErrorOf(ben2.world)?.code).toBe('Banned');
    expect(authority.roleOf(clientIdOf(kim2.world))).toBe('participant');
    // Lifting the ban lets the user in again.
    expect(authority.unban('ben')).toBe(true);
    await leave(s, ben2);
    const ben3 = join(s, 'participant:ben');
    await run(s, 30);
    expect(connectionStateOf(ben3.world)).toBe('connected');
  });

  it('admins act only below their rank, and the host privilege migrates when the host leaves', async () => {
    const { s, authority } = createRoom({ seed: 34, authority: () => ({ permissions: { [Tag.Kick]: ['host'] } }) });
    const first = join(s, 'admin:ada');
    await run(s, 5);
    const second = join(s, 'admin:bea');
    const p = join(s, 'participant:pam');
    await run(s, 10);
    const [ida, idb] = [clientIdOf(first.world), clientIdOf(second.world)];
    expect(authority.control.hostId).toBe(ida);
    expect([first, second, p].map((c) => c.authority.hostId)).toEqual([ida, ida, ida]);
    expect(first.authority.isHost).toBe(true);

    // Kick is host-only in this table: the second admin is refused; an admin cannot demote the host either.
    second.authority.kick(clientIdOf(p.world));
    second.authority.setRole(ida, 'participant');
    // The host may not hand over to a participant.
    first.authority.handOverHost(clientIdOf(p.world));
    await run(s, 10);
    expect(connectionStateOf(p.world)).toBe('connected');
    expect(authority.roleOf(ida)).toBe('admin');
    expect(authority.control.hostId).toBe(ida);
    expect(authority.stats().forbidden).toBe(3);

    // The host leaves: the other admin becomes host on every peer.
    const changes: number[] = [];
    p.authority.events.on('hostChanged', (id) => changes.push(id));
    await leave(s, first);
    await run(s, 10);
    expect(authority.control.hostId).toBe(idb);
    expect([second, p].map((c) => c.authority.hostId)).toEqual([idb, idb]);
    expect(changes).toEqual([idb]);
    // The new host may kick now.
    second.authority.kick(clientIdOf(p.world), 'bye');
    await run(s, 10);
    expect(connectionStateOf(p.world)).toBe('error');
  });
});
