/**
 * Sanity micro-benchmark of the bit codec (not a test, not part of the tick-cost family): ns per call of the hot
 * BitWriter/BitReader operations and of packQuat. Run: `npx tsx bench/codec.bench.ts`.
 */
import { pathToFileURL } from 'node:url';
import { BitReader } from '../src/codec/bit-reader.ts';
import { BitWriter } from '../src/codec/bit-writer.ts';
import { packQuat } from '../src/codec/quaternion.ts';
import { quantize } from '../src/codec/quantize.ts';

/** Calls per measured round: 1,200-byte packets hold 600 x 16 bits, so 100 packets per round. */
const CALLS = 60_000;
/** Rounds; the best is reported (least disturbed by GC and JIT). */
const ROUNDS = 30;

function best(fn: () => number): number {
  let bestNs = Infinity;
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    sink += fn();
    const ns = Number(process.hrtime.bigint() - t0) / CALLS;
    if (ns < bestNs) bestNs = ns;
  }
  if (sink === -1) throw new Error('unreachable');
  return bestNs;
}

/** Measures the codec operations; returns ns per call by name. */
export function runCodecBench(): Record<string, number> {
  const w = new BitWriter();
  const r = new BitReader();
  const packet = new BitWriter();
  for (let i = 0; i < 600; i++) packet.writeBits(i * 97, 16);
  const bytes = packet.toBytes();
  return {
    'writeBits(v, 16)': best(() => {
      for (let p = 0; p < CALLS / 600; p++) {
        w.reset();
        for (let i = 0; i < 600; i++) w.writeBits(i, 16);
      }
      return w.bitLength;
    }),
    'writeBits(v, 16) misaligned by 3': best(() => {
      for (let p = 0; p < CALLS / 600; p++) {
        w.reset();
        w.writeBits(0, 3);
        for (let i = 0; i < 600; i++) w.writeBits(i, 16);
      }
      return w.bitLength;
    }),
    'readBits(16)': best(() => {
      let s = 0;
      for (let p = 0; p < CALLS / 600; p++) {
        r.reset(bytes);
        for (let i = 0; i < 600; i++) s += r.readBits(16);
      }
      return s;
    }),
    'quantize(x, -32, 32, 0.001)': best(() => {
      let s = 0;
      for (let i = 0; i < CALLS; i++) s += quantize(i * 0.001 - 30, -32, 32, 0.001);
      return s;
    }),
    'packQuat(.., 10)': best(() => {
      let s = 0;
      for (let i = 0; i < CALLS; i++) s += packQuat(0.1, 0.2 + i * 1e-6, 0.3, 0.9, 10);
      return s;
    }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const [name, ns] of Object.entries(runCodecBench())) {
    process.stdout.write(`${name.padEnd(36)} ${ns.toFixed(2)} ns/call\n`);
  }
}
