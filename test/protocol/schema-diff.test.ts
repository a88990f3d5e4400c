/** SchemaMismatch names the first component and field that differ; the server's summary is bounded and validated. */
import { describe, expect, it } from 'vitest';
import {
  connectionErrorOf,
  connectionStateOf,
  createProtocol,
  field,
  registerComponent,
  type FieldSpec,
  type Protocol,
} from '../../src/index.ts';
import {
  describeSchemaDifference,
  MAX_SCHEMA_DETAIL_BYTES,
  parseSchemaSummary,
  summarizeSchema,
} from '../../src/protocol/schema-diff.ts';
import { Stepper } from '../helpers/fixture.ts';

function protocolOf(build: (p: Protocol) => void): Protocol {
  const p = createProtocol();
  build(p);
  return p;
}
const pose =
  (px: FieldSpec = field.quantized(-32, 32, 0.001)) =>
  (p: Protocol) =>
    registerComponent(
      p,
      { px: new Float32Array(4), py: new Float32Array(4) },
      { name: 'Pose', fields: { px, py: field.f32() } },
    );
const hp = (p: Protocol) =>
  registerComponent(p, { hp: new Uint16Array(4) }, { name: 'Health', fields: { hp: field.u16() } });

const diff = (client: Protocol, server: Protocol) =>
  describeSchemaDifference(client.manifest, parseSchemaSummary(summarizeSchema(server.manifest))!);

describe('describeSchemaDifference', () => {
  it('names the component and field whose kind differs, with both definitions', () => {
    const server = protocolOf((p) => (pose()(p), hp(p)));
    const client = protocolOf((p) => (pose(field.f32())(p), hp(p)));
    expect(diff(client, server)).toBe(
      `component 'Pose' field 'px': server {"kind":"quantized","min":-32,"max":32,"precision":0.001}, client {"kind":"f32"}`,
    );
    expect(diff(server, server)).toBeNull();
  });

  it('names components missing, reordered or renamed, and fields present on one side only', () => {
    const both = protocolOf((p) => (pose()(p), hp(p)));
    const onlyPose = protocolOf(pose());
    const swapped = protocolOf((p) => (hp(p), pose()(p)));
    expect(diff(onlyPose, both)).toBe(`component #1 'Health' is registered on the server only`);
    expect(diff(both, onlyPose)).toBe(`component #1 'Health' is registered on the client only`);
    expect(diff(swapped, both)).toBe(`component #0: server registers 'Pose', client 'Health'`);
    const extra = protocolOf((p) =>
      registerComponent(
        p,
        { px: new Float32Array(4), py: new Float32Array(4), pz: new Float32Array(4) },
        { name: 'Pose', fields: { px: field.quantized(-32, 32, 0.001), py: field.f32(), pz: field.f32() } },
      ),
    );
    expect(diff(extra, onlyPose)).toBe(`component 'Pose' field 'pz' is on the client only`);
  });

  it('beyond the byte budget rows carry only their hash, and the difference names the component', () => {
    const server = protocolOf((p) => (pose()(p), hp(p)));
    const client = protocolOf((p) => (pose(field.f32())(p), hp(p)));
    const summary = summarizeSchema(server.manifest, 10);
    expect(summary.c.every((r) => r.length === 2)).toBe(true);
    expect(describeSchemaDifference(client.manifest, summary)).toBe(`component 'Pose': its fields differ`);
  });
});

describe('parseSchemaSummary (network input)', () => {
  it('accepts what summarizeSchema makes and refuses every other shape', () => {
    const good = summarizeSchema(protocolOf(pose()).manifest);
    expect(parseSchemaSummary(good)).toEqual(good);
    const row = good.c[0];
    for (const bad of [
      null,
      [],
      { v: 1 },
      { v: 1.5, c: [] },
      { v: 1, c: [[1, row[1]]] },
      { v: 1, c: [[row[0], 'not-a-hash']] },
      { v: 1, c: [[row[0], row[1], 7]] },
      { v: 1, c: [[row[0], row[1], row[2], 'extra']] },
      { v: 1, c: Array.from({ length: 256 }, () => [row[0], row[1]]) },
      { v: 1, c: [[row[0], row[1], 'x'.repeat(MAX_SCHEMA_DETAIL_BYTES + 1)]] },
      {
        v: 1,
        c: [
          [row[0], row[1], 'x'.repeat(9000)],
          [row[0], row[1], 'x'.repeat(9000)],
        ],
      },
    ])
      expect(parseSchemaSummary(bad), JSON.stringify(bad)?.slice(0, 80)).toBeNull();
  });

  it('hostile field JSON (not JSON, not an array, nested deep) never throws', () => {
    const local = protocolOf(pose()).manifest;
    const [name, hash] = summarizeSchema(protocolOf(hp).manifest).c[0];
    for (const json of ['{', '"x"', '['.repeat(5000) + ']'.repeat(5000), '[{"name":{"a":1}}]'])
      expect(() =>
        describeSchemaDifference(local, { v: 1, c: [[name === 'Pose' ? name : 'Pose', hash, json]] }),
      ).not.toThrow();
  });
});

describe('SchemaMismatch over the wire', () => {
  it('the client error names the first component and field that differ', () => {
    const s = new Stepper();
    const c = s.addClient(undefined, (fx) => {
      // The fixture's protocol, but Floats.f64 registered as f32 (a Float64Array holds an f32 field).
      const p = createProtocol();
      for (const comp of fx.protocol.components) {
        const fields = Object.fromEntries(comp.fields.map((f) => [f.name, f.spec]));
        if (comp.name === 'Floats') fields.f64 = field.f32();
        registerComponent(p, { ...comp.store }, { name: comp.name, fields });
      }
      return p;
    });
    s.run(30);
    expect(connectionStateOf(c.world)).toBe('error');
    const err = connectionErrorOf(c.world);
    expect(err?.code).toBe('SchemaMismatch');
    expect(err?.message).toMatch(
      /same protocol module; first difference: component 'Floats' field 'f64': server \{"kind":"f64"\}, client \{"kind":"f32"\}/,
    );
  });
});
