/**
 * The bytes of the WebAssembly SIMD change scan, assembled by hand (no toolchain): one module per scanned set of
 * columns of an owned store (replicated-store.ts), importing that store's memory. Its one export
 *   scan(firstBlock: i32, endBlock: i32, out: i32) -> i32
 * walks blocks of 4 entities [firstBlock, endBlock); per block it xors each column's 16 bytes with its copy's and
 * ors the results (v128.xor / v128.or: bit patterns, so +0/-0 and every NaN payload count as they do on the JS
 * path's 32-bit lanes). A block that differs has every column's 16 bytes copied over its copy, and the ids of the
 * lanes that differ (i32x4.ne against zero, i32x4.bitmask, then ctz per set bit: ascending) are stored as i32 at
 * `out`. Returns how many ids it wrote. Column offsets are constants of the code (memarg offsets), so the module
 * holds no data from the network and nothing of the user's but column counts and the store's layout.
 */
import type { WasmMemoryLike } from './replicated-store.ts';

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** `\0asm`, then binary format version 1. */
const MAGIC_AND_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

// Opcodes (WebAssembly core 2.0 and the fixed-width SIMD proposal, now core).
const I32 = 0x7f;
const V128 = 0x7b;
const SIMD = 0xfd;
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const EMPTY = 0x40;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_STORE = 0x36;
const I32_CONST = 0x41;
const I32_EQZ = 0x45;
const I32_GE_U = 0x4f;
const I32_CTZ = 0x68;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_AND = 0x71;
const I32_SHL = 0x74;
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const V128_CONST = 0x0c;
const I32X4_NE = 0x38;
const V128_OR = 0x50;
const V128_XOR = 0x51;
const V128_ANY_TRUE = 0x53;
const I32X4_BITMASK = 0xa4;

/** Where the scanned columns are: byte offsets of each source column and of its copy, in the imported memory. */
export interface ScanModuleLayout {
  /** Byte offset of each scanned column (a multiple of 16). */
  readonly sources: readonly number[];
  /** Byte offset of each column's copy, in the same order. */
  readonly copies: readonly number[];
  /** Pages the imported memory has at least. */
  readonly pages: number;
}

/** The module bytes of the scan over `layout` (see the file comment). */
export function assembleScanModule(layout: ScanModuleLayout): Uint8Array<ArrayBuffer> {
  const { sources, copies } = layout;
  const get = (i: number) => [LOCAL_GET, i];
  const set = (i: number) => [LOCAL_SET, i];
  const i32 = (v: number) => [I32_CONST, ...sleb(v)];
  const load = (offset: number) => [SIMD, V128_LOAD, 4, ...uleb(offset)];
  const store = (offset: number) => [SIMD, V128_STORE, 4, ...uleb(offset)];
  // params 0 firstBlock, 1 endBlock, 2 out; locals 3 i, 4 off, 5 mask, 6 count (i32), 7 acc (v128)
  const FIRST = 0;
  const END_BLOCK = 1;
  const OUT = 2;
  const I = 3;
  const OFF = 4;
  const MASK = 5;
  const COUNT = 6;
  const ACC = 7;
  const body: number[] = [...get(FIRST), ...set(I)];
  body.push(BLOCK, EMPTY, LOOP, EMPTY);
  body.push(...get(I), ...get(END_BLOCK), I32_GE_U, BR_IF, 1); // 1. i >= end: done
  body.push(...get(I), ...i32(4), I32_SHL, ...set(OFF)); // off = i * 16
  for (let c = 0; c < sources.length; c++) {
    // 2. acc |= source ^ copy, column by column
    body.push(...get(OFF), ...load(sources[c]), ...get(OFF), ...load(copies[c]), SIMD, V128_XOR);
    if (c > 0) body.push(SIMD, V128_OR);
  }
  body.push(LOCAL_TEE, ACC, SIMD, V128_ANY_TRUE, IF, EMPTY);
  // 3. the block differs: refresh every column's copy, then one id per differing lane, ascending
  for (let c = 0; c < sources.length; c++)
    body.push(...get(OFF), ...get(OFF), ...load(sources[c]), ...store(copies[c]));
  body.push(...get(ACC), SIMD, V128_CONST, ...new Array<number>(16).fill(0), SIMD, I32X4_NE);
  body.push(SIMD, ...uleb(I32X4_BITMASK), ...set(MASK));
  body.push(BLOCK, EMPTY, LOOP, EMPTY);
  body.push(...get(MASK), I32_EQZ, BR_IF, 1);
  body.push(...get(COUNT), ...i32(2), I32_SHL, ...get(OUT), I32_ADD); // address out + count * 4
  body.push(...get(I), ...i32(2), I32_SHL, ...get(MASK), I32_CTZ, I32_ADD); // id i * 4 + ctz(mask)
  body.push(I32_STORE, 2, 0);
  body.push(...get(COUNT), ...i32(1), I32_ADD, ...set(COUNT));
  body.push(...get(MASK), ...get(MASK), ...i32(1), I32_SUB, I32_AND, ...set(MASK)); // mask &= mask - 1
  body.push(BR, 0, END, END);
  body.push(END); // end if
  body.push(...get(I), ...i32(1), I32_ADD, ...set(I), BR, 0, END, END); // 4. next block
  body.push(...get(COUNT), END);
  const func = [2, 4, I32, 1, V128, ...body]; // local groups: 4 x i32, 1 x v128
  return new Uint8Array([
    ...MAGIC_AND_VERSION,
    ...section(1, [1, 0x60, 3, I32, I32, I32, 1, I32]), // type: (i32 i32 i32) -> i32
    ...section(2, [1, ...name('e'), ...name('m'), 0x02, 0x00, ...uleb(layout.pages)]), // import memory e.m
    ...section(3, [1, 0]), // one function of type 0
    ...section(7, [1, ...name('scan'), 0x00, 0]), // export it as 'scan'
    ...section(10, [1, ...uleb(func.length), ...func]),
  ]);
}

/** The scan function of an instantiated module. */
export type WasmScan = (firstBlock: number, endBlock: number, out: number) => number;

/**
 * Validates and instantiates the scan over `layout` in `memory`, or returns null where WebAssembly, its SIMD, or
 * compiling code at run time (a Content Security Policy without `wasm-unsafe-eval`) is not available.
 */
export function instantiateScan(layout: ScanModuleLayout, memory: WasmMemoryLike): WasmScan | null {
  if (typeof WebAssembly !== 'object' || WebAssembly === null) return null;
  try {
    const bytes = assembleScanModule(layout);
    if (!WebAssembly.validate(bytes)) return null; // no SIMD on this platform
    const m = memory as WebAssembly.Memory; // created by replicated-store.ts as a WebAssembly.Memory
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { m } });
    return instance.exports.scan as WasmScan;
  } catch {
    return null;
  }
}
