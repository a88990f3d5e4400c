import { describe, expect, it } from 'vitest';
import { isKnownTag, Tag, tagFamily, tagName } from '../../src/protocol/tags.ts';
import type { TagName } from '../../src/protocol/tags.ts';

describe('message tags', () => {
  it('every tag is a distinct u16 and names map back', () => {
    const values = Object.values(Tag);
    expect(new Set(values).size).toBe(values.length);
    for (const name of Object.keys(Tag) as TagName[]) {
      const v = Tag[name];
      expect(Number.isInteger(v) && v >= 0 && v <= 0xffff).toBe(true);
      expect(tagName(v)).toBe(name);
      expect(isKnownTag(v)).toBe(true);
    }
  });

  it('keeps the wire values of the SPEC table', () => {
    expect([Tag.Hello, Tag.Shutdown, Tag.Snapshot, Tag.Correction, Tag.Presence, Tag.Signal]).toEqual([
      0, 7, 1000, 1011, 2000, 3000,
    ]);
    expect([Tag.Notify, Tag.ActionErr, Tag.OwnershipRelease, Tag.TelemetryReport]).toEqual([4000, 5003, 6008, 7004]);
    expect([Tag.AwarenessSet, Tag.AwarenessMotionRelay, Tag.AwarenessSnapshot]).toEqual([2003, 2006, 2008]);
  });

  it('families follow the ranges, for known and unknown tags', () => {
    expect(tagFamily(Tag.Ping)).toBe('core');
    expect(tagFamily(Tag.InputPoses)).toBe('state');
    expect(tagFamily(Tag.Unsubscribe)).toBe('presence');
    expect(tagFamily(Tag.Signal)).toBe('signalling');
    expect(tagFamily(Tag.Notify)).toBe('notifications');
    expect(tagFamily(Tag.Progress)).toBe('actions');
    expect(tagFamily(Tag.Kick)).toBe('authority');
    expect(tagFamily(Tag.AssetChunk)).toBe('assets');
    expect(tagFamily(999)).toBe('core');
    expect(tagFamily(1999)).toBe('state');
    expect(tagFamily(7999)).toBe('assets');
    expect(tagFamily(8000)).toBe('unknown');
    expect(tagFamily(-1)).toBe('unknown');
    expect(tagFamily(1.5)).toBe('unknown');
    expect(tagFamily(NaN)).toBe('unknown');
    for (const name of Object.keys(Tag) as TagName[]) expect(tagFamily(Tag[name])).not.toBe('unknown');
  });

  it('unknown tags are reported as such', () => {
    expect(tagName(999)).toBeUndefined();
    expect(tagName(20)).toBeUndefined();
    expect(tagName(10)).toBe('Move');
    expect(isKnownTag(1999)).toBe(false);
    expect(isKnownTag(65535)).toBe(false);
    expect(tagName(-1)).toBeUndefined();
  });
});
