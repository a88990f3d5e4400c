import { describe, expect, it } from 'vitest';
import { createPermissionTable, DEFAULT_PERMISSIONS, roleRank, senderAllowed } from '../../src/authority/roles.ts';
import { Tag, type TagName } from '../../src/protocol/tags.ts';

describe('permission table', () => {
  it('lets viewers read and talk but not write, act, edit or control', () => {
    const t = createPermissionTable();
    for (const tag of [Tag.Ping, Tag.Goodbye, Tag.ResyncRequest, Tag.Subscribe, Tag.Signal, Tag.NotifySubscribe])
      expect(t.allows(tag, 'viewer', false)).toBe(true);
    for (const tag of [Tag.Delta, Tag.InputPoses, Tag.Action, Tag.CommandEntry, Tag.OwnershipRequest, Tag.Kick])
      expect(t.allows(tag, 'viewer', false)).toBe(false);
    expect(t.allows(Tag.Delta, 'participant', false)).toBe(true);
    expect(t.allows(Tag.RoleChange, 'participant', false)).toBe(false);
    expect(t.allows(Tag.RoleChange, 'admin', false)).toBe(true);
  });

  it('treats unknown roles as viewers and unlisted tags as writers-only by default', () => {
    const t = createPermissionTable();
    expect(t.allows(Tag.Delta, 'superuser', false)).toBe(false);
    expect(t.allows(Tag.Ping, 'superuser', false)).toBe(true);
    expect(t.allows(8000, 'viewer', false)).toBe(false);
    expect(t.allows(8000, 'participant', false)).toBe(true);
    expect(createPermissionTable({}, ['viewer', 'participant', 'admin']).allows(8000, 'viewer', false)).toBe(true);
  });

  it('overrides replace the defaults per tag; host-only tags need the host', () => {
    const t = createPermissionTable({ [Tag.Kick]: ['host'], [Tag.Action]: ['viewer', 'participant', 'admin'] });
    expect(t.allows(Tag.Kick, 'admin', false)).toBe(false);
    expect(t.allows(Tag.Kick, 'admin', true)).toBe(true);
    expect(t.allows(Tag.Action, 'viewer', false)).toBe(true);
    expect(t.senders(Tag.Kick)).toEqual(['host']);
  });

  it('lists every client-to-server tag that exists', () => {
    const listed = new Set(Object.keys(DEFAULT_PERMISSIONS).map(Number));
    const clientTags: TagName[] = ['Delta', 'ResyncRequest', 'Action', 'CommandEntry', 'OwnershipRelease', 'Ban'];
    for (const name of clientTags) expect(listed.has(Tag[name]), name).toBe(true);
  });

  it('ranks roles on a ladder with the host on top', () => {
    expect(['viewer', 'participant', 'admin'].map((r) => roleRank(r))).toEqual([0, 1, 2]);
    expect(roleRank('admin', true)).toBe(3);
    expect(roleRank('nonsense')).toBe(0);
    expect(senderAllowed(['admin'], 'admin', false)).toBe(true);
    expect(senderAllowed(['host'], 'admin', false)).toBe(false);
    expect(senderAllowed(['viewer'], 'mystery', false)).toBe(true);
  });
});
