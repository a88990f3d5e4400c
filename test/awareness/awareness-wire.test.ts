import { describe, expect, it } from 'vitest';
import { field } from '../../src/protocol/field-schema.ts';
import { awarenessField, compileAwareness, normalizeValue } from '../../src/awareness/awareness-schema.ts';
import {
  motionToWire,
  parseClear,
  parseMotionBody,
  parseSet,
  parseSnapshot,
} from '../../src/awareness/awareness-wire.ts';

const schema = compileAwareness({
  selection: awarenessField.list(field.entity(), 4),
  tool: awarenessField.discrete(field.enum(['select', 'move'])),
  talking: awarenessField.discrete(field.bool()),
  cursor: awarenessField.continuous(field.quantized(-10, 10, 0.01), 3),
});
const i = (name: string) => schema.index.get(name)!;

describe('awareness schema', () => {
  it('rejects mistakes at once', () => {
    expect(() => compileAwareness({})).toThrow(/Usage/);
    expect(() => compileAwareness({ t: awarenessField.continuous(field.enum(['a'])) })).toThrow(/continuous/);
    expect(() => compileAwareness({ s: awarenessField.list(field.entity(), 0) })).toThrow(/length/);
  });

  it('clamps and rounds quantized values, maps enum names, refuses wrong shapes', () => {
    const cursor = schema.fields[i('cursor')];
    expect(normalizeValue(cursor, [20, -0.004, 1.234])).toEqual([10, 0, expect.closeTo(1.23, 6)]);
    expect(normalizeValue(cursor, [1, 2])).toBeNull();
    expect(normalizeValue(cursor, [1, 2, Number.NaN])).toBeNull();
    expect(normalizeValue(schema.fields[i('tool')], 'move', true)).toBe(1);
    expect(normalizeValue(schema.fields[i('tool')], 2)).toBeNull();
    expect(normalizeValue(schema.fields[i('selection')], [1, 2, 3, 4, 5])).toBeNull();
  });
});

describe('awareness wire parsers', () => {
  it('accepts a valid set and refuses continuous, duplicate, unknown or oversize fields', () => {
    expect(parseSet({ d: [[i('tool'), 1]] }, schema)).toEqual([[i('tool'), 1]]);
    expect(parseSet({ d: [[i('cursor'), [0, 0, 0]]] }, schema)).toBeNull();
    expect(
      parseSet(
        {
          d: [
            [i('tool'), 1],
            [i('tool'), 0],
          ],
        },
        schema,
      ),
    ).toBeNull();
    expect(parseSet({ d: [[99, 1]] }, schema)).toBeNull();
    expect(parseSet({ d: [[i('selection'), [1, 2, 3, 4, 5]]] }, schema)).toBeNull();
    expect(parseSet({ d: 'x' }, schema)).toBeNull();
  });

  it('parses motion with a bounded sequence and one slot per continuous field', () => {
    // The cursor is quantized over [-10, 10] at 0.01: it travels as integer steps above -10.
    const back = parseMotionBody({ s: 3, c: [[1000, 1100, 2000]] }, schema, false);
    expect(back).toEqual({ u: 0, s: 3, c: [[expect.closeTo(0, 9), expect.closeTo(1, 9), expect.closeTo(10, 9)]] });
    expect(parseMotionBody({ s: 3, c: [[1000, 1100, 2001]] }, schema, false)).toBeNull();
    expect(parseMotionBody({ s: 3, c: [[1000, 1100.5, 0]] }, schema, false)).toBeNull();
    expect(parseMotionBody({ s: 3, c: motionToWire([[-2.5, 0.01, 9.99]], schema) }, schema, false)?.c).toEqual([
      [expect.closeTo(-2.5, 9), expect.closeTo(0.01, 9), expect.closeTo(9.99, 9)],
    ]);
    expect(motionToWire([[-2.5, 0.01, 9.99]], schema)).toEqual([[750, 1001, 1999]]);
    expect(parseMotionBody({ s: -1, c: [[1, 2, 3]] }, schema, false)).toBeNull();
    expect(parseMotionBody({ s: 1, c: [] }, schema, false)).toBeNull();
    expect(parseMotionBody({ s: 1, c: [null] }, schema, true)).toBeNull();
    expect(parseMotionBody({ u: 7, s: 1, c: [null] }, schema, true)).toEqual({ u: 7, s: 1, c: [null] });
  });

  it('parses clears and bounded snapshots', () => {
    expect(parseClear({ u: 2, r: 'left' })).toEqual({ u: 2, r: 'left' });
    expect(parseClear({ u: 2, r: 'gone' })).toBeNull();
    const rec = [5, 9, [[i('talking'), true]], [null]];
    expect(parseSnapshot({ h: schema.hash, r: [rec] }, schema, 4)?.records).toHaveLength(1);
    expect(parseSnapshot({ h: schema.hash, f: true, r: [] }, schema, 4)?.full).toBe(true);
    expect(parseSnapshot({ h: schema.hash, r: [rec, rec] }, schema, 1)).toBeNull();
    expect(parseSnapshot({ r: [rec] }, schema, 4)).toBeNull();
    expect(parseSnapshot({ h: 'x'.repeat(17), r: [rec] }, schema, 4)).toBeNull();
  });
});
