/**
 * The short-string field kind below the plugin: registration checks and the schema hash, shadow change
 * detection, entity blocks that carry and validate strings, and the packer keeping reliable-only components out
 * of the unreliable Delta. Plus a fuzz of Delta bodies with strings: never a throw, never an invalid string kept.
 */
import { describe, expect, it } from 'vitest';
import { BitReader } from '../../src/codec/bit-reader.ts';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { MAX_SHORT_STRING_BYTES } from '../../src/codec/short-string.ts';
import { createProtocol, createRandom, field, NetError, registerComponent } from '../../src/index.ts';
import { FieldKind } from '../../src/protocol/field-schema.ts';
import { DeliveryState } from '../../src/replication/delivery-state.ts';
import {
  applyEntityUpdates,
  type ApplyResult,
  createPackScratch,
  type DeltaInfo,
  readDeltaHeader,
  writeDelta,
} from '../../src/replication/delta-packer.ts';
import { EntityRegistry } from '../../src/replication/entity-registry.ts';
import { ShadowStore } from '../../src/replication/shadow-store.ts';
import { openBody } from '../../src/replication/wire-bodies.ts';
import { defineStringFixture, NAME_BYTES } from '../helpers/strings-fixture.ts';

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof NetError && e.code === 'Usage') return e.message;
    throw e;
  }
  throw new Error('no Usage error');
}

/** Sender and receiver halves over the fixture's protocol, one entity (eid 1, network id 1) with every component. */
function halves() {
  const tx = defineStringFixture();
  const rx = defineStringFixture();
  const make = (fx: ReturnType<typeof defineStringFixture>) => {
    const comps = fx.protocol.components;
    const reg = new EntityRegistry(comps.length, 16);
    reg.add(1, 1);
    for (let c = 0; c < comps.length; c++) reg.has[c][1] = 1;
    const shadow = new ShadowStore(comps, reg, 16);
    const refused: string[] = [];
    shadow.onInvalidString = (f, _eid, why) => refused.push(`${f.name}: ${why}`);
    return {
      fx,
      comps,
      reg,
      shadow,
      scratch: createPackScratch(comps),
      d: new DeliveryState(comps.length, 16),
      refused,
    };
  };
  return { a: make(tx), b: make(rx) };
}

type Half = ReturnType<typeof halves>['a'];

function apply(h: Half, msg: Uint8Array): ApplyResult {
  const r = new BitReader();
  openBody(r, msg);
  const info: DeltaInfo = { tick: 0, dependsOn: 0, count: 0 };
  const result: ApplyResult = { ok: true, applied: 0, forbidden: 0, unknown: 0 };
  if (!readDeltaHeader(r, info)) return { ...result, ok: false };
  applyEntityUpdates(
    r,
    info,
    h.scratch,
    h.comps,
    h.shadow,
    h.reg,
    h.reg,
    { canWrite: () => true, updateShadow: true },
    result,
  );
  return result;
}

describe('short string field: registration', () => {
  it('checks maxBytes and the column, and the kind and maxBytes are part of the schema hash', () => {
    const reg = (maxBytes: number, column: unknown = []) =>
      registerComponent(
        createProtocol(),
        { name: column },
        { name: 'L', fields: { name: field.shortString(maxBytes) } },
      );
    expect(usage(() => reg(0))).toMatch(/maxBytes 0 out of range/);
    expect(usage(() => reg(MAX_SHORT_STRING_BYTES + 1))).toMatch(/out of range/);
    expect(usage(() => reg(2.5))).toMatch(/out of range/);
    expect(usage(() => reg(16, new Uint8Array(4)))).toMatch(/plain array/);
    const compiled = reg(MAX_SHORT_STRING_BYTES);
    expect(compiled.fields[0].kind).toBe(FieldKind.shortString);
    expect(FieldKind.shortString).toBe(13);
    expect(compiled.reliable).toBe(true);
    const hashOf = (maxBytes: number) => {
      const p = createProtocol();
      registerComponent(p, { name: [] }, { name: 'L', fields: { name: field.shortString(maxBytes) } });
      return p;
    };
    expect(hashOf(24).schemaHash).not.toBe(hashOf(25).schemaHash);
    expect(hashOf(24).manifest.components[0]).toEqual({
      name: 'L',
      fields: [{ name: 'name', kind: 'shortString', maxBytes: 24 }],
    });
    // A component without strings stays on the unreliable path.
    const p = createProtocol();
    expect(registerComponent(p, { x: new Float32Array(4) }, { name: 'X', fields: { x: field.f32() } }).reliable).toBe(
      false,
    );
  });
});

