/**
 * The server coder's per-slot plans (baseline-block.ts `ServerBaselineCoder`): a plan is reused only while the
 * coder's state is unchanged. A forget, an ack or the next Delta between sizing and writing makes `write` plan
 * again (here: a residual sized before a forget goes absolute); a partial mask that `bits` planned absolute
 * still widens to every field; plans on different slots stay apart.
 */
import { describe, expect, it } from 'vitest';
import { BitWriter } from '../../src/codec/bit-writer.ts';
import { createProtocol, field, registerComponent } from '../../src/index.ts';
import { ServerBaselineCoder } from '../../src/replication/baseline-block.ts';

function setup() {
  const p = createProtocol();
  const f32 = () => new Float32Array(4);
  const pos = field.quantized(-32, 32, 0.001);
  registerComponent(
    p,
    { px: f32(), py: f32(), pz: f32(), qx: f32(), qy: f32(), qz: f32(), qw: f32() },
    { name: 'Pose', fields: { px: pos, py: pos, pz: pos, rot: field.quat(['qx', 'qy', 'qz', 'qw'], 10) } },
  );
  const comps = p.components;
  const wires = comps[0].fields.map(() => new Float64Array(4));
  for (const e of [1, 2]) {
    for (let f = 0; f < 3; f++) wires[f][e] = 32000 + 100 * e + f;
    wires[3][e] = 512 * 1024 + 77;
  }
  return { coder: new ServerBaselineCoder(comps), all: comps[0].allFieldsMask, wires };
}

/** Sends every field of entities 1 and 2 at `tick` and has the client ack them. */
function sendAndAck(coder: ServerBaselineCoder, wires: Float64Array[], all: number, tick: number): void {
  const w = new BitWriter();
  coder.begin(tick);
  for (const e of [1, 2]) {
    coder.bits(0, e, all, wires, e);
    coder.write(w, 0, e, all, wires, e);
  }
  for (const e of [1, 2]) coder.acked(e, 0, tick);
}

describe('server baseline coder plans', () => {
  it('plans again when the state changed between sizing and writing', () => {
    const { coder, all, wires } = setup();
    sendAndAck(coder, wires, all, 1);
    coder.begin(2);
    wires[0][1] += 3;
    // A residual (the absolute form is 1 + 3 x 16 + 32 bits).
    expect(coder.bits(0, 1, all, wires, 0)).toBeLessThan(30);
    coder.forget(1, 0);
    const w = new BitWriter();
    // The plan of slot 0 was a residual against a baseline the coder no longer has: it must go absolute now.
    expect(coder.write(w, 0, 1, all, wires, 0)).toBe(true);
    expect(w.bitLength).toBe(1);
    expect(coder.absolutes).toBe(3);
    expect(coder.residuals).toBe(0);
  });

  it('widens a partial mask that bits planned absolute, and keeps slots apart', () => {
    const { coder, all, wires } = setup();
    sendAndAck(coder, wires, all, 1);
    coder.begin(2);
    // px jumps too far for a residual: px alone would go absolute, so it goes with every field.
    wires[0][1] = 100;
    wires[1][2] += 2;
    const pxMask = 1;
    const pyMask = 2;
    coder.bits(0, 1, pxMask, wires, 0);
    expect(coder.widen(0, 2, pyMask, wires, 1)).toBe(pyMask); // a residual: stays partial
    expect(coder.widen(0, 1, pxMask, wires, 0)).toBe(all);
    // Slot 1's plan survived slot 0's work: written as sized.
    const sized = coder.bits(0, 2, pyMask, wires, 1);
    const w = new BitWriter();
    expect(coder.write(w, 0, 2, pyMask, wires, 1)).toBe(false);
    expect(w.bitLength).toBe(sized);
    expect(coder.residuals).toBe(1);
  });
});
