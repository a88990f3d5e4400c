/** Every field kind against the typed-array columns that can and cannot hold it. */
import { describe, expect, it } from 'vitest';
import { field, type FieldSpec } from '../../src/protocol/field-schema.ts';
import { columnMismatch } from '../../src/protocol/field-columns.ts';
import { createProtocol, NetError, registerComponent } from '../../src/index.ts';

const N = 4;
const columns = {
  Uint8Array: new Uint8Array(N),
  Int8Array: new Int8Array(N),
  Uint16Array: new Uint16Array(N),
  Int16Array: new Int16Array(N),
  Uint32Array: new Uint32Array(N),
  Int32Array: new Int32Array(N),
  Float32Array: new Float32Array(N),
  Float64Array: new Float64Array(N),
  BigInt64Array: new BigInt64Array(N),
  Array: [0, 0, 0, 0],
};
type Col = keyof typeof columns;

/** The columns each kind accepts; every other column is refused. */
const accepted: Array<[string, FieldSpec, Col[]]> = [
  [
    'bool',
    field.bool(),
    [
      'Uint8Array',
      'Int8Array',
      'Uint16Array',
      'Int16Array',
      'Uint32Array',
      'Int32Array',
      'Float32Array',
      'Float64Array',
      'Array',
    ],
  ],
  [
    'u8',
    field.u8(),
    ['Uint8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'Array'],
  ],
  ['i8', field.i8(), ['Int8Array', 'Int16Array', 'Int32Array', 'Float32Array', 'Float64Array', 'Array']],
  ['u16', field.u16(), ['Uint16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'Array']],
  ['i16', field.i16(), ['Int16Array', 'Int32Array', 'Float32Array', 'Float64Array', 'Array']],
  ['u32', field.u32(), ['Uint32Array', 'Float64Array', 'Array']],
  ['i32', field.i32(), ['Int32Array', 'Float64Array', 'Array']],
  ['f32', field.f32(), ['Float32Array', 'Float64Array', 'Array']],
  ['f64', field.f64(), ['Float64Array', 'Array']],
  ['quantized mm', field.quantized(-32, 32, 0.001), ['Float32Array', 'Float64Array', 'Array']],
  [
    'quantized integer steps',
    field.quantized(0, 200, 1),
    ['Uint8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'Array'],
  ],
  [
    'enum of 5',
    field.enum(['a', 'b', 'c', 'd', 'e']),
    [
      'Uint8Array',
      'Int8Array',
      'Uint16Array',
      'Int16Array',
      'Uint32Array',
      'Int32Array',
      'Float32Array',
      'Float64Array',
      'Array',
    ],
  ],
  ['entity', field.entity(), ['Uint32Array', 'Float64Array', 'Array']],
];

describe('columnMismatch', () => {
  for (const [name, spec, ok] of accepted) {
    it(`${name}: accepts ${ok.join(', ')} and nothing else`, () => {
      for (const col of Object.keys(columns) as Col[]) {
        const why = columnMismatch(spec, columns[col]);
        if (ok.includes(col)) expect(why, col).toBeNull();
        else expect(why, col).toEqual(expect.any(String));
      }
    });
  }

  it('an enum with more values than a Uint8Array indexes is refused there', () => {
    const values = Array.from({ length: 300 }, (_, i) => `v${i}`);
    expect(columnMismatch(field.enum(values), new Uint8Array(1))).toMatch(/300 enum values/);
    expect(columnMismatch(field.enum(values), new Uint16Array(1))).toBeNull();
  });
});

describe('registerComponent checks the column type', () => {
  it('an f32 field on a Uint8Array is a Usage error naming the component, field and array type', () => {
    const C = { v: new Uint8Array(N) };
    let err: unknown;
    try {
      registerComponent(createProtocol(), C, { name: 'Heat', fields: { v: field.f32() } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetError);
    expect((err as NetError).code).toBe('Usage');
    expect((err as NetError).message).toMatch(/'Heat' field 'v': array 'v' is a Uint8Array: an f32 field needs/);
    expect((err as NetError).fix).toBeTruthy();
  });

  it('each quaternion array is checked', () => {
    const Q = { qx: new Float32Array(N), qy: new Float32Array(N), qz: new Int16Array(N), qw: new Float32Array(N) };
    expect(() => registerComponent(createProtocol(), Q, { name: 'Rot', fields: { r: field.quat() } })).toThrow(
      /array 'qz' is a Int16Array/,
    );
  });
});