describe('short string field: shadow, blocks and the packer', () => {
  it('a changed string is detected once, travels only in the reliable Delta, and arrives intact', () => {
    const { a, b } = halves();
    const Label = 1;
    a.fx.Label.name[1] = 'Ünïcødé 🎉';
    a.fx.Label.color[1] = 200;
    a.fx.Body.x[1] = 3;
    for (let c = 0; c < a.comps.length; c++) {
      const mask = a.shadow.detect(c, 1);
      if (mask !== 0) a.d.mark(1, c, mask);
    }
    expect(a.d.pending[Label][1]).toBe(0b11);
    expect(a.shadow.detect(Label, 1)).toBe(0);
    const w = new BitWriter();
    // 1. the unreliable Delta carries Body only; Label stays pending
    const unreliable = writeDelta(w, a.scratch, a.comps, a.shadow, a.reg, a.d, {
      tick: 5,
      dependsOn: 0xffff,
      budgetBytes: 1200,
    })!;
    expect(a.d.pending[0][1]).toBe(0);
    expect(a.d.pending[Label][1]).toBe(0b11);
    expect(apply(b, unreliable.slice()).ok).toBe(true);
    expect(b.fx.Body.x[1]).toBeCloseTo(3, 2);
    expect(b.fx.Label.name[1]).toBeUndefined();
    // 2. the reliable Delta carries Label and clears it without recording it for resend
    const inflight = a.d.inflight[1];
    const h = { tick: 5, dependsOn: 0xffff, budgetBytes: 1200, reliable: true };
    const reliable = writeDelta(w, a.scratch, a.comps, a.shadow, a.reg, a.d, h)!.slice();
    expect(a.d.pending[Label][1]).toBe(0);
    expect(a.d.inflight[1]).toBe(inflight);
    expect(writeDelta(w, a.scratch, a.comps, a.shadow, a.reg, a.d, h)).toBeNull();
    expect(apply(b, reliable).ok).toBe(true);
    expect(b.fx.Label.name[1]).toBe('Ünïcødé 🎉');
    expect(b.fx.Label.color[1]).toBe(200);
    expect(b.shadow.wire[Label][0][1]).toBe(a.shadow.wire[Label][0][1]);
  });

  it('a reliable Delta takes an entity larger than its budget rather than stalling', () => {
    const { a } = halves();
    a.fx.Label.name[1] = 'y'.repeat(NAME_BYTES);
    a.d.mark(1, 1, a.shadow.detect(1, 1));
    const msg = writeDelta(new BitWriter(), a.scratch, a.comps, a.shadow, a.reg, a.d, {
      tick: 1,
      dependsOn: 0,
      budgetBytes: 8,
      reliable: true,
    });
    expect(msg).not.toBeNull();
    expect(msg!.length).toBeGreaterThan(8 + NAME_BYTES);
  });

  it('refuses over-length and non-string local values once, keeping the last valid one', () => {
    const { a } = halves();
    a.fx.Label.name[1] = 'ok';
    expect(a.shadow.detect(1, 1)).toBe(0b01);
    a.fx.Label.name[1] = 'é'.repeat(NAME_BYTES / 2 + 1); // 26 bytes
    expect(a.shadow.detect(1, 1)).toBe(0);
    expect(a.shadow.detect(1, 1)).toBe(0);
    expect(a.refused).toEqual([`name: has ${NAME_BYTES + 2} UTF-8 bytes; its maxBytes is ${NAME_BYTES}`]);
    expect(a.shadow.text[1][0][1]).toBe('ok');
    (a.fx.Label.name as unknown[])[1] = { toString: () => 'sneaky' };
    expect(a.shadow.detect(1, 1)).toBe(0);
    expect(a.shadow.invalidStrings).toBe(2);
    a.fx.Label.name[1] = 'ok'; // back to the valid value: no change to send
    expect(a.shadow.detect(1, 1)).toBe(0);
    a.fx.Label.name[1] = 'é'.repeat(NAME_BYTES / 2);
    expect(a.shadow.detect(1, 1)).toBe(0b01);
  });
});

/** A Delta for entity 1 whose Label name is the raw `bytes` with length prefix `len`. */
function rawNameDelta(len: number, bytes: number[]): Uint8Array {
  const w = new BitWriter();
  w.writeBits(0, 16); // tag (skipped by openBody)
  w.writeVarUint(9); // tick
  w.writeBits(0xffff, 16);
  w.writeVarUint(1); // count
  w.writeVarUint(1); // netId
  w.writeBits(0b010, 3); // presence: Label only
  w.writeBits(0, 1); // not all fields
  w.writeBits(0b01, 2); // mask: name
  w.writeVarUint(len);
  w.writeBytes(Uint8Array.from(bytes));
  return w.toBytes();
}

describe('short string field: hostile input', () => {
  it('over-length, malformed UTF-8 and truncated strings are refused and change nothing', () => {
    const { b } = halves();
    b.fx.Label.name[1] = 'before';
    const ascii = (n: number) => Array.from({ length: n }, () => 0x61);
    const good = apply(b, rawNameDelta(3, [0x61, 0x62, 0x63]));
    expect(good.ok).toBe(true);
    expect(b.fx.Label.name[1]).toBe('abc');
    const bad: Array<[string, Uint8Array]> = [
      ['over maxBytes', rawNameDelta(NAME_BYTES + 1, ascii(NAME_BYTES + 1))],
      ['huge length', rawNameDelta(2 ** 40, ascii(4))],
      ['overlong NUL', rawNameDelta(2, [0xc0, 0x80])],
      ['surrogate', rawNameDelta(3, [0xed, 0xa0, 0x80])],
      ['above U+10FFFF', rawNameDelta(4, [0xf4, 0x90, 0x80, 0x80])],
      ['stray continuation', rawNameDelta(1, [0x80])],
      ['truncated', rawNameDelta(5, [0x61, 0x62])],
    ];
    for (const [, msg] of bad) expect(apply(b, msg).ok).toBe(false);
    expect(b.fx.Label.name[1]).toBe('abc');
  });

  it('fuzz: mutated Delta bodies with strings never throw, and whatever lands is valid and within maxBytes', () => {
    const { a, b } = halves();
    const rnd = createRandom(2024);
    const samples = ['', 'Alice', '日本語', '🎉🦄', 'x'.repeat(NAME_BYTES)];
    const fatal = new TextDecoder('utf-8', { fatal: true });
    const enc = new TextEncoder();
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      a.fx.Label.name[1] = samples[rnd.int(samples.length)] + (i % 2 ? '' : '');
      a.fx.Badge.title[1] = samples[rnd.int(3)];
      a.fx.Label.color[1] = rnd.int(256);
      a.d.mark(1, 1, 0b11);
      a.d.mark(1, 2, 0b1);
      const h = { tick: i + 1, dependsOn: 0, budgetBytes: 1200, reliable: true };
      const msg = writeDelta(new BitWriter(), a.scratch, a.comps, a.shadow, a.reg, a.d, h)!.slice();
      const flips = 1 + rnd.int(4);
      for (let k = 0; k < flips; k++) msg[2 + rnd.int(msg.length - 2)] ^= 1 << rnd.int(8);
      const cut = rnd.next() < 0.2 ? msg.subarray(0, 2 + rnd.int(msg.length - 2)) : msg;
      let result: ApplyResult | null = null;
      expect(() => (result = apply(b, cut))).not.toThrow();
      if (!result!.ok) refused++;
      for (const [s, max] of [
        [b.fx.Label.name[1], NAME_BYTES],
        [b.fx.Badge.title[1], 8],
      ] as const) {
        if (s === undefined) continue;
        expect(typeof s).toBe('string');
        expect(enc.encode(s).length).toBeLessThanOrEqual(max);
        expect(fatal.decode(enc.encode(s))).toBe(s);
      }
    }
    expect(refused).toBeGreaterThan(100);
  });
});
